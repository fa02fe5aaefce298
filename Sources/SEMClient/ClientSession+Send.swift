// sem send: every recipient's encryption certificate is looked up through the server and
// validated here (path to its domain's root, purpose, revocation); the content encryption
// is negotiated from both domains' profiles; attachments above the threshold are sealed
// under their own keys and uploaded once; the letter is signed (with protected headers)
// and then encrypted for the recipients and the sender, and submitted.
public import Foundation
import SEMCrypto
import SEMFederation
public import SEMMail
import SEMMessage
import SEMTransport

public struct OutgoingLetter: Sendable {
    public var to: [String]
    public var cc: [String]
    public var subject: String
    public var body: String
    public var attachments: [URL]
    /// Attachments that only one recipient receives (address → files).
    public var privateAttachments: [String: [URL]]
    public var receipt: Bool

    public init(to: [String], cc: [String] = [], subject: String, body: String, attachments: [URL] = [],
                privateAttachments: [String: [URL]] = [:], receipt: Bool = false) {
        self.to = to.map { $0.lowercased() }
        self.cc = cc.map { $0.lowercased() }
        self.subject = subject
        self.body = body
        self.attachments = attachments
        self.privateAttachments = Dictionary(privateAttachments.map { ($0.key.lowercased(), $0.value) },
                                             uniquingKeysWith: +)
        self.receipt = receipt
    }
}

public struct SendReport: Sendable, Codable {
    /// One submitted letter: its id, whom it was encrypted for, and the attachments that
    /// only these recipients received.
    public struct Sent: Sendable, Codable {
        public var messageId: String?
        public var recipients: [String]
        public var privateAttachments: [String]
    }

    /// The first submitted letter's id (the only one unless some recipients get private attachments).
    public var messageId: String?
    public var encryption: String
    public var recipients: [SubmissionResult.Recipient]
    public var letters: [Sent]
}

extension ClientSession {
    /// Sends a letter. Recipients with private attachments (`--attach-for`) get a letter of
    /// their own with the same headers and body plus those attachments, encrypted only
    /// for them and the sender, so no other recipient can read or even see them; shared
    /// large attachments are still uploaded once and referred to from every letter.
    public func send(_ outgoing: OutgoingLetter) throws -> SendReport {
        let recipients = Array(Set(outgoing.to + outgoing.cc)).sorted()
        guard !outgoing.to.isEmpty else { throw ClientError(.invalidArgument, "A letter needs at least one --to.") }
        for address in outgoing.privateAttachments.keys.sorted() where !recipients.contains(address) {
            throw ClientError(.invalidArgument, "--attach-for names \(address), who is not among the recipients.")
        }
        var certificates: [String: Certificate] = [:]
        for recipient in recipients { certificates[recipient] = try encryptionCertificate(of: recipient) }
        let algorithm = try negotiate(recipients, recipients.map { certificates[$0]! })
        let shared = try prepare(outgoing.attachments)

        // Recipients grouped by the private attachments they get; the group without any first.
        let groups = Dictionary(grouping: recipients) { outgoing.privateAttachments[$0] ?? [] }
            .sorted { ($0.key.count, $0.value[0]) < ($1.key.count, $1.value[0]) }
        var report = SendReport(messageId: nil, encryption: algorithm.description, recipients: [], letters: [])
        for (files, members) in groups {
            let extra = try prepare(files)
            let letter = Letter(from: MailAddress(address), to: outgoing.to.map { MailAddress($0) },
                                cc: outgoing.cc.map { MailAddress($0) }, subject: outgoing.subject, body: outgoing.body,
                                attachments: shared.inline + extra.inline, references: shared.references + extra.references,
                                receiptRequest: outgoing.receipt ? ReceiptRequest(receiptsTo: [address]) : nil)
            let composed = try LetterComposer.compose(letter, signer: try signer, recipients: members.map { certificates[$0]! },
                                                      senderCertificate: encryption.certificate, encryption: algorithm)
            let references = shared.references + extra.references
            let result = try remote {
                // Inline attachments are declared so that the policy can judge what the
                // server cannot see; the referenced ones are named by their upload ids.
                try api.submit(Submission(recipients: members, content: composed.message,
                                          attachments: references.map { .init(id: $0.attachmentID, mediaType: $0.mediaType) },
                                          inlineAttachments: (shared.inline + extra.inline).map {
                                              .init(mediaType: $0.mediaType, size: Int64($0.content.count))
                                          }))
            }
            if let id = result.messageId { try store.rememberSent(id, original: composed.signedData) }
            report.messageId = report.messageId ?? result.messageId
            report.recipients += result.recipients
            report.letters.append(.init(messageId: result.messageId, recipients: members,
                                        privateAttachments: files.map(\.lastPathComponent)))
        }
        return report
    }

    /// Reads the files; those above the threshold are sealed under their own keys and
    /// uploaded once (with progress), the others travel inside the letter.
    private func prepare(_ files: [URL]) throws -> (inline: [InlineAttachment], references: [AttachmentReference]) {
        var inline: [InlineAttachment] = [], references: [AttachmentReference] = []
        for file in files {
            let content: Data
            do { content = try Data(contentsOf: file) } catch {
                throw ClientError(.invalidArgument, "Cannot read the attachment \(file.path): \(error)")
            }
            let mediaType = Self.mediaType(of: file)
            if content.count > configuration.attachmentThreshold {
                var (ciphertext, reference) = try AttachmentSealer.seal(content, fileName: file.lastPathComponent, mediaType: mediaType)
                let name = file.lastPathComponent
                reference.attachmentID = try remote {
                    try api.upload(ciphertext) { [progress] done in progress?("uploading \(name)", done, Int64(ciphertext.count)) }
                }
                reference.server = "mail.\(configuration.domain)"
                references.append(reference)
            } else {
                inline.append(InlineAttachment(fileName: file.lastPathComponent, mediaType: mediaType, content: content))
            }
        }
        return (inline, references)
    }

    /// The recipient's encryption certificate from the directory, fully validated.
    func encryptionCertificate(of recipient: String) throws -> Certificate {
        let entry = try remote { try api.lookup(recipient) }
        let certificate: Certificate, chain: [Certificate]
        do {
            certificate = try Certificate(pemEncoded: entry.encryption)
            chain = try entry.chain.map { try Certificate(pemEncoded: $0) }
        } catch {
            throw ClientError(.verificationFailed, "The directory returned an unreadable certificate for \(recipient).")
        }
        try validate(certificate, of: recipient, purpose: .emailEncryption, intermediates: chain)
        return certificate
    }

    /// The strongest content encryption both domains' profiles allow for every recipient,
    /// within the algorithms the agreement's direction towards the recipient's domain requires.
    func negotiate(_ recipients: [String], _ certificates: [Certificate]) throws -> ContentEncryptionAlgorithm {
        guard let list = try trustList(), let own = list.domain(named: configuration.domain)?.profile else { return .aes256GCM }
        var chosen: ContentEncryptionAlgorithm?
        for (recipient, certificate) in zip(recipients, certificates) {
            let domain = MailAddress(recipient).domain
            guard let profile = list.domain(named: domain)?.profile else { continue }
            let suite: NegotiatedSuite
            do {
                let required = domain == configuration.domain ? []
                    : list.directionTerms(from: configuration.domain, to: domain)?.requiredAlgorithms ?? []
                suite = try AlgorithmNegotiation.negotiate(sender: own, recipient: profile, recipientKey: certificate.publicKey.algorithm,
                                                           senderKey: signing.certificate.publicKey.algorithm,
                                                           agreementRequirements: required)
            } catch let error as FederationError {
                throw ClientError(.refused, "No common algorithm with \(recipient): \(error.reason)")
            }
            if let chosen, chosen != suite.contentEncryption {
                throw ClientError(.refused, "The recipients' domains agree on no single content encryption "
                                  + "(\(chosen) and \(suite.contentEncryption)); send separate letters.")
            }
            chosen = suite.contentEncryption
        }
        return chosen ?? .aes256GCM
    }

    /// Runs a server call, turning its error into one sentence.
    func remote<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as HTTPRemoteError {
            throw ClientError(error.status == 404 ? .notFound : .refused, "The server said: \(error.message)")
        }
    }

    static func mediaType(of file: URL) -> String {
        switch file.pathExtension.lowercased() {
        case "pdf": "application/pdf"
        case "txt", "text": "text/plain"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "zip": "application/zip"
        case "csv": "text/csv"
        case "exe", "dll", "msi": "application/x-msdownload"
        default: "application/octet-stream"
        }
    }
}
