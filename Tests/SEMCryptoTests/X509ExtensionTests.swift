import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("X.509 extensions")
struct X509ExtensionTests {
    @Test("a leaf carries the names, policy, CRL and OCSP locations it was issued with")
    func leafExtensionsReadBack() throws {
        let pki = try X509TestPKI()
        let (leaf, _) = try pki.leaf(.userSigning, emails: ["alice@example.test", "a.l@example.test"],
                                     dnsNames: ["alice.example.test"])
        #expect(leaf.emailAddresses == ["alice@example.test", "a.l@example.test"])
        #expect(leaf.dnsNames == ["alice.example.test"])
        #expect(leaf.policies == [X509TestPKI.policy])
        #expect(leaf.crlDistributionPoints == [X509TestPKI.crlURL])
        #expect(leaf.ocspResponderURLs == [X509TestPKI.ocspURL])
        #expect(leaf.basicConstraints == BasicConstraints(isCA: false))
        #expect(!leaf.hasOCSPNoCheck)
    }

    @Test("key identifiers chain leaf to issuing CA to root")
    func keyIdentifiersChain() throws {
        let pki = try X509TestPKI()
        let (leaf, _) = try pki.leaf(.tlsClient)
        let rootSKI = try #require(pki.root.certificate.subjectKeyIdentifier)
        let issuingSKI = try #require(pki.issuing.certificate.subjectKeyIdentifier)
        #expect(rootSKI.count == 20)
        #expect(pki.root.certificate.authorityKeyIdentifier == rootSKI)
        #expect(pki.issuing.certificate.authorityKeyIdentifier == rootSKI)
        #expect(leaf.authorityKeyIdentifier == issuingSKI)
        #expect(leaf.subjectKeyIdentifier != issuingSKI)
    }

    @Test("each profile sets its key usage, extended key usage and basic constraints",
          arguments: [
              (CertificateProfile.userSigning, KeyUsage([.digitalSignature, .nonRepudiation]),
               [ExtendedKeyUsage.emailProtection, .clientAuth]),
              (.userEncryption, KeyUsage.keyAgreement, [.emailProtection]),
              (.tlsServer, KeyUsage.digitalSignature, [.serverAuth]),
              (.tlsClient, KeyUsage.digitalSignature, [.clientAuth]),
              (.ocspResponder, KeyUsage.digitalSignature, [.ocspSigning]),
              (.registrySigner, KeyUsage([.digitalSignature, .nonRepudiation]), [.emailProtection]),
          ])
    func profileUsages(_ profile: CertificateProfile, _ usage: KeyUsage, _ purposes: [ExtendedKeyUsage]) throws {
        let (leaf, _) = try X509TestPKI().leaf(profile)
        #expect(leaf.keyUsage == usage)
        #expect(leaf.extendedKeyUsage == purposes)
        #expect(!leaf.basicConstraints.isCA)
        #expect(leaf.hasOCSPNoCheck == (profile == .ocspResponder))
    }

    @Test("RSA subject keys get keyEncipherment where EC keys get keyAgreement or nothing")
    func rsaKeyUsage() throws {
        let pki = try X509TestPKI()
        let rsa = try PrivateKey.generate(.rsa3072)
        #expect(try pki.leaf(.userEncryption, key: rsa).certificate.keyUsage == .keyEncipherment)
        #expect(try pki.leaf(.tlsServer, key: rsa).certificate.keyUsage == [.digitalSignature, .keyEncipherment])
    }

    @Test("CA profiles: root unlimited, issuing CA path length 0, both keyCertSign and cRLSign")
    func caProfiles() throws {
        let pki = try X509TestPKI()
        #expect(pki.root.certificate.basicConstraints == BasicConstraints(isCA: true, pathLength: nil))
        #expect(pki.issuing.certificate.basicConstraints == BasicConstraints(isCA: true, pathLength: 0))
        #expect(pki.root.certificate.keyUsage == [.keyCertSign, .cRLSign])
        #expect(pki.issuing.certificate.keyUsage == [.keyCertSign, .cRLSign])
        #expect(pki.issuing.certificate.extendedKeyUsage.isEmpty)
        #expect(pki.root.certificate.isSelfIssued)
        #expect(pki.root.certificate.isSignature(verifiedBy: pki.root.key.publicKey))
    }

    @Test("validity is checked at both ends")
    func validity() throws {
        let (leaf, _) = try X509TestPKI().leaf(.tlsClient)
        #expect(leaf.isValid(at: Date()))
        #expect(leaf.isValid(at: leaf.notBefore))
        #expect(leaf.isValid(at: leaf.notAfter))
        #expect(!leaf.isValid(at: leaf.notBefore - 1))
        #expect(!leaf.isValid(at: leaf.notAfter + 1))
    }

    @Test("extensions of a certificate made by openssl are read correctly")
    func readsOpenSSLCertificate() throws {
        let scratch = try X509Scratch()
        let result = try scratch.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem",
            "-out", "c.pem", "-days", "2", "-subj", "/CN=Tool/emailAddress=tool@example.test",
            "-addext", "subjectAltName=email:sa@example.test,DNS:tool.example.test,URI:http://x.example.test/",
            "-addext", "keyUsage=critical,digitalSignature,keyAgreement",
            "-addext", "extendedKeyUsage=serverAuth,timeStamping,1.2.3.4.5",
            "-addext", "certificatePolicies=1.3.6.1.4.1.55555.9,2.23.140.1.2.1",
            "-addext", "crlDistributionPoints=URI:http://crl.example.test/a.crl,URI:http://crl.example.test/b.crl",
            "-addext", "authorityInfoAccess=OCSP;URI:http://ocsp.example.test/,caIssuers;URI:http://ca.example.test/",
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:3",
        ])
        try #require(result.status == 0, "\(result.errors)")
        let cert = try Certificate(pemEncoded: String(decoding: try scratch.read("c.pem"), as: UTF8.self))
        #expect(cert.emailAddresses == ["sa@example.test"])
        #expect(cert.dnsNames == ["tool.example.test"])
        #expect(cert.keyUsage == [.digitalSignature, .keyAgreement])
        #expect(cert.extendedKeyUsage == [.serverAuth, .timeStamping, ExtendedKeyUsage(rawValue: "1.2.3.4.5")])
        #expect(cert.policies == ["1.3.6.1.4.1.55555.9", "2.23.140.1.2.1"])
        #expect(cert.crlDistributionPoints == ["http://crl.example.test/a.crl", "http://crl.example.test/b.crl"])
        #expect(cert.ocspResponderURLs == ["http://ocsp.example.test/"])
        #expect(cert.basicConstraints == BasicConstraints(isCA: true, pathLength: 3))
        #expect(cert.subjectKeyIdentifier != nil)

        // The fingerprint is the one openssl prints: SHA-256 over the whole DER.
        let printed = try scratch.openssl(["x509", "-in", "c.pem", "-noout", "-fingerprint", "-sha256"])
        let hex = printed.output.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "") }
        #expect(hex?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == cert.fingerprint.lowercased())
    }

    @Test("without a subject alternative name the subject's emailAddress is the e-mail address")
    func emailFromSubject() throws {
        let scratch = try X509Scratch()
        let result = try scratch.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem",
            "-out", "c.pem", "-days", "2", "-subj", "/CN=Old/emailAddress=old@example.test",
        ])
        try #require(result.status == 0, "\(result.errors)")
        let cert = try Certificate(pemEncoded: String(decoding: try scratch.read("c.pem"), as: UTF8.self))
        #expect(cert.emailAddresses == ["old@example.test"])
        #expect(cert.dnsNames.isEmpty)
        #expect(cert.extendedKeyUsage.isEmpty)
        #expect(cert.policies.isEmpty)
    }

    @Test("garbage and truncated certificate DER give malformed-input")
    func malformedCertificate() throws {
        let der = try X509TestPKI().root.certificate.derEncoded
        #expect(throws: CryptoError(.malformedInput, "")) { try Certificate(derEncoded: der.prefix(der.count - 10)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try Certificate(derEncoded: Data("not a cert".utf8)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try Certificate(derEncoded: der + Data([0])) }
    }
}
