// The mail server's logic, without sockets: who a caller is, submission with the PDP's
// decisions, mailboxes, attachments and address books (MailService+*.swift), and the
// inbound side that SMTP hands messages to. The HTTP and SMTP layers only translate.
public import Foundation
public import SEMCrypto
public import SEMFederation
public import SEMCredentials
public import SEMLogging
import SEMMessage
import SEMPolicy

/// Limits and choices of one mail server (`mail.json`).
public struct MailSettings: Sendable, Equatable, Codable {
    public enum LegacyPolicy: String, Sendable, Codable { case refuse, quarantine }

    /// Largest message (the CMS) accepted, in bytes.
    public var maximumMessageBytes: Int
    /// Largest attachment accepted, in bytes.
    public var maximumAttachmentBytes: Int64
    /// Peers that are not registered servers: refused (the default) or quarantined.
    public var legacyPeers: LegacyPolicy
    /// Delays before each retry of an outbound delivery, in seconds; after the last one
    /// the message is given up and the sender notified.
    public var retrySchedule: [Double]
    /// The clamd-compatible scanner (HOST:PORT) for quarantined legacy mail, if any.
    public var scanner: String?

    public init(maximumMessageBytes: Int = 25 << 20, maximumAttachmentBytes: Int64 = 1 << 30,
                legacyPeers: LegacyPolicy = .refuse, retrySchedule: [Double] = [5, 30, 120, 600, 3600, 14400],
                scanner: String? = nil) {
        self.maximumMessageBytes = maximumMessageBytes
        self.maximumAttachmentBytes = maximumAttachmentBytes
        self.legacyPeers = legacyPeers
        self.retrySchedule = retrySchedule
        self.scanner = scanner
    }
}

/// The current trust list, or an error when there is none or it is stale.
public typealias TrustListSource = @Sendable () throws -> TrustList

public final class MailService: Sendable {
    public let identity: MailServerIdentity
    public let storage: any MailStorage
    let pdp: any DecisionPoint
    let trustList: TrustListSource
    public let settings: MailSettings
    /// The domain CA's HTTPS endpoint, for directory look-ups of local users.
    let caEndpoint: SEMCredentials.Endpoint?
    let logger: Logger
    /// Serialises fetches of foreign attachments, so each is fetched once.
    let foreignFetchLock = NSLock()
    /// Foreign directory answers, already validated, by address.
    let directoryCache = DirectoryCache()

    public init(identity: MailServerIdentity, storage: any MailStorage, pdp: any DecisionPoint, trustList: @escaping TrustListSource,
                settings: MailSettings = MailSettings(), caEndpoint: SEMCredentials.Endpoint? = nil,
                logger: Logger = .disabled) {
        self.caEndpoint = caEndpoint
        self.identity = identity
        self.storage = storage
        self.pdp = pdp
        self.trustList = trustList
        self.settings = settings
        self.logger = logger
    }

    public var domain: String { identity.domain }

    /// The local address a client certificate names. The TLS layer has already validated
    /// the chain against the local root with revocation; this picks the mailbox.
    public func authenticate(_ chain: [Certificate]) throws -> String {
        guard let leaf = chain.first else {
            throw MailError(.unauthenticated, "The client API needs a client certificate issued by the \(domain) CA.")
        }
        guard let address = leaf.emailAddresses.map({ $0.lowercased() }).first(where: { Self.domain(of: $0) == domain }) else {
            throw MailError(.unauthenticated, "The certificate of \(leaf.subject) names no address in \(domain).")
        }
        return address
    }

    /// What GET /v1/me returns.
    public struct Me: Sendable, Codable, Equatable {
        public var address: String
        public var domain: String
        public var profile: DomainProfile?
        public var trustListSequence: UInt64?
        public var trustListNextUpdate: Date?
        public var maximumMessageBytes: Int
        public var maximumAttachmentBytes: Int64
    }

    public func me(_ address: String) -> Me {
        let list = try? trustList()
        return Me(address: address, domain: domain, profile: list?.domain(named: domain)?.profile,
                  trustListSequence: list?.sequence, trustListNextUpdate: list?.nextUpdate,
                  maximumMessageBytes: settings.maximumMessageBytes, maximumAttachmentBytes: settings.maximumAttachmentBytes)
    }

    /// The signed trust list the server works with, for clients that check it themselves.
    public func currentTrustList() throws -> TrustList {
        do { return try trustList() } catch {
            throw MailError(.unavailable, "The server has no current trust list: \(error)")
        }
    }

    // MARK: Helpers

    /// The part after the last "@", lower-cased (as `MailAddress.domain` reads it).
    static func domain(of address: String) -> String { MailAddress(address).domain }

    /// A checked, lower-cased mailbox address.
    static func address(_ text: String) throws -> String {
        let address = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), address.count <= 254,
              address.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "<" && $0 != ">" && $0 != "," }) else {
            throw MailError(.invalidRequest, "\"\(text)\" is not a mailbox address.")
        }
        return address
    }

    /// A new globally unique message id.
    func newMessageID() -> String { "\(SecureRandom.identifier(bytes: 16))@\(domain)" }

    /// Asks the PDP; a PDP that cannot answer is a refusal, never a permit.
    func decide(_ request: DecisionRequest) throws -> DecisionResponse {
        try pdp.decide(request)
    }

    /// A user as policy sees them; `certificate` (the one the user logged in with) tells the
    /// assurance level of their identity proofing, which rules and agreements may demand.
    func user(_ address: String, certificate: Certificate? = nil) throws -> RequestSubject {
        let assurance = certificate.flatMap { SEMPolicy.AssuranceLevel(certificatePolicies: $0.policies) }
        do { return try RequestSubject(kind: .user, address: address, assurance: assurance) } catch {
            throw MailError(.invalidRequest, "\(address) cannot be asked about: \(error)")
        }
    }

    /// The id of the notification that `recipient` got `messageID`: the same however often
    /// the message arrives, so that storing it twice stores it once and a missing one can
    /// be told from one already sent.
    func deliveryNotificationID(_ messageID: String, recipient: String) -> String {
        let digest = Digest.sha256(Data("delivered\u{0}\(messageID)\u{0}\(recipient)".utf8))
        return "\(digest.prefix(16).hexString)@\(domain)"
    }

    /// Signs a delivery notification and stores it in the sender's mailbox, or queues it
    /// for the sender's domain; `id` is the notification's message id (a new one when nil).
    func notify(_ notification: DeliveryNotification, sender: String, at time: Date, id: String? = nil) throws {
        let content = try notification.signed(by: try identity.signer())
        let message = StoredMessage(id: id ?? newMessageID(), kind: .notification, sender: "postmaster@\(domain)",
                                    recipients: [sender], receivedAt: time, size: Int64(content.count),
                                    blob: .of(content))
        if Self.domain(of: sender) == domain {
            try storage.deliver(message, content: content, to: [sender])
        } else {
            try storage.enqueue(message, content: content, localMailboxes: [], remote: [Self.domain(of: sender): [sender]],
                                at: time)
        }
    }
}
