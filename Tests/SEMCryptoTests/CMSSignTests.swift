import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("CMS SignedData")
struct CMSSignTests {
    let letter = Data("From: alice@example.org\r\nSubject: minutes\r\n\r\nThe minutes are attached.\r\n".utf8)

    @Test("our attached signature verifies and reports signer, time, digest and capabilities")
    func attachedRoundTrip() throws {
        let pki = try CMSTestPKI.shared()
        let before = Date().addingTimeInterval(-5)
        let der = try pki.alice.signer(chain: [pki.ca.certificate]).sign(letter)
        let verified = try CMSVerifier.verify(der)
        #expect(verified.content == letter)
        #expect(!verified.isDetached)
        #expect(verified.signers.count == 1)
        #expect(verified.signer.certificate == pki.alice.certificate)
        #expect(verified.signer.digest == .sha256)
        #expect(verified.signer.hasSigningCertificateAttribute)
        #expect(verified.signer.receiptRequest == nil)
        let time = try #require(verified.signer.signingTime)
        #expect(time >= before && time <= Date().addingTimeInterval(5))
        #expect(verified.signer.contentEncryptionPreferences == ContentEncryptionAlgorithm.defaultPreferences)
        #expect(verified.certificates.contains(pki.ca.certificate))
        #expect(verified.certificates.contains(pki.alice.certificate))
    }

    @Test("openssl verifies our attached signature against the CA, including signingCertificateV2")
    func opensslVerifiesOurs() throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try directory.write(Data(pki.ca.certificatePEM.utf8), to: "ca.pem")
        let der = try pki.alice.signer().sign(letter, options: CMSSigningOptions(digest: .sha384))
        try directory.write(der, to: "s.der")
        try CMSOpenSSLTool.check(["cms", "-verify", "-inform", "DER", "-in", "s.der", "-CAfile", "ca.pem",
                                  "-purpose", "smimesign", "-cades", "-binary", "-out", "out.bin"], in: directory)
        #expect(try directory.read("out.bin") == letter)
        let printed = String(decoding: try CMSOpenSSLTool.check(["cms", "-cmsout", "-print", "-inform", "DER",
                                                                 "-in", "s.der"], in: directory), as: UTF8.self)
        #expect(printed.contains("id-smime-aa-signingCertificateV2"))
        #expect(printed.contains("S/MIME Capabilities"))
        #expect(printed.contains("sha384"))
        // Our preference order: AES-256-GCM is listed before AES-256-CBC.
        let gcm = try #require(printed.range(of: "aes-256-gcm"))
        let cbc = try #require(printed.range(of: "aes-256-cbc"))
        #expect(gcm.lowerBound < cbc.lowerBound)
    }

    @Test("a detached signature verifies with its content, in ours and in openssl")
    func detached() throws {
        let pki = try CMSTestPKI.shared()
        let der = try pki.alice.signer().sign(letter, options: CMSSigningOptions(detached: true))
        #expect(CMSBytes.offset(of: letter, in: der) == nil)
        let verified = try CMSVerifier.verify(der, detachedContent: letter)
        #expect(verified.isDetached)
        #expect(verified.content == letter)
        #expect(throws: CryptoError(.invalidArgument, "")) { try CMSVerifier.verify(der) }
        #expect(throws: CryptoError(.badSignature, "")) {
            try CMSVerifier.verify(der, detachedContent: Data("another letter".utf8))
        }

        let directory = try CMSTempDirectory()
        try directory.write(Data(pki.ca.certificatePEM.utf8), to: "ca.pem")
        try directory.write(der, to: "s.der")
        try directory.write(letter, to: "letter.txt")
        try CMSOpenSSLTool.check(["cms", "-verify", "-inform", "DER", "-in", "s.der", "-content", "letter.txt",
                                  "-CAfile", "ca.pem", "-binary", "-out", "out.bin"], in: directory)
        #expect(try directory.read("out.bin") == letter)
    }

    /// `-stream` makes openssl write indefinite-length BER instead of DER.
    @Test("openssl signatures verify in ours", arguments: [(false, false), (true, false), (false, true)])
    func opensslSignatureVerifies(detached: Bool, stream: Bool) throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try pki.alice.write(to: directory)
        try directory.write(letter, to: "letter.txt")
        var arguments = ["cms", "-sign", "-binary", "-in", "letter.txt", "-signer", "alice.pem", "-inkey", "alice.key",
                         "-md", "sha256", "-outform", "DER", "-out", "s.der"]
        if !detached { arguments.append("-nodetach") }
        if stream { arguments.append("-stream") }
        try CMSOpenSSLTool.check(arguments, in: directory)
        let der = try directory.read("s.der")
        if stream { #expect(der.starts(with: [0x30, 0x80])) }
        let verified = try CMSVerifier.verify(der, detachedContent: detached ? letter : nil)
        #expect(verified.content == letter)
        #expect(verified.isDetached == detached)
        #expect(verified.signer.certificate == pki.alice.certificate)
        #expect(verified.signer.signingTime != nil)
        // OpenSSL's default capability list, without a signingCertificate attribute.
        #expect(verified.signer.contentEncryptionPreferences.contains(.aes256CBC))
        #expect(!verified.signer.hasSigningCertificateAttribute)
    }

    @Test("an openssl CAdES signature's signingCertificateV2 is checked and reported")
    func opensslCAdES() throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try pki.alice.write(to: directory)
        try directory.write(letter, to: "letter.txt")
        try CMSOpenSSLTool.check(["cms", "-sign", "-binary", "-nodetach", "-cades", "-in", "letter.txt",
                                  "-signer", "alice.pem", "-inkey", "alice.key", "-outform", "DER", "-out", "s.der"],
                                 in: directory)
        let verified = try CMSVerifier.verify(try directory.read("s.der"))
        #expect(verified.signer.hasSigningCertificateAttribute)
    }

    /// RFC 5035 §5.4 guards against substituting another certificate for the same key:
    /// a twin certificate with alice's key, issuer and serial number but another subject
    /// verifies the signature, but not the signingCertificateV2 hash.
    @Test("a substituted signer certificate fails the signingCertificateV2 check")
    func substitutedCertificate() throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try directory.write(Data("[req]\ndistinguished_name = dn\n[dn]\n".utf8), to: "req.cnf")
        try directory.write(Data(pki.ca.certificatePEM.utf8), to: "ca.pem")
        try directory.write(Data(pki.ca.keyPEM.utf8), to: "ca.key")
        let alice = try pki.alice.write(to: directory)
        try CMSOpenSSLTool.check(["req", "-config", "req.cnf", "-new", "-key", alice.key, "-subj", "/CN=alice twin",
                                  "-x509", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "2",
                                  "-set_serial", "0x" + pki.alice.certificate.serialNumberHex,
                                  "-addext", "keyUsage=critical,digitalSignature", "-out", "twin.pem"], in: directory)
        let twin = try Certificate(pemEncoded: String(decoding: try directory.read("twin.pem"), as: UTF8.self))
        #expect(twin.serialNumber == pki.alice.certificate.serialNumber)
        #expect(twin != pki.alice.certificate)

        try directory.write(letter, to: "letter.txt")
        try CMSOpenSSLTool.check(["cms", "-sign", "-binary", "-nodetach", "-nocerts", "-in", "letter.txt",
                                  "-signer", alice.certificate, "-inkey", alice.key, "-outform", "DER",
                                  "-out", "s.der", "-cades"], in: directory)
        let der = try directory.read("s.der")
        #expect(try CMSVerifier.verify(der, certificates: [pki.alice.certificate]).signer.hasSigningCertificateAttribute)
        #expect(throws: CryptoError(.badSignature, "")) { try CMSVerifier.verify(der, certificates: [twin]) }
    }

    @Test("altered signed content gives bad-signature")
    func alteredContent() throws {
        let pki = try CMSTestPKI.shared()
        let der = try pki.alice.signer().sign(letter)
        let offset = try #require(CMSBytes.offset(of: Data("minutes are".utf8), in: der))
        #expect(throws: CryptoError(.badSignature, "")) { try CMSVerifier.verify(CMSBytes.flip(der, at: offset)) }
        // The signature value itself (the last bytes) altered.
        #expect(throws: CryptoError(.badSignature, "")) {
            try CMSVerifier.verify(CMSBytes.flip(der, at: der.count - 3))
        }
    }

    @Test("garbage, truncated DER and other CMS types give malformed-input")
    func malformed() throws {
        let pki = try CMSTestPKI.shared()
        let der = try pki.alice.signer().sign(letter)
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSVerifier.verify(Data("not a message".utf8)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSVerifier.verify(der.prefix(der.count / 2)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSVerifier.verify(der + Data([0x00])) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSVerifier.verify(Data()) }
        let envelope = try CMSEnvelope.encrypt(letter, for: [pki.bobEncryption.certificate])
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSVerifier.verify(envelope) }
    }

    @Test("a signature without the signer's certificate needs the certificate supplied")
    func missingSignerCertificate() throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try pki.alice.write(to: directory)
        try directory.write(letter, to: "letter.txt")
        try CMSOpenSSLTool.check(["cms", "-sign", "-binary", "-nodetach", "-nocerts", "-in", "letter.txt",
                                  "-signer", "alice.pem", "-inkey", "alice.key", "-outform", "DER", "-out", "s.der"],
                                 in: directory)
        let der = try directory.read("s.der")
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try CMSVerifier.verify(der) }
        #expect(throws: CryptoError(.certificateUnsuitable, "")) {
            try CMSVerifier.verify(der, certificates: [pki.bob.certificate])
        }
        let verified = try CMSVerifier.verify(der, certificates: [pki.alice.certificate])
        #expect(verified.signer.certificate == pki.alice.certificate)
        #expect(verified.certificates.isEmpty)
    }

    @Test("a signer needs a matching key and a certificate that allows signing")
    func signerChecks() throws {
        let pki = try CMSTestPKI.shared()
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CMSSigner(key: pki.bob.key, certificate: pki.alice.certificate)
        }
        // keyAgreement-only and keyEncipherment-only certificates must not sign.
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try pki.bobEncryption.signer() }
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try pki.carolEncryption.signer() }
    }

    @Test("S/MIME armour round-trips and openssl reads it")
    func smimeArmour() throws {
        let pki = try CMSTestPKI.shared()
        let der = try pki.alice.signer().sign(letter)
        let smime = try CMS.smimeEncoded(der)
        #expect(smime.contains("application/pkcs7-mime"))
        #expect(smime.contains("smime-type=signed-data"))
        #expect(try CMS.der(fromSMIME: smime) == der)
        #expect(throws: CryptoError(.malformedInput, "")) {
            try CMS.der(fromSMIME: "Content-Type: text/plain\n\nhello\n")
        }
        let detached = try pki.alice.signer().sign(letter, options: CMSSigningOptions(detached: true))
        #expect(throws: CryptoError(.invalidArgument, "")) { try CMS.smimeEncoded(detached) }

        let directory = try CMSTempDirectory()
        try directory.write(Data(pki.ca.certificatePEM.utf8), to: "ca.pem")
        try directory.write(Data(smime.utf8), to: "s.eml")
        try CMSOpenSSLTool.check(["cms", "-verify", "-in", "s.eml", "-CAfile", "ca.pem", "-binary", "-out", "out.bin"],
                                 in: directory)
        #expect(try directory.read("out.bin") == letter)
    }
}
