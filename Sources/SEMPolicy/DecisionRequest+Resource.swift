// The resource and context parts of a decision request.
public import Foundation

/// What the request is about: one recipient (the mail server asks once per recipient),
/// the message size and the attachments.
public struct RequestResource: Sendable, Hashable, Codable {
    /// The recipient's address, lower-cased.
    public let recipient: String?
    /// The recipient's domain; taken from the address when not given.
    public let recipientDomain: String?
    /// Groups the requester vouches for on the recipient's behalf.
    public let recipientGroups: [String]
    /// Message size in bytes.
    public let size: Int?
    public let attachments: [RequestAttachment]
    /// The message's originator, lower-cased, when the subject is a server acting for it
    /// (a server delivering a partner user's mail asks `receive` with it), so that an
    /// agreement's sender terms can be checked. A user subject is its own sender.
    public let sender: String?
    /// The domain part of `recipient`.
    let recipientAddressDomain: String?
    /// The domain part of `sender`.
    let senderDomain: String?

    /// Checks and normalises a resource; throws `PolicyError` (paths relative to `$`).
    public init(recipient: String? = nil, recipientDomain: String? = nil, recipientGroups: [String] = [],
                size: Int? = nil, attachments: [RequestAttachment] = [], sender: String? = nil) throws {
        try self.init(recipient: recipient, recipientDomain: recipientDomain, recipientGroups: recipientGroups,
                      size: size, attachments: attachments, sender: sender, at: [])
    }

    /// The empty resource, for actions such as lookup or admin.
    public init() {
        recipient = nil
        recipientAddressDomain = nil
        recipientDomain = nil
        recipientGroups = []
        size = nil
        attachments = []
        sender = nil
        senderDomain = nil
    }

    init(recipient: String?, recipientDomain: String?, recipientGroups: [String], size: Int?,
         attachments: [RequestAttachment], sender: String?, at base: [any CodingKey]) throws {
        func fault(_ key: CodingKeys, index: Int? = nil, _ reason: String) -> PolicyError {
            PolicyError(.invalidValue, at: JSONPath.render(base + [key] + (index.map { [AnyKey($0)] } ?? [])), reason)
        }
        var domain: String?
        if let recipientDomain {
            do { try HostName.check(recipientDomain) } catch let error as PatternFault {
                throw fault(.recipientDomain, error.reason)
            }
            domain = recipientDomain.lowercased()
        }
        if let recipient {
            do {
                let normal = try MailAddress.normalise(recipient)
                self.recipient = normal.address
                self.recipientAddressDomain = normal.domain
                domain = domain ?? normal.domain
            } catch let error as PatternFault {
                throw fault(.recipient, error.reason)
            }
        } else {
            self.recipient = nil
            self.recipientAddressDomain = nil
        }
        self.recipientDomain = domain
        if let sender {
            do {
                let normal = try MailAddress.normalise(sender)
                self.sender = normal.address
                self.senderDomain = normal.domain
            } catch let error as PatternFault {
                throw fault(.sender, error.reason)
            }
        } else {
            self.sender = nil
            self.senderDomain = nil
        }
        for (index, group) in recipientGroups.enumerated() where !PolicyName.isValid(group) {
            throw fault(.recipientGroups, index: index, "\"\(group)\" is not a group name")
        }
        if let size, !Sizes.range.contains(size) { throw fault(.size, "the size \(size) is out of range") }
        if attachments.count > Sizes.maxAttachments {
            throw fault(.attachments, "more than \(Sizes.maxAttachments) attachments")
        }
        self.recipientGroups = recipientGroups
        self.size = size
        self.attachments = attachments
    }

    /// Message size plus every attachment, for the `maxSize` condition.
    var totalSize: Int { attachments.reduce(size ?? 0) { $0 + $1.size } }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case recipient, recipientDomain, recipientGroups, size, attachments, sender
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            recipient: try container.decodeIfPresent(String.self, forKey: .recipient),
            recipientDomain: try container.decodeIfPresent(String.self, forKey: .recipientDomain),
            recipientGroups: try container.decodeIfPresent([String].self, forKey: .recipientGroups) ?? [],
            size: try container.wholeNumberIfPresent(.size, in: Sizes.range),
            attachments: try container.decodeIfPresent([RequestAttachment].self, forKey: .attachments) ?? [],
            sender: try container.decodeIfPresent(String.self, forKey: .sender),
            at: decoder.codingPath)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(recipient, forKey: .recipient)
        try container.encodeIfPresent(recipientDomain, forKey: .recipientDomain)
        if !recipientGroups.isEmpty { try container.encode(recipientGroups, forKey: .recipientGroups) }
        try container.encodeIfPresent(size, forKey: .size)
        if !attachments.isEmpty { try container.encode(attachments, forKey: .attachments) }
        try container.encodeIfPresent(sender, forKey: .sender)
    }
}

/// One attachment: its size and media type.
public struct RequestAttachment: Sendable, Hashable, Codable {
    public let size: Int
    /// `type/subtype`, lower-cased, parameters removed.
    public var mediaType: String { parsed.description }
    let parsed: MediaType

    /// Throws `PolicyError` (path `$`) for a negative size or a malformed media type.
    public init(size: Int, mediaType: String) throws {
        try self.init(size: size, mediaType: mediaType, path: "$")
    }

    init(size: Int, mediaType: String, path: @autoclosure () -> String) throws {
        guard Sizes.range.contains(size) else {
            throw PolicyError(.invalidValue, at: path(), "the size \(size) is out of range")
        }
        do {
            parsed = try MediaType(parsing: mediaType)
        } catch let fault as PatternFault {
            throw PolicyError(.invalidValue, at: path(), fault.reason)
        }
        self.size = size
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case size, mediaType
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let size = try container.wholeNumber(.size, in: Sizes.range)
        try self.init(size: size, mediaType: try container.decode(String.self, forKey: .mediaType),
                      path: container.path(.mediaType))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(size, forKey: .size)
        try container.encode(mediaType, forKey: .mediaType)
    }
}

/// Circumstances of the request.
public struct RequestContext: Sendable, Hashable, Codable {
    /// The instant to decide for. Absent: the engine's clock, and the answer may come
    /// from the decision cache. Present: an "as of" question, never cached.
    public let time: Date?
    /// The client's IP address.
    public var clientIP: String? { client.map(\.text) }
    /// TLS version of the client connection; absent means no TLS.
    public let tls: TLSVersion?
    let client: (text: String, address: IPAddress)?

    /// Throws `PolicyError` (path `$`) for an IP address that does not parse.
    public init(time: Date? = nil, clientIP: String? = nil, tls: TLSVersion? = nil) throws {
        try self.init(time: time, clientIP: clientIP, tls: tls, path: "$")
    }

    public init() {
        time = nil
        tls = nil
        client = nil
    }

    init(time: Date?, clientIP: String?, tls: TLSVersion?, path: @autoclosure () -> String) throws {
        self.time = time
        self.tls = tls
        if let clientIP {
            guard let address = IPAddress(clientIP) else {
                throw PolicyError(.invalidValue, at: path(), "\"\(clientIP)\" is not an IPv4 or IPv6 address")
            }
            client = (clientIP, address)
        } else {
            client = nil
        }
    }

    public static func == (lhs: RequestContext, rhs: RequestContext) -> Bool {
        lhs.time == rhs.time && lhs.tls == rhs.tls && lhs.client?.address == rhs.client?.address
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(time)
        hasher.combine(tls)
        hasher.combine(client?.address)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case time, clientIP, tls
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(time: try container.timestampIfPresent(.time),
                      clientIP: try container.decodeIfPresent(String.self, forKey: .clientIP),
                      tls: try container.decodeIfPresent(TLSVersion.self, forKey: .tls),
                      path: container.path(.clientIP))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeTimestampIfPresent(time, forKey: .time)
        try container.encodeIfPresent(clientIP, forKey: .clientIP)
        try container.encodeIfPresent(tls, forKey: .tls)
    }
}
