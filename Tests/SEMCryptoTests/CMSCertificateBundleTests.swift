import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Certificates-only SignedData")
struct CMSCertificateBundleTests {
    @Test("a bundle round-trips and openssl pkcs7 lists the same certificates")
    func roundTripAndOpenSSL() throws {
        let pki = try X509TestPKI()
        let leaf = try pki.leaf(.userSigning)
        let bundle = try CMSCertificateBundle.encode([leaf.certificate, pki.issuing.certificate])
        // CertificateSet is a SET OF (RFC 5652 §10.2.3): DER fixes the order, not the caller.
        let expected: Set = [leaf.certificate, pki.issuing.certificate]
        #expect(Set(try CMSCertificateBundle.decode(bundle)) == expected)
        let scratch = try ScratchDirectory()
        try scratch.write("bundle.der", bundle)
        let listed = try scratch.openssl(["pkcs7", "-inform", "DER", "-in", "bundle.der", "-print_certs"])
        #expect(listed.status == 0, "\(listed.errors)")
        #expect(Set(try Certificate.chain(pemEncoded: listed.output)) == expected)
    }

    @Test("a bundle made by openssl crl2pkcs7 decodes here")
    func openSSLBundleDecodes() throws {
        let pki = try X509TestPKI()
        let scratch = try ScratchDirectory()
        try scratch.write("chain.pem", certificates: [pki.issuing.certificate, pki.root.certificate])
        let made = try scratch.openssl(["crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-outform", "DER",
                                        "-out", "bundle.der"])
        #expect(made.status == 0, "\(made.errors)")
        #expect(try CMSCertificateBundle.decode(try scratch.read("bundle.der")).count == 2)
    }

    @Test("empty input, garbage and other CMS types are refused")
    func refusals() throws {
        #expect(throws: CryptoError(.invalidArgument, "")) { try CMSCertificateBundle.encode([]) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSCertificateBundle.decode(Data([0x30, 0x00])) }
        let pki = try X509TestPKI()
        let leaf = try pki.leaf(.userEncryption)
        let enveloped = try CMSEnvelope.encrypt(Data("x".utf8), for: [leaf.certificate])
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSCertificateBundle.decode(enveloped) }
    }
}
