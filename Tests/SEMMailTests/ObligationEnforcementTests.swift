// Which obligations of a permit the mail server enforces at submission, and which it
// leaves to the client because they live inside the encrypted message.
import Foundation
@testable import SEMMail
import SEMPolicy
import Testing

@Suite("Obligations at submission")
struct ObligationEnforcementTests {
    private static func attachment(_ size: Int64, _ mediaType: String) -> MailService.CheckedAttachment {
        MailService.CheckedAttachment(record: AttachmentRecord(id: String(repeating: "ab", count: 32), owner: "alice@alpha.test",
                                                               size: size, origin: nil),
                                      size: size, mediaType: mediaType)
    }

    @Test("attachment size and media type are enforced; quarantine, which the server cannot give, refuses")
    func enforced() throws {
        let pdf = Self.attachment(2048, "application/pdf")
        #expect(MailService.obligationRefusal([.maxAttachmentSize(bytes: 4096)], [pdf]) == nil)
        #expect(MailService.obligationRefusal([.maxAttachmentSize(bytes: 1024)], [pdf])?.contains("policy allows 1024") == true)
        #expect(MailService.obligationRefusal([.allowedMediaTypes([try MediaTypePattern("application/*")])], [pdf]) == nil)
        #expect(MailService.obligationRefusal([.allowedMediaTypes([try MediaTypePattern("image/*")])], [pdf])?
            .contains("application/pdf") == true)
        #expect(MailService.obligationRefusal([.allowedMediaTypes([])], []) == nil)
        #expect(MailService.obligationRefusal([.quarantine], [])?.contains("quarantine") == true)
        // An attachment the client declares as carried inside the message is judged the same way.
        let inside = MailService.CheckedAttachment(record: nil, size: 9000, mediaType: "image/png")
        #expect(MailService.obligationRefusal([.maxAttachmentSize(bytes: 4096)], [inside])
                == "an attachment inside the message has 9000 bytes; policy allows 4096")
        #expect(MailService.obligationRefusal([.allowedMediaTypes([try MediaTypePattern("application/pdf")])], [inside])?
            .contains("image/png") == true)
    }

    @Test("receipt requests, the content cipher and notices are the client's and do not block submission")
    func clientSide() {
        let obligations: [Obligation] = [.requireReceipt, .minimumAlgorithm(.aes256GCM), .notifyUser(message: "sent outside")]
        #expect(MailService.obligationRefusal(obligations, [Self.attachment(10, "text/plain")]) == nil)
    }
}
