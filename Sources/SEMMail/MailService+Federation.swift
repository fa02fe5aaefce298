// Mail between domains. Inbound: a message arrives over SMTP from a registered server of
// the sender's domain with a transfer assertion that verifies; the PDP decides `receive`
// per recipient; the message is stored once, and the sender is told it was delivered.
// Attachments: a foreign attachment is recorded at delivery and fetched from the sending
// server once, when the first local recipient asks for it.
public import Foundation
public import SEMCrypto
import SEMFederation
public import SEMPolicy
public import SEMStorage
import SEMTransport

extension MailService {
    /// TLS for connections to other domains' servers: ours presented, theirs checked
    /// against the trust list (`expectedDomain`'s registered certificate).
    func federationClientTLS(expectedDomain: String) throws -> TLSContext {
        try TLSContext(.client(peerVerifier: FederationPeerVerifier(trustList: trustList, expectedDomain: expectedDomain),
                               chain: identity.chain, key: identity.credential.key))
    }

    /// The domain and host of a peer server from the certificate it presented.
    func registeredPeer(_ certificate: Certificate) throws -> (domain: String, host: String) {
        let list = try currentTrustList()
        guard let owner = try? list.owner(ofServerCertificate: certificate) else {
            throw MailError(.forbidden, "\(certificate.subject) is not a registered server of the federation.")
        }
        return (owner.domain.name, owner.server.hostName)
    }

    // MARK: Inbound

    /// What became of an inbound message for each recipient.
    public struct InboundResult: Sendable, Equatable {
        public var accepted: [String]
        public var refused: [(String, String)]
        public static func == (lhs: InboundResult, rhs: InboundResult) -> Bool {
            lhs.accepted == rhs.accepted && lhs.refused.map(\.0) == rhs.refused.map(\.0)
        }
    }

    /// Whether the PDP lets the peer server deliver `sender`'s mail to `recipient` (the
    /// sender is what an agreement's sender terms are checked against).
    public func mayReceive(from peerHost: String, peerDomain: String, sender: String? = nil,
                           to recipient: String) throws -> DecisionResponse {
        let subject: RequestSubject
        do { subject = try RequestSubject(kind: .server, name: peerHost, domain: peerDomain) } catch {
            throw MailError(.invalidRequest, "The peer \(peerHost) cannot be described to the policy: \(error)")
        }
        return try decide(DecisionRequest(subject: subject, action: .receive, resource: try RequestResource(recipient: recipient, sender: sender)))
    }

    /// Stores a message received over SMTP from the registered server `peer` and returns
    /// the recipients it went to. Checks the transfer assertion against the certificate
    /// the peer presented; a repeated delivery (same message id) stores nothing new.
    @discardableResult
    public func receive(_ data: Data, sender: String, recipients: [String], peerCertificate: Certificate,
                        at time: Date = Date()) throws -> [String] {
        let peer = try registeredPeer(peerCertificate)
        guard Self.domain(of: sender) == peer.domain else {
            throw MailError(.forbidden, "\(peer.host) is registered for \(peer.domain) and may not send as \(sender).")
        }
        let transfer = try TransferMessage.parse(data, sender: sender, recipients: recipients)
        let assertion = try TransferAssertion.verify(transfer.assertion, peerCertificate: peerCertificate, sender: sender,
                                                     recipients: recipients, content: transfer.content, at: time)
        guard Self.domain(of: transfer.messageID) == peer.domain, assertion.messageId == transfer.messageID else {
            throw MailError(.forbidden, "The message id \(transfer.messageID) was not assigned by \(peer.domain).")
        }
        let message = StoredMessage(id: transfer.messageID, kind: transfer.kind, sender: sender, recipients: recipients,
                                    receivedAt: time, size: Int64(transfer.content.count), blob: .of(transfer.content),
                                    attachments: transfer.attachments)
        for id in transfer.attachments {
            guard (try? BlobID(hex: id)) != nil else { throw MailError(.invalidRequest, "\(id) is not an attachment id.") }
            try storage.recordForeignAttachment(id, origin: peer.host, owner: sender, readers: recipients)
        }
        let added = try storage.deliver(message, content: transfer.content, to: recipients)
        logger.info("mail.received", ["id": message.id, "from": peer.host, "recipients": recipients.count, "new": added.count])
        if transfer.kind == .message {
            // Every recipient without a notification yet, not only those just added: when
            // the server stopped after storing the message and before notifying, the peer
            // heard no reply, sends again, and this time nothing is new. The notification's
            // id follows from message and recipient, so none is made twice.
            for recipient in recipients {
                let id = deliveryNotificationID(message.id, recipient: recipient)
                guard try storage.message(id: id) == nil else { continue }
                try notify(DeliveryNotification(status: .delivered, messageId: message.id, recipient: recipient,
                                                server: identity.hostName, time: time), sender: sender, at: time, id: id)
            }
        }
        return added
    }

    // MARK: Attachments across domains

    /// Fetches a foreign attachment from the server it came from, checks that its bytes
    /// hash to its id (ids are SHA-256 of the ciphertext), and stores it for the domain.
    func fetchForeignAttachment(_ record: AttachmentRecord) throws -> AttachmentRecord {
        // One fetch at a time per server process: a second reader waits and then finds
        // the attachment present.
        try foreignFetchLock.withLock {
            if let present = try storage.attachment(id: record.id), present.size >= 0 { return present }
            guard let origin = record.origin, let (originDomain, server) = try originServer(origin) else {
                throw MailError(.unavailable, "The server that holds attachment \(record.id) is not in the trust list.")
            }
            let (host, port) = try Self.hostPort(server.https)
            let client = HTTPClient(configuration: HTTPClientConfiguration(
                host: host, port: port, tls: try federationClientTLS(expectedDomain: originDomain), serverName: server.hostName))
            defer { client.close() }
            let response: HTTPClientResponse
            do { response = try client.send(HTTPClientRequest(method: "GET", target: "/v1/federation/attachments/\(record.id)")) } catch {
                throw MailError(.unavailable, "\(server.hostName) could not be reached for attachment \(record.id): \(error)")
            }
            guard response.status == 200 else {
                throw MailError(.unavailable, "\(server.hostName) refused attachment \(record.id): \(response.remoteError())")
            }
            let stored = try storage.putAttachment(owner: record.owner, maxSize: settings.maximumAttachmentBytes, origin: origin) {
                try response.body.read(maximum: $0)
            }
            guard stored.id == record.id else {
                throw MailError(.forbidden, "\(server.hostName) sent bytes that are not attachment \(record.id).")
            }
            logger.info("mail.attachment.fetched", ["id": record.id, "from": server.hostName, "bytes": stored.size])
            return stored
        }
    }

    /// An attachment a registered server of another domain asks for: only when one of the
    /// message's recipients is in that domain.
    public func attachmentForPeer(_ id: String, peerCertificate: Certificate) throws -> (AttachmentRecord, BlobReader) {
        let peer = try registeredPeer(peerCertificate)
        guard let record = try storage.attachment(id: id), record.size >= 0,
              try storage.mayRead(attachment: id, domain: peer.domain) else {
            throw MailError(.notFound, "There is no attachment \(id) for a recipient in \(peer.domain).")
        }
        logger.info("mail.attachment.served", ["id": id, "to": peer.host, "bytes": record.size])
        return (record, try storage.openAttachment(record))
    }

    private func originServer(_ host: String) throws -> (String, TrustedServer)? {
        guard let found = try currentTrustList().server(hostName: host) else { return nil }
        return (found.domain.name, found.server)
    }

    static func hostPort(_ endpoint: String) throws -> (String, UInt16) {
        guard let (host, port) = HostPort.split(endpoint) else {
            throw MailError(.unavailable, "The endpoint \(endpoint) is not host:port.")
        }
        return (host, port)
    }
}
