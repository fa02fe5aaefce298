import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("CMS EnvelopedData and AuthEnvelopedData")
struct CMSEnvelopeTests {
    let letter = Data(("Subject: quarterly figures\r\n\r\n"
                       + String(repeating: "Revenue rose by four percent. ", count: 12)).utf8)

    @Test("openssl decrypts our sign-then-encrypt output and verifies the inner signature",
          arguments: [ContentEncryptionAlgorithm.aes256GCM, .aes256CBC])
    func opensslOpensOurs(algorithm: ContentEncryptionAlgorithm) throws {
        let pki = try CMSTestPKI.shared()
        let message = try pki.alice.signer(chain: [pki.ca.certificate])
            .signAndEncrypt(letter, for: [pki.bobEncryption.certificate, pki.carolEncryption.certificate],
                            encryption: algorithm)
        let directory = try CMSTempDirectory()
        try directory.write(Data(pki.ca.certificatePEM.utf8), to: "ca.pem")
        try directory.write(message, to: "m.der")
        for recipient in [pki.bobEncryption, pki.carolEncryption] {
            let paths = try recipient.write(to: directory)
            try CMSOpenSSLTool.check(["cms", "-decrypt", "-inform", "DER", "-in", "m.der", "-recip", paths.certificate,
                                      "-inkey", paths.key, "-binary", "-out", "inner-\(recipient.name).der"],
                                     in: directory)
            try CMSOpenSSLTool.check(["cms", "-verify", "-inform", "DER", "-in", "inner-\(recipient.name).der",
                                      "-CAfile", "ca.pem", "-purpose", "smimesign", "-binary",
                                      "-out", "plain-\(recipient.name).txt"], in: directory)
            #expect(try directory.read("plain-\(recipient.name).txt") == letter)
        }

        // Key management: RSA-OAEP with SHA-256 (and MGF1-SHA-256) for RSA, the
        // SHA-256 X9.63 KDF for ECDH.
        let printed = String(decoding: try CMSOpenSSLTool.check(["cms", "-cmsout", "-print", "-inform", "DER",
                                                                 "-in", "m.der"], in: directory), as: UTF8.self)
        #expect(printed.contains("rsaesOaep"))
        #expect(printed.contains("sha256"))
        #expect(printed.contains("mgf1"))
        #expect(!printed.contains("rsaEncryption (1.2.840.113549.1.1.1)\n          parameter: NULL"))
        #expect(printed.contains("dhSinglePass-stdDH-sha256kdf-scheme"))
        #expect(!printed.contains("sha1kdf"))
        #expect(printed.contains(algorithm == .aes256GCM ? "aes-256-gcm" : "aes-256-cbc"))
        #expect(printed.contains(algorithm == .aes256GCM ? "id-smime-ct-authEnvelopedData" : "pkcs7-envelopedData"))
    }

    /// `-stream` makes openssl write indefinite-length BER instead of DER.
    @Test("openssl envelopes decrypt in ours, for RSA-OAEP and EC recipients",
          arguments: [("-aes-256-gcm", ContentEncryptionAlgorithm.aes256GCM, false), ("-aes256", .aes256CBC, false),
                      ("-aes-128-gcm", .aes128GCM, false), ("-aes-256-gcm", .aes256GCM, true)])
    func oursOpensOpenSSL(cipherOption: String, expected: ContentEncryptionAlgorithm, stream: Bool) throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try directory.write(letter, to: "letter.txt")
        let carol = try pki.carolEncryption.write(to: directory)
        let bob = try pki.bobEncryption.write(to: directory)
        try CMSOpenSSLTool.check(["cms", "-encrypt", "-binary", "-in", "letter.txt", "-outform", "DER", "-out", "m.der",
                                  cipherOption,
                                  "-recip", carol.certificate, "-keyopt", "rsa_padding_mode:oaep",
                                  "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256",
                                  "-recip", bob.certificate] + (stream ? ["-stream"] : []), in: directory)
        let message = try directory.read("m.der")
        if stream { #expect(message.starts(with: [0x30, 0x80])) }
        for recipient in [pki.carolEncryption, pki.bobEncryption] {
            let opened = try CMSEnvelope.decrypt(message, key: recipient.key, certificate: recipient.certificate)
            #expect(opened.content == letter)
            #expect(opened.algorithm == expected)
            #expect(opened.isAuthenticated == expected.isAuthenticated)
        }
    }

    @Test("our envelopes decrypt in ours for each recipient", arguments: ContentEncryptionAlgorithm.allCases)
    func roundTrip(algorithm: ContentEncryptionAlgorithm) throws {
        let pki = try CMSTestPKI.shared()
        let recipients = [pki.bobEncryption.certificate, pki.carolEncryption.certificate]
        let message = try CMSEnvelope.encrypt(letter, for: recipients, algorithm: algorithm)
        #expect(CMSBytes.offset(of: Data("Revenue rose".utf8), in: message) == nil)
        for recipient in [pki.bobEncryption, pki.carolEncryption] {
            let opened = try CMSEnvelope.decrypt(message, key: recipient.key, certificate: recipient.certificate)
            #expect(opened.content == letter)
            #expect(opened.algorithm == algorithm)
        }
    }

    @Test("decrypt-then-verify returns the content, the signer and the cipher")
    func decryptAndVerify() throws {
        let pki = try CMSTestPKI.shared()
        let message = try pki.alice.signer().signAndEncrypt(letter, for: [pki.bobEncryption.certificate])
        let opened = try CMSEnvelope.decryptAndVerify(message, key: pki.bobEncryption.key,
                                                      certificate: pki.bobEncryption.certificate)
        #expect(opened.content == letter)
        #expect(opened.encryption == .aes256GCM)
        #expect(opened.verified.signer.certificate == pki.alice.certificate)
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try pki.alice.signer().signAndEncrypt(letter, for: [pki.bobEncryption.certificate],
                                                  options: CMSSigningOptions(detached: true))
        }
    }

    @Test("tampered AES-GCM content gives authentication-failed and no plaintext")
    func tamperedGCM() throws {
        let pki = try CMSTestPKI.shared()
        let bob = pki.bobEncryption
        let message = try CMSEnvelope.encrypt(letter, for: [bob.certificate], algorithm: .aes256GCM)
        // The untouched message opens, so the failures below come from the alterations.
        #expect(try CMSEnvelope.decrypt(message, key: bob.key, certificate: bob.certificate).content == letter)
        // AuthEnvelopedData ends with the 16-byte mac OCTET STRING, after the ciphertext.
        for offset in [message.count - 40, message.count - 1] {
            let tampered = CMSBytes.flip(message, at: offset)
            var opened: CMSDecryptedContent?
            #expect(throws: CryptoError(.authenticationFailed, "")) {
                opened = try CMSEnvelope.decrypt(tampered, key: bob.key, certificate: bob.certificate)
            }
            #expect(opened == nil)
        }
    }

    @Test("a key that is not a recipient gives no-matching-recipient")
    func wrongRecipient() throws {
        let pki = try CMSTestPKI.shared()
        let dave = pki.daveEncryption
        let forBobAndCarol = try CMSEnvelope.encrypt(letter, for: [pki.bobEncryption.certificate,
                                                                  pki.carolEncryption.certificate])
        #expect(throws: CryptoError(.noMatchingRecipient, "")) {
            try CMSEnvelope.decrypt(forBobAndCarol, key: dave.key, certificate: dave.certificate)
        }
        let forCarol = try CMSEnvelope.encrypt(letter, for: [pki.carolEncryption.certificate], algorithm: .aes256CBC)
        #expect(throws: CryptoError(.noMatchingRecipient, "")) {
            try CMSEnvelope.decrypt(forCarol, key: pki.bobEncryption.key, certificate: pki.bobEncryption.certificate)
        }
        // A key that does not belong to the certificate is a caller mistake.
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CMSEnvelope.decrypt(forCarol, key: dave.key, certificate: pki.carolEncryption.certificate)
        }
    }

    @Test("garbage, truncated DER and signed data give malformed-input")
    func malformed() throws {
        let pki = try CMSTestPKI.shared()
        let bob = pki.bobEncryption
        let message = try CMSEnvelope.encrypt(letter, for: [bob.certificate])
        for bad in [Data("garbage".utf8), message.prefix(message.count - 30), Data([0x30, 0x80]),
                    try pki.alice.signer().sign(letter)] {
            #expect(throws: CryptoError(.malformedInput, "")) {
                try CMSEnvelope.decrypt(bad, key: bob.key, certificate: bob.certificate)
            }
        }
    }

    @Test("a legacy cipher is refused with unsupported-algorithm")
    func legacyCipher() throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try directory.write(letter, to: "letter.txt")
        let bob = try pki.bobEncryption.write(to: directory)
        try CMSOpenSSLTool.check(["cms", "-encrypt", "-binary", "-in", "letter.txt", "-outform", "DER", "-out", "m.der",
                                  "-des3", "-recip", bob.certificate], in: directory)
        #expect(throws: CryptoError(.unsupportedAlgorithm, "")) {
            try CMSEnvelope.decrypt(try directory.read("m.der"), key: pki.bobEncryption.key,
                                    certificate: pki.bobEncryption.certificate)
        }
    }

    @Test("recipients whose keyUsage forbids key management are refused")
    func unsuitableRecipients() throws {
        let pki = try CMSTestPKI.shared()
        // A signing-only EC certificate lacks keyAgreement.
        #expect(throws: CryptoError(.certificateUnsuitable, "")) {
            try CMSEnvelope.encrypt(letter, for: [pki.bobEncryption.certificate, pki.alice.certificate])
        }
        #expect(throws: CryptoError(.invalidArgument, "")) { try CMSEnvelope.encrypt(letter, for: []) }
    }

    @Test("an envelope in S/MIME armour opens with openssl's default input format")
    func smimeArmour() throws {
        let pki = try CMSTestPKI.shared()
        let message = try CMSEnvelope.encrypt(letter, for: [pki.bobEncryption.certificate])
        let smime = try CMS.smimeEncoded(message)
        #expect(smime.contains("application/pkcs7-mime"))
        let directory = try CMSTempDirectory()
        let bob = try pki.bobEncryption.write(to: directory)
        try directory.write(Data(smime.utf8), to: "m.eml")
        try CMSOpenSSLTool.check(["cms", "-decrypt", "-in", "m.eml", "-recip", bob.certificate, "-inkey", bob.key,
                                  "-binary", "-out", "plain.txt"], in: directory)
        #expect(try directory.read("plain.txt") == letter)
    }
}
