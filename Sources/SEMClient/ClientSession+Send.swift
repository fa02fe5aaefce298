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
    public var receipt: Bool

    public init(to: [String], cc: [String] = [], subject: String, body: String, attachments: [URL] = [], receipt: Bool = false) {
        self.to = to.map { $0.lowercased() }
        self.cc = cc.map { $0.lowercased() }
        self.subject = subject
        self.body = body
        self.attachments = attachments
        self.receipt = receipt
    }
}

public struct SendReport: Sendable, Codable {
    public var messageId: String?
    public var encryption: String
    public var recipients: [SubmissionResult.Recipient]
}

extension ClientSession {
    public func send(_ outgoing: OutgoingLetter) throws -> SendReport {
        let recipients = Array(Set(outgoing.to + outgoing.cc)).sorted()
        guard !outgoing.to.isEmpty else { throw ClientError(.invalidArgument, "A letter needs at least one --to.") }
        var certificates: [Certificate] = []
        for recipient in recipients { certificates.append(try encryptionCertificate(of: recipient)) }
        let algorithm = try negotiate(recipients, certificates)

        var inline: [InlineAttachment] = [], references: [AttachmentReference] = []
        for file in outgoing.attachments {
            let content: Data
            do { content = try Data(contentsOf: file) } catch {
                throw ClientError(.invalidArgument, "Cannot read the attachment \(file.path): \(error)")
            }
            let mediaType = Self.mediaType(of: file)
            if content.count > configuration.attachmentThreshold {
                var (ciphertext, reference) = try AttachmentSealer.seal(content, fileName: file.lastPathComponent, mediaType: mediaType)
                reference.attachmentID = try remote { try api.upload(ciphertext) }
                reference.server = "mail.\(configuration.domain)"
                references.append(reference)
            } else {
                inline.append(InlineAttachment(fileName: file.lastPathComponent, mediaType: mediaType, content: content))
            }
        }
        let letter = Letter(from: MailAddress(address), to: outgoing.to.map { MailAddress($0) },
                            cc: outgoing.cc.map { MailAddress($0) }, subject: outgoing.subject, body: outgoing.body,
                            attachments: inline, references: references,
                            receiptRequest: outgoing.receipt ? ReceiptRequest(receiptsTo: [address]) : nil)
        let composed = try LetterComposer.compose(letter, signer: try signer, recipients: certificates,
                                                  senderCertificate: encryption.certificate, encryption: algorithm)
        let result = try remote {
            try api.submit(Submission(recipients: recipients, content: composed.message,
                                      attachments: references.map { .init(id: $0.attachmentID, mediaType: $0.mediaType) }))
        }
        if let id = result.messageId { try store.rememberSent(id, original: composed.signedData) }
        return SendReport(messageId: result.messageId, encryption: algorithm.description, recipients: result.recipients)
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

    /// The strongest content encryption both domains' profiles allow for every recipient.
    func negotiate(_ recipients: [String], _ certificates: [Certificate]) throws -> ContentEncryptionAlgorithm {
        guard let list = try trustList(), let own = list.domain(named: configuration.domain)?.profile else { return .aes256GCM }
        var chosen: ContentEncryptionAlgorithm?
        for (recipient, certificate) in zip(recipients, certificates) {
            let domain = String(recipient.split(separator: "@").last ?? "")
            guard let profile = list.domain(named: domain)?.profile else { continue }
            let suite: NegotiatedSuite
            do {
                suite = try AlgorithmNegotiation.negotiate(sender: own, recipient: profile, recipientKey: certificate.publicKey.algorithm,
                                                           senderKey: signing.certificate.publicKey.algorithm)
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
