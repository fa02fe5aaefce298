// Reading: sync fetches new mailbox entries and stores them sealed, with a sealed summary
// made by decrypting and verifying each one; read, attachment save and receipts work from
// the local store. A failed verification stops the action with one line naming the reason.
public import Foundation
import SEMCredentials
public import SEMCrypto
import SEMFederation
public import SEMMail
import SEMTransport
public import SEMMessage

/// A letter as `sem read` shows it, verified.
public struct ReadResult: Sendable {
    public let letter: Letter
    public let signer: Certificate
    public let assurance: String?
    public let receiptSent: Bool
    /// Why a requested receipt was not sent (policy, or the reader declined), else nil.
    public let receiptWithheld: String?
}

extension ClientSession {
    /// Fetches what changed on the server; returns how many entries were stored.
    @discardableResult
    public func sync() throws -> Int {
        var stored = 0
        var cursor = try store.cursor
        while true {
            let page = try remote { try api.changes(after: cursor) }
            for entry in page.entries {
                if entry.deleted {
                    try store.markDeleted(entry.message.id)
                    continue
                }
                let content = try remote { try api.content(entry.message.id) }
                try store.store(id: entry.message.id, modseq: entry.modseq, kind: entry.message.kind.rawValue, content: content,
                                summary: summarise(id: entry.message.id, kind: entry.message.kind, sender: entry.message.sender,
                                                   date: entry.message.receivedAt, content: content))
                stored += 1
            }
            guard page.cursor > cursor, !page.entries.isEmpty else { break }
            cursor = page.cursor
            try store.setCursor(cursor)
        }
        try pullAddressBook()
        return stored
    }

    public func inbox() throws -> [ClientStore.Summary] { try store.summaries().filter { $0.kind == "letter" } }

    /// Delivery notifications and signed receipts, verified when they were stored.
    public func receipts() throws -> [ClientStore.Summary] {
        try store.summaries().filter { $0.kind == "notification" || $0.kind == "receipt" }
    }

    /// Decrypts and verifies a stored letter; sends the signed receipt it asks for once.
    public func read(_ id: String, sendReceipt: Bool = true) throws -> ReadResult {
        let read = try verifiedLetter(id)
        var sent = false, withheld: String?
        if let request = read.receiptRequest, try store.setting("receipt:\(id)") == nil {
            // RFC 2634 §2.3 leaves sending to the recipient; here the domain's receipt
            // policy from the trust list decides first ("never" withholds every receipt),
            // and the reader may decline one.
            if try ownReceiptPolicy() == .never {
                withheld = "the receipt policy of \(configuration.domain) sends none"
            } else if !sendReceipt {
                withheld = "declined"
            } else {
                let receipt = try ReceiptComposer.receipt(for: read, signer: try signer)
                _ = try remote { try api.submit(Submission(recipients: request.receiptsTo, content: receipt)) }
                try store.setSetting("receipt:\(id)", Data("sent".utf8))
                sent = true
            }
        }
        let assurance = AssuranceLevel(policies: read.signerCertificate.policies)?.rawValue
        return ReadResult(letter: read.letter, signer: read.signerCertificate, assurance: assurance, receiptSent: sent,
                          receiptWithheld: withheld)
    }

    /// Fetches attachment `number` (1-based: inline ones first, then references) of a
    /// letter, checks both digests, and writes the plaintext to `path` (mode 0600) only then.
    public func saveAttachment(_ id: String, number: Int, to path: URL) throws -> (name: String, bytes: Int) {
        let letter = try verifiedLetter(id).letter
        let plaintext: Data, name: String, mediaType: String
        if number >= 1, number <= letter.attachments.count {
            plaintext = letter.attachments[number - 1].content
            name = letter.attachments[number - 1].fileName
            mediaType = letter.attachments[number - 1].mediaType
        } else if number > letter.attachments.count, number <= letter.attachments.count + letter.references.count {
            let reference = letter.references[number - letter.attachments.count - 1]
            let ciphertext = try remote {
                try api.attachment(reference.attachmentID) { [progress] done in
                    progress?("downloading \(reference.fileName)", done, reference.ciphertextSize)
                }
            }
            do { plaintext = try AttachmentOpener.open(ciphertext, reference: reference) } catch {
                throw ClientError(.verificationFailed, "attachment \(number) of \(id) does not match its signed reference: \(error)")
            }
            name = reference.fileName
            mediaType = reference.mediaType
        } else {
            throw ClientError(.invalidArgument, "Letter \(id) has \(letter.attachments.count + letter.references.count) attachments.")
        }
        let what = "attachment \(number) (\(name)) of \(id)"
        // The domain's attachment rules (PDP fetch-attachment, media-type and size
        // obligations) judge the plaintext before it is written; then the scanner.
        let check = try remote {
            try api.checkAttachments(AttachmentCheck(attachments: [.init(mediaType: mediaType, size: Int64(plaintext.count))]))
        }
        guard check.permitted else { throw ClientError(.refused, "\(what) may not be saved: \(check.reason).") }
        try scan(plaintext, what: what)
        guard FileManager.default.createFile(atPath: path.path, contents: plaintext, attributes: [.posixPermissions: 0o600]) else {
            throw ClientError(.storage, "Cannot write \(path.path).")
        }
        return (name, plaintext.count)
    }

    /// Scans decrypted content with the configured scanner; a detection, or a scanner
    /// that cannot answer, refuses the action (P7: the client is where plaintext exists).
    func scan(_ plaintext: Data, what: String) throws {
        guard let endpoint = configuration.scanner else { return }
        let verdict: ScanVerdict
        do { verdict = try ClamdScanner(endpoint: endpoint).scan(plaintext) } catch {
            throw ClientError(.refused, "\(what) could not be scanned for malware, so it was not saved: \(error)")
        }
        if case .infected(let signature) = verdict {
            throw ClientError(.refused, "\(what) holds malware (\(signature)); it was not saved.")
        }
    }

    /// Reports a letter as abuse to the domain's administrator (through the mail server).
    public func report(_ id: String, reason: String) throws -> AbuseReport {
        try remote { try api.report(ReportRequest(messageId: id, reason: reason)) }
    }

    /// This domain's receipt policy as its registered profile says; on-request outside a
    /// federation.
    func ownReceiptPolicy() throws -> ReceiptPolicy {
        try trustList()?.domain(named: configuration.domain)?.profile.receipts ?? .onRequest
    }

    // MARK: Verification

    func verifiedLetter(_ id: String) throws -> ReadLetter {
        let content = try store.content(of: id)
        let read: ReadLetter
        do { read = try LetterReader.read(content, key: encryption.key, certificate: encryption.certificate) } catch {
            throw ClientError(.verificationFailed, "letter \(id) does not open or its signature does not verify: \(error)")
        }
        guard read.senderCheck.isConsistent else {
            throw ClientError(.verificationFailed, "letter \(id): the sender does not match the signer (\(read.senderCheck.problems)).")
        }
        try validate(read.signerCertificate, of: read.letter.from.address, purpose: .emailSigning, intermediates: read.certificates)
        return read
    }

    func summarise(id: String, kind: StoredMessage.Kind, sender: String, date: Date, content: Data) -> ClientStore.Summary {
        var summary = ClientStore.Summary(id: id, kind: "letter", from: sender, subject: "", date: date, verdict: "valid",
                                          assurance: nil, attachments: 0, receiptRequested: false)
        if kind == .notification {
            summary.kind = "notification"
            do {
                let opened = try DeliveryNotification.open(content)
                let note = opened.notification
                summary.subject = note.status == .delivered ? "delivered to \(note.recipient) (message \(note.messageId))"
                    : "NOT delivered to \(note.recipient) (message \(note.messageId)): \(note.reason)"
                summary.from = note.server
                summary.date = note.time
                try validateServer(opened.signer, host: note.server, intermediates: opened.certificates)
            } catch {
                summary.verdict = "\(error)"
            }
            return summary
        }
        do {
            let read = try LetterReader.read(content, key: encryption.key, certificate: encryption.certificate)
            summary.from = read.letter.from.address
            summary.subject = read.letter.subject
            summary.date = read.letter.date
            summary.attachments = read.letter.attachments.count + read.letter.references.count
            summary.receiptRequested = read.receiptRequest != nil
            summary.assurance = AssuranceLevel(policies: read.signerCertificate.policies)?.rawValue
            if !read.senderCheck.isConsistent { summary.verdict = "sender does not match the signer" }
            try validate(read.signerCertificate, of: read.letter.from.address, purpose: .emailSigning, intermediates: read.certificates)
        } catch let error as ClientError {
            summary.verdict = error.reason
        } catch {
            if let receipt = matchReceipt(content) { return receipt(summary) }
            summary.verdict = "does not open or verify: \(error)"
        }
        return summary
    }

    /// A signed receipt for one of our sent letters, with its verdict.
    private func matchReceipt(_ content: Data) -> ((ClientStore.Summary) -> ClientStore.Summary)? {
        guard let originals = try? store.sentOriginals() else { return nil }
        for (id, original) in originals {
            guard let verified = try? ReceiptChecker.verify(content, original: original) else { continue }
            let signer = verified.signer.certificate
            let from = signer.emailAddresses.first ?? "?"
            return { summary in
                var receipt = summary
                receipt.kind = "receipt"
                receipt.from = from
                receipt.subject = "signed receipt for message \(id)"
                do {
                    // The receipt carries no chain; the directory's answer supplies the intermediates.
                    let chain = try self.remote { try self.api.lookup(from) }.chain.map { try Certificate(pemEncoded: $0) }
                    try self.validate(signer, of: from, purpose: .emailSigning, intermediates: chain)
                } catch { receipt.verdict = "\(error)" }
                return receipt
            }
        }
        return nil
    }

    /// A notification's signer: the named server's certificate, under its domain's root.
    private func validateServer(_ certificate: Certificate, host: String, intermediates extra: [Certificate]) throws {
        guard certificate.dnsNames.contains(host.lowercased()) else {
            throw ClientError(.verificationFailed, "the notification is signed by a certificate not naming \(host).")
        }
        let domain = host.split(separator: ".").dropFirst().joined(separator: ".")
        let verdict: ValidationVerdict
        if domain == configuration.domain {
            // Our own server: its CA answers OCSP for it, so revocation is checked hard.
            verdict = PathValidator(trustAnchors: [root], knownIntermediates: intermediates,
                                    revocationChecker: OnlineRevocationChecker())
                .validate(certificate, intermediates: extra, policy: ValidationPolicy(purpose: .tlsClient))
        } else {
            // Another domain's server is vouched for by the trust list, which names its
            // certificate byte for byte; a server taken out of the list stops counting at
            // the next list, which is the federation's revocation of servers.
            guard let list = try trustList(), let registered = list.domain(named: domain) else {
                throw ClientError(.verificationFailed, "\(domain) is not in the trust list.")
            }
            guard (try? list.owner(ofServerCertificate: certificate))?.domain.name == domain else {
                throw ClientError(.verificationFailed, "the notification signer is not a registered server of \(domain).")
            }
            verdict = PathValidator(trustAnchors: [registered.rootCertificate], revocationChecker: NoRevocationEvidence())
                .validate(certificate, intermediates: extra, policy: ValidationPolicy(purpose: .tlsClient, revocationMode: .softFail))
        }
        if let failure = verdict.failure { throw ClientError(.verificationFailed, "notification signer: \(failure)") }
    }
}
