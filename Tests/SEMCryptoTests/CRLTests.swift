import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Certificate revocation lists")
struct CRLTests {
    private func makeCRL(_ pki: X509TestPKI, revoking leaf: Certificate, number: UInt64 = 7)
        throws -> CertificateRevocationList {
        try CertificateRevocationList.issue(
            issuer: pki.issuing.certificate, key: pki.issuing.key, thisUpdate: pki.now - 60,
            nextUpdate: pki.now + 86400, crlNumber: number,
            revoked: [
                RevokedEntry(serialNumber: leaf.serialNumber, revocationDate: pki.now - 120, reason: .keyCompromise),
                RevokedEntry(serialNumber: Data([0x12, 0x34]), revocationDate: pki.now - 600),
            ])
    }

    @Test("an issued CRL reads back with number, times, entries, reasons and key identifier")
    func roundTrip() throws {
        let pki = try X509TestPKI()
        let (leaf, _) = try pki.leaf(.userSigning)
        let issued = try makeCRL(pki, revoking: leaf, number: 4_000_000_000)
        for crl in [try CertificateRevocationList(derEncoded: issued.derEncoded),
                    try CertificateRevocationList(pemEncoded: issued.pemEncoded)] {
            #expect(crl.issuer == pki.issuing.certificate.subject)
            #expect(crl.crlNumber == 4_000_000_000)
            #expect(crl.thisUpdate == (pki.now - 60).roundedDownToSecond)
            #expect(crl.nextUpdate == (pki.now + 86400).roundedDownToSecond)
            #expect(crl.authorityKeyIdentifier == pki.issuing.certificate.subjectKeyIdentifier)
            #expect(crl.revokedEntries.count == 2)
            let entry = try #require(crl.entry(forSerial: leaf.serialNumber))
            #expect(entry.reason == .keyCompromise)
            #expect(entry.revocationDate == (pki.now - 120).roundedDownToSecond)
            #expect(crl.entry(forSerial: Data([0x00, 0x12, 0x34]))?.reason == .unspecified)
            #expect(crl.entry(forSerial: Data([0x12, 0x35])) == nil)
            #expect(crl.isSignature(verifiedBy: pki.issuing.key.publicKey))
            #expect(!crl.isSignature(verifiedBy: pki.root.key.publicKey))
        }
    }

    @Test("openssl crl verifies our CRL and lists the serial with its reason")
    func opensslReadsOurs() throws {
        let pki = try X509TestPKI()
        let (leaf, _) = try pki.leaf(.tlsClient)
        let crl = try makeCRL(pki, revoking: leaf)
        let scratch = try X509Scratch()
        try scratch.write("crl.pem", crl.pemEncoded)
        try scratch.write("chain.pem", certificates: [pki.issuing.certificate, pki.root.certificate])
        let verified = try scratch.openssl(["crl", "-in", "crl.pem", "-CAfile", "chain.pem", "-noout"])
        #expect(verified.status == 0)
        #expect(verified.all.contains("verify OK"), "\(verified.all)")
        let text = try scratch.openssl(["crl", "-in", "crl.pem", "-noout", "-text"])
        #expect(text.output.contains("Serial Number: \(leaf.serialNumberHex.uppercased())"), "\(text.output)")
        #expect(text.output.contains("Key Compromise"))
        #expect(text.output.contains("X509v3 CRL Number"))
        #expect(text.output.contains("Version 2"))
    }

    @Test("openssl verify with -crl_check refuses the revoked leaf and accepts another")
    func opensslUsesOurs() throws {
        let pki = try X509TestPKI()
        let (revoked, _) = try pki.leaf(.tlsClient)
        let (fine, _) = try pki.leaf(.tlsClient, name: "Frank")
        let scratch = try X509Scratch()
        try scratch.write("crl.pem", try makeCRL(pki, revoking: revoked).pemEncoded)
        try scratch.write("root.pem", certificates: [pki.root.certificate])
        try scratch.write("issuing.pem", certificates: [pki.issuing.certificate])
        try scratch.write("revoked.pem", certificates: [revoked])
        try scratch.write("fine.pem", certificates: [fine])
        let base = ["verify", "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "root.pem", "-untrusted", "issuing.pem"]
        let refused = try scratch.openssl(base + ["revoked.pem"])
        #expect(refused.status != 0)
        #expect(refused.all.contains("certificate revoked"), "\(refused.all)")
        let accepted = try scratch.openssl(base + ["fine.pem"])
        #expect(accepted.status == 0, "\(accepted.all)")
    }

    @Test("a CRL made by openssl ca -gencrl parses with its entry and reason")
    func parsesOpenSSLCRL() throws {
        let pki = try X509TestPKI()
        let scratch = try X509Scratch()
        try scratch.write("ca.pem", certificates: [pki.issuing.certificate])
        try scratch.write("ca.key", try pki.issuing.key.pkcs8PEM(), secret: true)
        try scratch.write("index.txt", "R\t301231235959Z\t240101000000Z,superseded\t0A0B\tunknown\t/CN=Old\n")
        try scratch.write("crlnumber", "2A\n")
        try scratch.write("ca.cnf", """
            [ ca ]
            default_ca = test
            [ test ]
            database = index.txt
            crlnumber = crlnumber
            default_md = sha256
            default_crl_days = 1
            """)
        let made = try scratch.openssl(["ca", "-config", "ca.cnf", "-gencrl", "-cert", "ca.pem", "-keyfile", "ca.key",
                                        "-out", "crl.pem"])
        try #require(made.status == 0, "\(made.all)")
        let pem = String(decoding: try scratch.read("crl.pem"), as: UTF8.self)
        let crl = try CertificateRevocationList(pemEncoded: pem)
        #expect(crl.crlNumber == 0x2A)
        #expect(crl.isSignature(verifiedBy: pki.issuing.key.publicKey))
        let entry = try #require(crl.entry(forSerial: Data([0x0A, 0x0B])))
        #expect(entry.reason == .superseded)
        #expect(entry.revocationDate == Date(timeIntervalSince1970: 1_704_067_200))
    }

    @Test("refusals: an issuer without cRLSign, a mismatched key, removeFromCRL, a repeated serial, bad times")
    func refusals() throws {
        let pki = try X509TestPKI()
        let (leaf, leafKey) = try pki.leaf(.tlsClient)
        func issue(_ issuer: Certificate, _ key: PrivateKey, next: Date? = nil, _ entries: [RevokedEntry] = [])
            throws -> CertificateRevocationList {
            try CertificateRevocationList.issue(issuer: issuer, key: key, thisUpdate: pki.now,
                                                nextUpdate: next ?? pki.now + 3600, crlNumber: 1, revoked: entries)
        }
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try issue(leaf, leafKey) }
        #expect(throws: CryptoError(.invalidArgument, "")) { try issue(pki.issuing.certificate, leafKey) }
        let ca = pki.issuing.certificate, key = pki.issuing.key
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try issue(ca, key, [RevokedEntry(serialNumber: Data([1]), revocationDate: pki.now, reason: .removeFromCRL)])
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try issue(ca, key, [RevokedEntry(serialNumber: Data([1]), revocationDate: pki.now),
                                RevokedEntry(serialNumber: Data([0, 1]), revocationDate: pki.now)])
        }
        #expect(throws: CryptoError(.invalidArgument, "")) { try issue(ca, key, next: pki.now - 10) }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try issue(ca, key, [RevokedEntry(serialNumber: Data([0]), revocationDate: pki.now)])
        }
    }

    @Test("garbage and truncated CRL DER give malformed-input")
    func malformed() throws {
        let pki = try X509TestPKI()
        let der = try makeCRL(pki, revoking: try pki.leaf(.tlsClient).certificate).derEncoded
        #expect(throws: CryptoError(.malformedInput, "")) { try CertificateRevocationList(derEncoded: der.dropLast(5)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CertificateRevocationList(derEncoded: Data([0x30, 0])) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CertificateRevocationList(derEncoded: der + der) }
    }
}
