// The decision request: who asks (subject), to do what (action), to what (resource),
// under which circumstances (context). The JSON member names are part of the PDP's
// interface and documented in docs/POLICY.md; they must not change.
//
// Values are normalised when a request is made (addresses and domains lower-cased,
// domains derived from addresses, media type parameters dropped), so that two requests
// that mean the same compare equal, which the decision cache relies on.
public import Foundation

/// A question for the PDP.
public struct DecisionRequest: Sendable, Hashable, Codable {
    public var subject: RequestSubject
    public var action: PolicyAction
    public var resource: RequestResource
    public var context: RequestContext

    public init(subject: RequestSubject, action: PolicyAction, resource: RequestResource = RequestResource(),
                context: RequestContext = RequestContext()) {
        self.subject = subject
        self.action = action
        self.resource = resource
        self.context = context
    }

    /// Bounds on request JSON: 64 KiB, depth 8, strings of 1 KiB, 1,000 items per list.
    public static let jsonLimits = JSONLimits(maxBytes: 64 << 10, maxDepth: 8, maxStringBytes: 1024, maxItems: 1000)

    /// Reads a request strictly (unknown members, duplicate members and bad values are
    /// refused with their JSON path).
    public static func parse(_ json: Data) throws -> DecisionRequest {
        try StrictDecoding.decode(DecisionRequest.self, from: Array(json), limits: jsonLimits, schema: schema)
    }

    /// The members of every object of a request, for the syntax pass.
    static let schema: JSONSchema = .object(CodingKeys.self, [
        "subject": .object(RequestSubject.CodingKeys.self, [
            "certificate": .object(CertificateAttributes.CodingKeys.self),
        ]),
        "resource": .object(RequestResource.CodingKeys.self, [
            "attachments": .array(.object(RequestAttachment.CodingKeys.self)),
        ]),
        "context": .object(RequestContext.CodingKeys.self),
    ])

    enum CodingKeys: String, CodingKey, CaseIterable {
        case subject, action, resource, context
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        subject = try container.decode(RequestSubject.self, forKey: .subject)
        action = try container.decode(PolicyAction.self, forKey: .action)
        resource = try container.decodeIfPresent(RequestResource.self, forKey: .resource) ?? RequestResource()
        context = try container.decodeIfPresent(RequestContext.self, forKey: .context) ?? RequestContext()
    }
}

/// The authenticated party: a user (by mail address) or a server (by host name).
public struct RequestSubject: Sendable, Hashable, Codable {
    public let kind: SubjectKind
    /// The user's address, lower-cased (users only).
    public let address: String?
    /// The server's host name, lower-cased (servers only).
    public let name: String?
    /// The subject's domain; for users taken from the address when not given.
    public let domain: String
    /// How the identity was established; absent means unknown, which meets no minimum.
    public let assurance: AssuranceLevel?
    public let certificate: CertificateAttributes?
    /// Groups the requester vouches for (from its directory), in addition to the
    /// policy's own groups.
    public let groups: [String]
    /// The domain part of `address` (it may differ from `domain` when the requester says so).
    let addressDomain: String?

    /// Checks and normalises a subject; throws `PolicyError` (paths relative to `$`) when
    /// it does not describe one user or one server.
    public init(kind: SubjectKind, address: String? = nil, name: String? = nil, domain: String? = nil,
                assurance: AssuranceLevel? = nil, certificate: CertificateAttributes? = nil,
                groups: [String] = []) throws {
        try self.init(kind: kind, address: address, name: name, domain: domain, assurance: assurance,
                      certificate: certificate, groups: groups, at: [])
    }

    init(kind: SubjectKind, address: String?, name: String?, domain: String?, assurance: AssuranceLevel?,
         certificate: CertificateAttributes?, groups: [String], at base: [any CodingKey]) throws {
        func fault(_ key: CodingKeys?, index: Int? = nil, _ reason: String) -> PolicyError {
            let keys: [any CodingKey] = base + (key.map { [$0] } ?? []) + (index.map { [AnyKey($0)] } ?? [])
            return PolicyError(.invalidValue, at: JSONPath.render(keys), reason)
        }
        func attempt<T>(_ key: CodingKeys, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let error as PatternFault { throw fault(key, error.reason) }
        }
        self.kind = kind
        self.assurance = assurance
        self.certificate = certificate
        self.groups = groups
        switch kind {
        case .user:
            guard let address, name == nil else { throw fault(nil, "a user subject has an address and no server name") }
            let normal = try attempt(.address) { try MailAddress.normalise(address) }
            self.address = normal.address
            self.addressDomain = normal.domain
            self.name = nil
            if let domain {
                self.domain = try attempt(.domain) { try Self.checkedDomain(domain) }
            } else {
                self.domain = normal.domain
            }
        case .server:
            guard let name, let domain, address == nil else {
                throw fault(nil, "a server subject has a name and a domain and no address")
            }
            try attempt(.name) { try HostName.check(name) }
            self.name = name.lowercased()
            self.address = nil
            self.addressDomain = nil
            self.domain = try attempt(.domain) { try Self.checkedDomain(domain) }
        }
        for (index, group) in groups.enumerated() where !PolicyName.isValid(group) {
            throw fault(.groups, index: index, "\"\(group)\" is not a group name")
        }
    }

    private static func checkedDomain(_ domain: String) throws -> String {
        try HostName.check(domain)
        return domain.lowercased()
    }

    /// The key rate limits count under: `user:alice@alpha.test` or `server:mx.beta.test`.
    var identity: String {
        switch kind {
        case .user: "user:" + (address ?? "")
        case .server: "server:" + (name ?? "")
        }
    }

    /// `alice@alpha.test` or `server mx.beta.test`, for reasons.
    var displayName: String {
        switch kind {
        case .user: address ?? "?"
        case .server: "server " + (name ?? "?")
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, address, name, domain, assurance, certificate, groups
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            kind: try container.decode(SubjectKind.self, forKey: .kind),
            address: try container.decodeIfPresent(String.self, forKey: .address),
            name: try container.decodeIfPresent(String.self, forKey: .name),
            domain: try container.decodeIfPresent(String.self, forKey: .domain),
            assurance: try container.decodeIfPresent(AssuranceLevel.self, forKey: .assurance),
            certificate: try container.decodeIfPresent(CertificateAttributes.self, forKey: .certificate),
            groups: try container.decodeIfPresent([String].self, forKey: .groups) ?? [],
            at: decoder.codingPath)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(address, forKey: .address)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encode(domain, forKey: .domain)
        try container.encodeIfPresent(assurance, forKey: .assurance)
        try container.encodeIfPresent(certificate, forKey: .certificate)
        if !groups.isEmpty { try container.encode(groups, forKey: .groups) }
    }
}

/// What the requester read from the subject's certificate.
public struct CertificateAttributes: Sendable, Hashable, Codable {
    /// Issuer distinguished name, as the requester renders it.
    public var issuer: String?
    /// Subject distinguished name, as the requester renders it.
    public var subject: String?
    /// Certificate policy identifiers (RFC 5280 section 4.2.1.4).
    public var policies: [PolicyOID]

    public init(issuer: String? = nil, subject: String? = nil, policies: [PolicyOID] = []) {
        self.issuer = issuer
        self.subject = subject
        self.policies = policies
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case issuer, subject, policies
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try container.textIfPresent(.issuer)
        subject = try container.textIfPresent(.subject)
        policies = try container.decodeIfPresent([PolicyOID].self, forKey: .policies) ?? []
    }
}
