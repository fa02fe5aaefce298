import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("CMS signed receipts (RFC 2634)")
struct CMSReceiptTests {
    let letter = Data("Subject: contract\r\n\r\nPlease confirm that you received the signed contract.\r\n".utf8)

    @Test("a receipt for a message that asked for one verifies against that message", arguments: [false, true])
    func roundTrip(detached: Bool) throws {
        let pki = try CMSTestPKI.shared()
        let request = ReceiptRequest()
        let options = CMSSigningOptions(detached: detached, receiptRequest: request)
        let original = try pki.alice.signer().sign(letter, options: options)

        // The recipient sees the request.
        let verified = try CMSVerifier.verify(original, detachedContent: detached ? letter : nil)
        let seen = try #require(verified.signer.receiptRequest)
        #expect(seen.signedContentIdentifier == request.signedContentIdentifier)
        #expect(seen.signedContentIdentifier.count == 32)
        #expect(seen.receiptsFrom == .allRecipients)
        #expect(seen.receiptsTo == ["alice@example.org"])
        #expect(seen.asks("bob@example.org"))

        let receipt = try CMSReceipt.create(for: original, detachedContent: detached ? letter : nil,
                                            signer: pki.bob.signer())
        let checked = try CMSReceipt.verify(receipt, original: original)
        #expect(checked.signer.certificate == pki.bob.certificate)
        #expect(checked.signedContentIdentifier == request.signedContentIdentifier)
        #expect(checked.signer.hasSigningCertificateAttribute)
        #expect(checked.signer.signingTime != nil)
    }

    @Test("a receipt checked against a different original is refused")
    func wrongOriginal() throws {
        let pki = try CMSTestPKI.shared()
        let options = CMSSigningOptions(receiptRequest: ReceiptRequest())
        let original = try pki.alice.signer().sign(letter, options: options)
        let other = try pki.alice.signer().sign(letter, options: options)
        let unrequested = try pki.alice.signer().sign(letter)
        let receipt = try CMSReceipt.create(for: original, signer: pki.bob.signer())
        #expect(throws: CryptoError(.badSignature, "")) { try CMSReceipt.verify(receipt, original: other) }
        #expect(throws: CryptoError(.badSignature, "")) { try CMSReceipt.verify(receipt, original: unrequested) }
        // The same receipt does verify against its own original.
        #expect(try CMSReceipt.verify(receipt, original: original).signer.certificate == pki.bob.certificate)
    }

    @Test("altered, garbage or non-receipt input is refused")
    func badReceipts() throws {
        let pki = try CMSTestPKI.shared()
        let original = try pki.alice.signer().sign(letter, options: CMSSigningOptions(receiptRequest: ReceiptRequest()))
        let receipt = try CMSReceipt.create(for: original, signer: pki.bob.signer())
        #expect(throws: CryptoError(.badSignature, "")) {
            try CMSReceipt.verify(CMSBytes.flip(receipt, at: receipt.count - 3), original: original)
        }
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSReceipt.verify(Data("no".utf8), original: original) }
        #expect(throws: CryptoError(.malformedInput, "")) {
            try CMSReceipt.verify(receipt.prefix(40), original: original)
        }
        // A signed message is not a receipt, and a receipt is not a message.
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSReceipt.verify(original, original: original) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CMSVerifier.verify(receipt) }
    }

    @Test("no receipt is made for a message that did not ask, or whose signature fails")
    func refusedCreation() throws {
        let pki = try CMSTestPKI.shared()
        let plain = try pki.alice.signer().sign(letter)
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CMSReceipt.create(for: plain, signer: pki.bob.signer())
        }
        let original = try pki.alice.signer().sign(letter, options: CMSSigningOptions(receiptRequest: ReceiptRequest()))
        let offset = try #require(CMSBytes.offset(of: Data("signed contract".utf8), in: original))
        #expect(throws: CryptoError(.badSignature, "")) {
            try CMSReceipt.create(for: CMSBytes.flip(original, at: offset), signer: pki.bob.signer())
        }
    }

    @Test("receipt requests carry lists, first-tier requests and explicit addresses")
    func requestForms() throws {
        let pki = try CMSTestPKI.shared()
        let cases: [(ReceiptRequest.Requestees, [String])] = [
            (.listed(["bob@example.org", "carol@example.org"]), ["receipts@example.org"]),
            (.firstTierRecipients, ["alice@example.org", "archive@example.org"]),
        ]
        for (from, to) in cases {
            let request = ReceiptRequest(signedContentIdentifier: Data("message-0001".utf8), receiptsFrom: from,
                                         receiptsTo: to)
            let der = try pki.alice.signer().sign(letter, options: CMSSigningOptions(receiptRequest: request))
            let seen = try #require(try CMSVerifier.verify(der).signer.receiptRequest)
            #expect(seen == request)
        }
        let listed = ReceiptRequest(receiptsFrom: .listed(["Bob@Example.org"]))
        #expect(listed.asks("bob@example.org"))
        #expect(!listed.asks("carol@example.org"))
    }

    @Test("malformed receipt request parameters are refused")
    func invalidRequests() throws {
        let pki = try CMSTestPKI.shared()
        let signer = try pki.alice.signer()
        let tooMany = (0...ReceiptRequest.maximumReceiptsTo).map { "user\($0)@example.org" }
        let bad = [
            ReceiptRequest(receiptsTo: tooMany),
            ReceiptRequest(receiptsTo: ["jürgen@example.org"]),
            ReceiptRequest(receiptsTo: ["not an address"]),
            ReceiptRequest(signedContentIdentifier: Data()),
            ReceiptRequest(receiptsFrom: .listed([])),
        ]
        for request in bad {
            #expect(throws: CryptoError(.invalidArgument, "")) {
                try signer.sign(letter, options: CMSSigningOptions(receiptRequest: request))
            }
        }
    }

    @Test("openssl verifies our receipt, and its receipts and requests work in ours")
    func opensslInterop() throws {
        let pki = try CMSTestPKI.shared()
        let directory = try CMSTempDirectory()
        try directory.write(Data(pki.ca.certificatePEM.utf8), to: "ca.pem")
        try directory.write(letter, to: "letter.txt")
        let alice = try pki.alice.write(to: directory)
        let bob = try pki.bob.write(to: directory)

        // Our original and receipt, checked by openssl.
        let original = try pki.alice.signer().sign(letter, options: CMSSigningOptions(receiptRequest: ReceiptRequest()))
        try directory.write(original, to: "original.der")
        try directory.write(try CMSReceipt.create(for: original, signer: pki.bob.signer()), to: "receipt.der")
        try CMSOpenSSLTool.check(["cms", "-verify_receipt", "receipt.der", "-rctform", "DER", "-in", "original.der",
                                  "-inform", "DER", "-CAfile", "ca.pem"], in: directory)

        // openssl's receipt for our original, checked by us.
        try CMSOpenSSLTool.check(["cms", "-sign_receipt", "-in", "original.der", "-inform", "DER",
                                  "-signer", bob.certificate, "-inkey", bob.key, "-outform", "DER",
                                  "-out", "their-receipt.der"], in: directory)
        let theirs = try CMSReceipt.verify(try directory.read("their-receipt.der"), original: original)
        #expect(theirs.signer.certificate == pki.bob.certificate)

        // openssl's receipt request, read and answered by us.
        try CMSOpenSSLTool.check(["cms", "-sign", "-binary", "-nodetach", "-in", "letter.txt",
                                  "-signer", alice.certificate, "-inkey", alice.key, "-receipt_request_first",
                                  "-receipt_request_to", "alice@example.org",
                                  "-outform", "DER", "-out", "their-original.der"], in: directory)
        let theirOriginal = try directory.read("their-original.der")
        let request = try #require(try CMSVerifier.verify(theirOriginal).signer.receiptRequest)
        #expect(request.receiptsFrom == .firstTierRecipients)
        #expect(request.receiptsTo == ["alice@example.org"])
        let ourReceipt = try CMSReceipt.create(for: theirOriginal, signer: pki.bob.signer())
        let answered = try CMSReceipt.verify(ourReceipt, original: theirOriginal)
        #expect(answered.signedContentIdentifier == request.signedContentIdentifier)
    }
}
