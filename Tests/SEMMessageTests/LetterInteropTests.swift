import Foundation
import SEMCrypto
import SEMMessage
import SEMTestSupport
import Testing

@Suite("Letters interoperate with the openssl tool")
struct LetterInteropTests {
    @Test("openssl cms -decrypt then -verify opens a composed letter and shows the protected headers")
    func opensslReadsOurs() throws {
        let pki = try MessageTestPKI.shared()
        let directory = try ScratchDirectory(prefix: "sem-message")
        let letter = Letter(from: MailAddress(pki.alice.address, displayName: "Alice"), to: [MailAddress(pki.bob.address)],
                            subject: "Grüße from the tool test", body: "Line one\nLine two\n",
                            attachments: [InlineAttachment(fileName: "a.bin", mediaType: "application/octet-stream",
                                                           content: Data([0, 1, 2, 255]))])
        let composed = try LetterComposer.compose(letter, signer: pki.alice.signer(chain: [pki.caCertificate]),
                                                  recipients: [pki.bob.encryptionCertificate],
                                                  senderCertificate: pki.alice.encryptionCertificate)
        // Take the body from the outer message text, as a mail program would.
        let text = String(decoding: composed.message, as: UTF8.self)
        let body = try #require(text.range(of: "\r\n\r\n")).upperBound
        let der = try #require(Data(base64Encoded: String(text[body...]), options: .ignoreUnknownCharacters))
        #expect(der == composed.envelope)
        try directory.write("envelope.der", der)
        let bob = try MessageTestTool.write(key: pki.bob.encryptionKey, certificate: pki.bob.encryptionCertificate,
                                            name: "bob", in: directory)
        try directory.write("ca.pem", pki.caCertificate.pemEncoded)
        try MessageTestTool.openssl(["cms", "-decrypt", "-inform", "DER", "-in", "envelope.der", "-recip", bob.certificate,
                                     "-inkey", bob.key, "-binary", "-out", "signed.smime"], in: directory)
        let signed = String(decoding: try directory.read("signed.smime"), as: UTF8.self)
        #expect(signed.contains("smime-type=signed-data"))
        let inner = try MessageTestTool.openssl(["cms", "-verify", "-in", "signed.smime", "-CAfile", "ca.pem",
                                                 "-binary"], in: directory)
        #expect(inner == composed.innerEntity)
        let innerText = String(decoding: inner, as: UTF8.self)
        #expect(innerText.contains("From: Alice <\(pki.alice.address)>\r\n"))
        #expect(innerText.contains("To: \(pki.bob.address)\r\n"))
        #expect(innerText.contains("Subject: =?UTF-8?B?"))
        #expect(innerText.contains("Message-ID: <\(letter.messageID)>\r\n"))
    }

    /// Alice's signing key and carol's encryption key as files for the openssl tool, and the CA.
    static func signerAndRecipientFiles() throws
        -> (MessageTestPKI, ScratchDirectory, (key: String, certificate: String), (key: String, certificate: String)) {
        let pki = try MessageTestPKI.shared()
        let directory = try ScratchDirectory(prefix: "sem-message")
        let alice = try MessageTestTool.write(key: pki.alice.signingKey, certificate: pki.alice.signingCertificate,
                                              name: "alice", in: directory)
        let carol = try MessageTestTool.write(key: pki.carol.encryptionKey,
                                              certificate: pki.carol.encryptionCertificate, name: "carol", in: directory)
        try directory.write("ca.pem", pki.caCertificate.pemEncoded)
        return (pki, directory, alice, carol)
    }

    @Test("a letter signed by openssl cms -sign and enveloped by openssl cms -encrypt is read", arguments: [
        ["-aes-256-gcm"], ["-aes-128-cbc"],
    ])
    func weReadOpenssls(cipher: [String]) throws {
        let (pki, directory, alice, carol) = try Self.signerAndRecipientFiles()
        let entity = [
            "MIME-Version: 1.0", "From: Alice <\(pki.alice.address)>", "To: \(pki.carol.address)",
            "Subject: =?UTF-8?B?\(Data("Grüße von openssl".utf8).base64EncodedString())?=",
            "Date: Thu, 03 Dec 2026 10:00:00 +0000", "Message-ID: <tool-1@example.org>",
            "Content-Type: multipart/mixed; boundary=\"b1\"", "", "--b1",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
            "Written by the openssl tool.", "--b1",
            "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment; filename=\"x.bin\"", "", "AAEC/w==", "--b1--", "",
        ].joined(separator: "\r\n")
        try directory.write("inner.txt", entity)
        try MessageTestTool.openssl(["cms", "-sign", "-nodetach", "-binary", "-in", "inner.txt", "-signer",
                                     alice.certificate, "-inkey", alice.key, "-certfile", "ca.pem",
                                     "-out", "signed.smime"], in: directory)
        try MessageTestTool.openssl(["cms", "-encrypt", "-binary", "-in", "signed.smime"] + cipher
                                    + ["-recip", carol.certificate, "-keyopt", "rsa_padding_mode:oaep",
                                       "-outform", "DER", "-out", "envelope.der"], in: directory)
        try MessageTestTool.openssl(["cms", "-encrypt", "-binary", "-in", "signed.smime"] + cipher
                                    + ["-recip", carol.certificate, "-out", "envelope.smime"], in: directory)

        let der = try directory.read("envelope.der")
        // The S/MIME text form as it travels: the tool writes LF, mail transport uses CRLF.
        let smime = String(decoding: try directory.read("envelope.smime"), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: "\r\n")
        for input in [der, Data(smime.utf8)] {
            let read = try LetterReader.read(input, key: pki.carol.encryptionKey,
                                             certificate: pki.carol.encryptionCertificate)
            #expect(read.letter.subject == "Grüße von openssl")
            #expect(read.letter.from == MailAddress(pki.alice.address, displayName: "Alice"))
            #expect(read.letter.body == "Written by the openssl tool.")
            #expect(read.letter.attachments == [InlineAttachment(fileName: "x.bin", mediaType: "application/octet-stream",
                                                                 content: Data([0, 1, 2, 255]))])
            #expect(read.signerCertificate == pki.alice.signingCertificate)
            #expect(read.senderCheck.isConsistent)
            #expect(read.encryption == (cipher == ["-aes-256-gcm"] ? .aes256GCM : .aes128CBC))
        }
    }

    @Test("a multipart/signed letter (openssl cms -sign, detached, text mode) is read; an altered first part is refused")
    func weReadDetachedSignatures() throws {
        let (pki, directory, alice, carol) = try Self.signerAndRecipientFiles()
        // LF line ends, as a person's file has them: openssl signs the canonical CRLF form
        // and writes the signature part's base64 with bare LFs.
        try directory.write("inner.txt", "From: \(pki.alice.address)\nTo: \(pki.carol.address)\n"
                            + "Subject: detached\n\nSigned beside the content.\n")
        try MessageTestTool.openssl(["cms", "-sign", "-in", "inner.txt", "-signer", alice.certificate, "-inkey", alice.key,
                                     "-certfile", "ca.pem", "-crlfeol", "-out", "signed.smime"], in: directory)
        let signed = try directory.read("signed.smime")
        #expect(String(decoding: signed, as: UTF8.self).contains("multipart/signed"))
        try MessageTestTool.openssl(["cms", "-encrypt", "-binary", "-aes-256-gcm", "-in", "signed.smime", "-recip",
                                     carol.certificate, "-outform", "DER", "-out", "envelope.der"], in: directory)
        let read = try LetterReader.read(try directory.read("envelope.der"), key: pki.carol.encryptionKey,
                                         certificate: pki.carol.encryptionCertificate)
        #expect(read.letter.subject == "detached")
        #expect(read.letter.body == "Signed beside the content.\n")
        #expect(read.signerCertificate == pki.alice.signingCertificate)
        #expect(read.detachedContent != nil)

        // One letter of the signed part changed: the detached signature no longer covers it.
        let altered = String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "beside", with: "besides")
        try directory.write("altered.smime", altered)
        try MessageTestTool.openssl(["cms", "-encrypt", "-binary", "-aes-256-gcm", "-in", "altered.smime", "-recip",
                                     carol.certificate, "-outform", "DER", "-out", "altered.der"], in: directory)
        #expect(throws: CryptoError.self) {
            try LetterReader.read(try directory.read("altered.der"), key: pki.carol.encryptionKey,
                                  certificate: pki.carol.encryptionCertificate)
        }
    }
}
