import Foundation
import SEMCrypto
import SEMMessage
import SEMTestSupport
import Testing

@Suite("Letters: compose, read, receipts")
struct LetterTests {
    private func letter(_ pki: MessageTestPKI, receipt: Bool = false) throws -> Letter {
        let (ciphertext, reference) = try AttachmentSealer.seal(Data(repeating: 0x42, count: 5_000),
                                                                fileName: "große Datei.bin",
                                                                mediaType: "application/octet-stream")
        var stored = reference
        stored.attachmentID = "att-1"
        stored.server = "mail.example.org"
        #expect(try AttachmentOpener.open(ciphertext, reference: stored).count == 5_000)
        return Letter(from: MailAddress(pki.alice.address, displayName: "Alice Ångström"),
                      to: [MailAddress(pki.bob.address, displayName: "Bob, the builder"), MailAddress(pki.carol.address)],
                      cc: [MailAddress("dave@example.org")],
                      subject: "Quarterly numbers – Grüße 🎉 " + String(repeating: "long subject ", count: 8),
                      body: "Hello Bob,\n\nthe numbers are attached.\n" + String(repeating: "x", count: 200) + "\n",
                      attachments: [InlineAttachment(fileName: "report.pdf", mediaType: "application/pdf",
                                                     content: Data((0..<3_000).map { UInt8(truncatingIfNeeded: $0 * 7) }))],
                      references: [stored],
                      receiptRequest: receipt ? ReceiptRequest() : nil)
    }

    private func compose(_ letter: Letter, _ pki: MessageTestPKI,
                         encryption: ContentEncryptionAlgorithm = .aes256GCM) throws -> ComposedLetter {
        try LetterComposer.compose(letter, signer: pki.alice.signer(chain: [pki.caCertificate]),
                                   recipients: [pki.bob.encryptionCertificate, pki.carol.encryptionCertificate],
                                   senderCertificate: pki.alice.encryptionCertificate, encryption: encryption)
    }

    private func expectSame(_ read: ReadLetter, _ original: Letter, _ pki: MessageTestPKI) {
        #expect(read.letter.from == original.from)
        #expect(read.letter.to == original.to)
        #expect(read.letter.cc == original.cc)
        #expect(read.letter.subject == original.subject)
        #expect(read.letter.date == original.date)
        #expect(read.letter.messageID == original.messageID)
        #expect(read.letter.body == original.body)
        #expect(read.letter.attachments == original.attachments)
        #expect(read.letter.references == original.references)
        var expected = original
        expected.receiptRequest = nil  // travels in the signature, reported as read.receiptRequest
        var got = read.letter
        got.receiptRequest = nil
        #expect(got == expected)
        #expect(read.signerCertificate == pki.alice.signingCertificate)
        #expect(read.certificates.contains(pki.caCertificate))
        #expect(read.senderCheck.isConsistent)
        #expect(abs((read.signingTime ?? .distantPast).timeIntervalSinceNow) < 300)
    }

    @Test("compose → read for an EC and an RSA-3072 recipient, and the sender's own copy")
    func roundTrip() throws {
        let pki = try MessageTestPKI.shared()
        let original = try letter(pki)
        let composed = try compose(original, pki)
        for user in [pki.bob, pki.carol, pki.alice] {
            let read = try LetterReader.read(composed.message, key: user.encryptionKey,
                                             certificate: user.encryptionCertificate)
            expectSame(read, original, pki)
            #expect(read.encryption == .aes256GCM)
            #expect(!read.receiptRequested)
            #expect(read.protectedHeaders.contains { $0.name == "Subject" && $0.value.hasPrefix("=?UTF-8?B?") })
        }
        // The bare CMS DER reads the same.
        let fromDER = try LetterReader.read(composed.envelope, key: pki.bob.encryptionKey,
                                            certificate: pki.bob.encryptionCertificate)
        expectSame(fromDER, original, pki)
        #expect(fromDER.senderCheck.outerFrom == nil)
    }

    @Test("the outer message shows only transport headers")
    func outerHeaders() throws {
        let pki = try MessageTestPKI.shared()
        let original = try letter(pki)
        let composed = try compose(original, pki, encryption: .aes256CBC)
        let outer = try MIMEParser().parse(composed.message)
        #expect(outer.header("Subject") == LetterComposer.placeholderSubject)
        #expect(outer.header("From") == pki.alice.address)
        #expect(outer.header("To") == "\(pki.bob.address), \(pki.carol.address)")
        #expect(outer.header("Cc") == nil)
        #expect(outer.contentType.parameter("smime-type") == "enveloped-data")
        let text = String(decoding: composed.message, as: UTF8.self)
        #expect(!text.contains("Quarterly") && !text.contains("Ångström") && !text.contains("report.pdf"))
        let read = try LetterReader.read(composed.message, key: pki.bob.encryptionKey,
                                         certificate: pki.bob.encryptionCertificate)
        #expect(read.encryption == .aes256CBC)
        expectSame(read, original, pki)
    }

    @Test("a tampered outer body fails authentication")
    func tampered() throws {
        let pki = try MessageTestPKI.shared()
        let composed = try compose(try letter(pki), pki)
        var envelope = composed.envelope
        envelope[envelope.count - 100] ^= 0x01  // inside the GCM ciphertext
        var outer = try MIMEParser().parse(composed.message)
        outer.body = .bytes(envelope)
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            try LetterReader.read(try outer.serialized(), key: pki.bob.encryptionKey,
                                  certificate: pki.bob.encryptionCertificate)
        }
        #expect(throws: CryptoError(.noMatchingRecipient, "")) {
            let composedForCarolOnly = try LetterComposer.compose(try letter(pki),
                signer: pki.alice.signer(chain: []), recipients: [pki.carol.encryptionCertificate],
                senderCertificate: pki.alice.encryptionCertificate)
            _ = try LetterReader.read(composedForCarolOnly.message, key: pki.bob.encryptionKey,
                                  certificate: pki.bob.encryptionCertificate)
        }
    }

    @Test("an outer From that differs from the signed From shows in the verdict")
    func fromMismatch() throws {
        let pki = try MessageTestPKI.shared()
        let composed = try compose(try letter(pki), pki)
        var outer = try MIMEParser().parse(composed.message)
        outer.setHeader("From", "ceo@example.org")
        let read = try LetterReader.read(try outer.serialized(), key: pki.bob.encryptionKey,
                                         certificate: pki.bob.encryptionCertificate)
        #expect(!read.senderCheck.isConsistent)
        #expect(read.senderCheck.problems == [.outerFromDiffers(outer: "ceo@example.org", inner: pki.alice.address)])

        // A letter whose signed From is not the signer certificate's address.
        var forged = try letter(pki)
        forged.from = MailAddress("mallory@example.org")
        let signedByAlice = try compose(forged, pki)
        let second = try LetterReader.read(signedByAlice.message, key: pki.bob.encryptionKey,
                                           certificate: pki.bob.encryptionCertificate)
        #expect(second.senderCheck.problems == [.signerAddressDiffers(inner: "mallory@example.org",
                                                                      certificate: [pki.alice.address])])
    }

    @Test("a receipt request travels in the signature and the signed receipt verifies against the sent letter")
    func receipts() throws {
        let pki = try MessageTestPKI.shared()
        let composed = try compose(try letter(pki, receipt: true), pki)
        let read = try LetterReader.read(composed.message, key: pki.bob.encryptionKey,
                                         certificate: pki.bob.encryptionCertificate)
        #expect(read.receiptRequested)
        let receipt = try ReceiptComposer.receipt(for: read, signer: pki.bob.signer(chain: [pki.caCertificate]))
        let verified = try ReceiptChecker.verify(receipt, original: composed.signedData)
        #expect(verified.signer.certificate == pki.bob.signingCertificate)
        #expect(verified.signedContentIdentifier == read.receiptRequest?.signedContentIdentifier)

        // The receipt does not fit another letter.
        let other = try compose(try letter(pki, receipt: true), pki)
        #expect(throws: CryptoError(.badSignature, "")) {
            try ReceiptChecker.verify(receipt, original: other.signedData)
        }
        // No request, no receipt.
        let plain = try LetterReader.read(try compose(try letter(pki), pki).message, key: pki.bob.encryptionKey,
                                          certificate: pki.bob.encryptionCertificate)
        #expect(throws: MessageError(.invalidArgument, "")) {
            try ReceiptComposer.receipt(for: plain, signer: pki.bob.signer(chain: []))
        }
    }

    @Test("a message that is not S/MIME is refused")
    func notSMIME() throws {
        let pki = try MessageTestPKI.shared()
        let plain = Data("From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n".utf8)
        #expect(throws: MessageError(.unsupported, "")) {
            try LetterReader.read(plain, key: pki.bob.encryptionKey, certificate: pki.bob.encryptionCertificate)
        }
    }
}
