// SQLiteMailStorage: idempotent delivery, sync by modification sequence, the queue's
// states, attachments once with their readers, and address-book versions.
import Foundation
import SEMMail
import SEMStorage
import SEMTestSupport
import Testing

@Suite("Mail storage")
struct MailStorageTests {
    let scratch: ScratchDirectory
    let storage: SQLiteMailStorage

    init() throws {
        scratch = try ScratchDirectory()
        storage = try SQLiteMailStorage(databasePath: scratch.path("mail.sqlite"), blobDirectory: scratch.url.appendingPathComponent("blobs"))
    }

    private func message(_ id: String, _ content: Data, to recipients: [String]) -> StoredMessage {
        StoredMessage(id: id, sender: "alice@alpha.test", recipients: recipients, receivedAt: Date(),
                      size: Int64(content.count), blob: .of(content))
    }

    @Test("a repeated delivery stores nothing new; sync reports each change once, deletions as tombstones")
    func deliveryAndSync() throws {
        let content = Data("ciphertext".utf8)
        let letter = message("1@alpha.test", content, to: ["bob@beta.test"])
        #expect(try storage.deliver(letter, content: content, to: ["bob@beta.test"]) == ["bob@beta.test"])
        #expect(try storage.deliver(letter, content: content, to: ["bob@beta.test"]).isEmpty)
        let second = message("2@alpha.test", Data("other".utf8), to: ["bob@beta.test"])
        try storage.deliver(second, content: Data("other".utf8), to: ["bob@beta.test"])

        let all = try storage.changes(of: "bob@beta.test", after: 0, limit: 10)
        #expect(all.map(\.message.id) == ["1@alpha.test", "2@alpha.test"])
        #expect(try storage.content(of: all[0].message) == content)
        let cursor = all.last!.modseq
        #expect(try storage.changes(of: "bob@beta.test", after: cursor, limit: 10).isEmpty)
        _ = try storage.update(owner: "bob@beta.test", messageID: "1@alpha.test", flags: ["seen"], deleted: false)
        _ = try storage.update(owner: "bob@beta.test", messageID: "2@alpha.test", flags: nil, deleted: true)
        let changes = try storage.changes(of: "bob@beta.test", after: cursor, limit: 10)
        #expect(changes.map(\.message.id) == ["1@alpha.test", "2@alpha.test"])
        #expect(changes[0].flags == ["seen"])
        #expect(changes[1].deleted)
        #expect(try storage.update(owner: "carol@beta.test", messageID: "1@alpha.test", flags: [], deleted: false) == nil)
        #expect(try storage.changes(of: "carol@beta.test", after: 0, limit: 10).isEmpty)
    }

    @Test("changes of one kind skip the others but keep the mailbox's cursor")
    func changesOfOneKind() throws {
        let letter = message("1@alpha.test", Data("letter".utf8), to: ["alice@alpha.test"])
        var notice = message("2@beta.test", Data("notice".utf8), to: ["alice@alpha.test"])
        notice.kind = .notification
        let later = message("3@alpha.test", Data("later".utf8), to: ["alice@alpha.test"])
        for (stored, text) in [(letter, "letter"), (notice, "notice"), (later, "later")] {
            try storage.deliver(stored, content: Data(text.utf8), to: ["alice@alpha.test"])
        }
        let notices = try storage.changes(of: "alice@alpha.test", after: 0, limit: 10, kind: .notification)
        #expect(notices.map(\.message.id) == ["2@beta.test"])
        let letters = try storage.changes(of: "alice@alpha.test", after: 0, limit: 10, kind: .message)
        #expect(letters.map(\.message.id) == ["1@alpha.test", "3@alpha.test"])
        // The cursor is the mailbox's: asking after the notice finds no other notice, and
        // a change to it (a deletion) comes back as the next notification change.
        #expect(try storage.changes(of: "alice@alpha.test", after: notices[0].modseq, limit: 10, kind: .notification).isEmpty)
        _ = try storage.update(owner: "alice@alpha.test", messageID: "2@beta.test", flags: nil, deleted: true)
        let deleted = try storage.changes(of: "alice@alpha.test", after: notices[0].modseq, limit: 10, kind: .notification)
        #expect(deleted.map(\.deleted) == [true])
        #expect(deleted[0].modseq > letters[1].modseq)
    }

    @Test("queue items move from pending to delivered, rescheduled or failed, and survive reopening")
    func queue() throws {
        let content = Data("letter".utf8)
        let now = Date()
        try storage.enqueue(message("q@alpha.test", content, to: ["bob@beta.test", "eve@gamma.test"]), content: content,
                            localMailboxes: ["alice@alpha.test"],
                            remote: ["beta.test": ["bob@beta.test"], "gamma.test": ["eve@gamma.test"]], at: now)
        let due = try storage.dueQueueItems(at: now, limit: 10)
        #expect(due.map(\.domain) == ["beta.test", "gamma.test"])
        try storage.markDelivered(due[0])
        try storage.reschedule(due[1], recipients: ["eve@gamma.test"], to: now + 60, error: "451 try later")
        #expect(try storage.dueQueueItems(at: now, limit: 10).isEmpty)

        let reopened = try SQLiteMailStorage(databasePath: scratch.path("mail.sqlite"),
                                             blobDirectory: scratch.url.appendingPathComponent("blobs"))
        let later = try reopened.dueQueueItems(at: now + 61, limit: 10)
        #expect(later.count == 1)
        #expect(later.first?.attempts == 1)
        #expect(later.first?.lastError == "451 try later")
        try reopened.markFailed(later[0], error: "550 no such user")
        #expect(try reopened.queueItems(of: "q@alpha.test").map(\.state) == [.delivered, .failed])
        #expect(try reopened.changes(of: "alice@alpha.test", after: 0, limit: 10).count == 1)
    }

    @Test("an attachment is stored once; readers are those granted; a foreign one becomes present when fetched")
    func attachments() throws {
        let bytes = Data(repeating: 7, count: 100_000)
        var offset = 0
        let record = try storage.putAttachment(owner: "alice@alpha.test", maxSize: 1 << 20, origin: nil) { count in
            defer { offset += count }
            return bytes.subdata(in: min(offset, bytes.count)..<min(offset + count, bytes.count))
        }
        #expect(record.id == BlobID.of(bytes).hex)
        try storage.grantAttachment(record.id, to: ["bob@beta.test", "carol@beta.test"])
        #expect(try storage.mayRead(attachment: record.id, address: "carol@beta.test"))
        #expect(try storage.mayRead(attachment: record.id, domain: "beta.test"))
        #expect(try !storage.mayRead(attachment: record.id, address: "eve@gamma.test"))
        #expect(try !storage.mayRead(attachment: record.id, domain: "gamma.test"))
        let footprint = try storage.attachmentFootprint()
        #expect(footprint.stored == 100_000)
        #expect(footprint.perMailbox == 300_000)

        #expect(throws: MailError(.tooLarge, "")) {
            _ = try storage.putAttachment(owner: "alice@alpha.test", maxSize: 10, origin: nil) { bytes.prefix($0) }
        }

        let foreign = BlobID.of(Data("far away".utf8)).hex
        try storage.recordForeignAttachment(foreign, origin: "mail.gamma.test", owner: "eve@gamma.test",
                                            readers: ["bob@beta.test"])
        #expect(try storage.attachment(id: foreign)?.size == -1)
        var served = false
        let fetched = try storage.putAttachment(owner: "eve@gamma.test", maxSize: 100, origin: "mail.gamma.test") { _ in
            defer { served = true }
            return served ? Data() : Data("far away".utf8)
        }
        #expect(fetched.id == foreign)
        #expect(try storage.attachment(id: foreign)?.size == 8)
    }

    @Test("an address book is replaced only from the version the client read")
    func addressBookVersions() throws {
        #expect(try storage.addressBook(of: "alice@alpha.test") == nil)
        #expect(try storage.putAddressBook(of: "alice@alpha.test", content: Data("v1".utf8), expected: 0).version == 1)
        #expect(throws: MailError(.versionConflict, "")) {
            _ = try storage.putAddressBook(of: "alice@alpha.test", content: Data("v1b".utf8), expected: 0)
        }
        #expect(try storage.putAddressBook(of: "alice@alpha.test", content: Data("v2".utf8), expected: 1).version == 2)
        #expect(try storage.addressBook(of: "alice@alpha.test")?.content == Data("v2".utf8))
    }
}
