import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Certificate issuing")
struct IssuerTests {
    /// openssl verify of a leaf against root + issuing CA, with `-x509_strict` and a purpose.
    private func verify(_ leaf: Certificate, _ pki: X509TestPKI, purpose: String?) throws -> ToolResult {
        let scratch = try X509Scratch()
        try scratch.write("root.pem", certificates: [pki.root.certificate])
        try scratch.write("issuing.pem", certificates: [pki.issuing.certificate])
        try scratch.write("leaf.pem", certificates: [leaf])
        var arguments = ["verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted", "issuing.pem"]
        if let purpose { arguments += ["-purpose", purpose] }
        return try scratch.openssl(arguments + ["leaf.pem"])
    }

    @Test("openssl verify accepts each profile for its purpose and refuses a wrong one",
          arguments: [
              (CertificateProfile.userSigning, "smimesign", "sslserver"),
              (.tlsServer, "sslserver", "sslclient"),
              (.tlsClient, "sslclient", "sslserver"),
              (.domainServer, "sslserver", "timestampsign"),
              (.domainServer, "sslclient", "timestampsign"),
              // Servers sign their CMS statements (transfer assertions, notifications).
              (.domainServer, "smimesign", "timestampsign"),
              (.ocspResponder, "ocsphelper", "sslclient"),
              (.registrySigner, "smimesign", "sslserver"),
              (.userEncryption, "any", "smimesign"),
          ])
    func profilesInteroperate(_ profile: CertificateProfile, _ good: String, _ bad: String) throws {
        let pki = try X509TestPKI()
        let (leaf, _) = try pki.leaf(profile)
        let accepted = try verify(leaf, pki, purpose: good)
        #expect(accepted.status == 0, "\(accepted.all)")
        #expect(accepted.output.contains("leaf.pem: OK"))
        let refused = try verify(leaf, pki, purpose: bad)
        #expect(refused.status != 0)
        #expect(refused.all.contains("error 26 at 0 depth"), "\(refused.all)")  // X509_V_ERR_INVALID_PURPOSE
    }

    @Test("RSA encryption and TLS server certificates pass smimeencrypt and sslserver")
    func rsaProfilesInteroperate() throws {
        let pki = try X509TestPKI()
        let key = try PrivateKey.generate(.rsa3072)
        let (encryption, _) = try pki.leaf(.userEncryption, key: key)
        #expect(try verify(encryption, pki, purpose: "smimeencrypt").status == 0)
        #expect(try verify(encryption, pki, purpose: "sslserver").status != 0)
        let (server, _) = try pki.leaf(.tlsServer, key: key)
        #expect(try verify(server, pki, purpose: "sslserver").status == 0)
        #expect(try verify(server, pki, purpose: "smimeencrypt").status != 0)
    }

    @Test("the issuing CA passes crlsign and is refused as a TLS server")
    func issuingCAPurposes() throws {
        let pki = try X509TestPKI()
        let scratch = try X509Scratch()
        try scratch.write("root.pem", certificates: [pki.root.certificate])
        try scratch.write("issuing.pem", certificates: [pki.issuing.certificate])
        let ok = try scratch.openssl(["verify", "-x509_strict", "-CAfile", "root.pem", "-purpose", "crlsign",
                                      "issuing.pem"])
        #expect(ok.status == 0, "\(ok.all)")
        let refused = try scratch.openssl(["verify", "-CAfile", "root.pem", "-purpose", "sslserver", "issuing.pem"])
        #expect(refused.status != 0)
    }

    @Test("openssl sees critical CA constraints, the OCSP no-check extension and the policy")
    func opensslText() throws {
        let pki = try X509TestPKI()
        let (responder, _) = try pki.leaf(.ocspResponder)
        let scratch = try X509Scratch()
        try scratch.write("issuing.pem", certificates: [pki.issuing.certificate])
        try scratch.write("responder.pem", certificates: [responder])
        let ca = try scratch.openssl(["x509", "-in", "issuing.pem", "-noout", "-text"])
        #expect(ca.output.contains("X509v3 Basic Constraints: critical"))
        #expect(ca.output.contains("CA:TRUE, pathlen:0"))
        #expect(ca.output.contains("Certificate Sign, CRL Sign"))
        #expect(ca.output.contains("Version: 3 (0x2)"))
        #expect(ca.output.contains("ecdsa-with-SHA256"))
        let leaf = try scratch.openssl(["x509", "-in", "responder.pem", "-noout", "-text"])
        #expect(leaf.output.contains("OCSP No Check"))
        #expect(leaf.output.contains("OCSP Signing"))
        #expect(leaf.output.contains("Policy: \(X509TestPKI.policy)"))
        #expect(leaf.output.contains("OCSP - URI:\(X509TestPKI.ocspURL)"))
    }

    @Test("random serials are positive, 16 octets and differ; an explicit serial is kept")
    func serials() throws {
        let pki = try X509TestPKI()
        let first = try pki.leaf(.tlsClient).certificate.serialNumber
        let second = try pki.leaf(.tlsClient).certificate.serialNumber
        #expect(first.count == 16 && second.count == 16)
        #expect(first != second)
        #expect(first[first.startIndex] & 0x80 == 0)
        let key = try PrivateKey.generate(.ecP256)
        let explicit = try pki.issuing.issue(.tlsClient, CertificateParameters(
            subject: DistinguishedName([("CN", "Fixed")]), publicKey: key.publicKey, notBefore: pki.now,
            notAfter: pki.now + 3600, serialNumber: Data([0x01, 0x02, 0x03])))
        #expect(explicit.serialNumber == Data([0x01, 0x02, 0x03]))
    }

    @Test("a certificate issued from a CSR takes the CSR's subject, key and names")
    func issueFromRequest() throws {
        let pki = try X509TestPKI()
        let key = try PrivateKey.generate(.ecP256)
        let request = try CertificateSigningRequest(
            subject: DistinguishedName([("O", "Example"), ("CN", "Bob")]), key: key,
            emailAddresses: ["bob@example.test"])
        let cert = try pki.issuing.issue(.userSigning, request: request, notBefore: pki.now,
                                         notAfter: pki.now + 86400, crlDistributionPoint: X509TestPKI.crlURL)
        #expect(cert.subject == request.subject)
        #expect(cert.publicKey == key.publicKey)
        #expect(cert.emailAddresses == ["bob@example.test"])
        #expect(cert.crlDistributionPoints == [X509TestPKI.crlURL])
        #expect(cert.isSignature(verifiedBy: pki.issuing.key.publicKey))
    }

    @Test("refusals: non-CA issuer, wrong CA key, validity outside the issuer's, missing names, path length")
    func refusals() throws {
        let pki = try X509TestPKI()
        let (leaf, leafKey) = try pki.leaf(.tlsClient)
        #expect(throws: CryptoError(.certificateUnsuitable, "")) {
            try CertificateIssuer(certificate: leaf, key: leafKey)
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CertificateIssuer(certificate: pki.issuing.certificate, key: leafKey)
        }
        let key = try PrivateKey.generate(.ecP256)
        func parameters(notAfter: Date = pki.now + 3600, emails: [String] = [], dns: [String] = [])
            -> CertificateParameters {
            CertificateParameters(subject: DistinguishedName([("CN", "X")]), publicKey: key.publicKey,
                                  notBefore: pki.now, notAfter: notAfter, emailAddresses: emails, dnsNames: dns)
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try pki.issuing.issue(.tlsClient, parameters(notAfter: pki.issuing.certificate.notAfter + 1))
        }
        #expect(throws: CryptoError(.invalidArgument, "")) { try pki.issuing.issue(.tlsServer, parameters()) }
        #expect(throws: CryptoError(.invalidArgument, "")) { try pki.issuing.issue(.userSigning, parameters()) }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try pki.issuing.issue(.userEncryption, parameters(dns: ["x.example.test"]))
        }
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try pki.issuing.issue(.issuingCA, parameters()) }
        #expect(throws: CryptoError(.invalidArgument, "")) { try pki.root.issue(.rootCA, parameters()) }
        // A value that would smuggle a second name into OpenSSL's text syntax is refused.
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try pki.issuing.issue(.userSigning, parameters(emails: ["a@example.test,DNS:evil.example"]))
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try pki.issuing.issue(.tlsServer, parameters(dns: ["bad name.example"]))
        }
    }

    @Test("a CSR whose signature was tampered with is refused")
    func tamperedRequestRefused() throws {
        let pki = try X509TestPKI()
        let request = try CertificateSigningRequest(subject: DistinguishedName([("CN", "Mallory")]),
                                                    key: try PrivateKey.generate(.ecP256),
                                                    emailAddresses: ["mallory@example.test"])
        let der = request.derEncoded
        // The last bytes are the ECDSA signature's s value.
        let tampered = try CertificateSigningRequest(derEncoded: der.flippingByte(at: der.count - 2))
        #expect(!tampered.isSignatureValid)
        #expect(throws: CryptoError(.badSignature, "")) {
            try pki.issuing.issue(.userSigning, request: tampered, notBefore: pki.now, notAfter: pki.now + 3600)
        }
    }
}
