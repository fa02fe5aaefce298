// Rules and their match clauses. A clause is either a target (which requests the rule
// speaks about; the same for permit and deny) or a limit (what the rule accepts: a
// permit rule applies only within its limits, a deny rule fires when any limit is
// broken). docs/POLICY.md lists which clause is which.

/// One rule of a policy document.
public struct PolicyRule: Sendable, Equatable, Codable {
    /// Unique within the document; appears in decisions and explanations.
    public var id: String
    public var effect: PolicyEffect
    /// Says in words what the rule is for; used in reasons.
    public var description: String
    /// Actions the rule covers (a target); at least one.
    public var actions: [PolicyAction]
    public var subjects: SubjectMatch?
    public var resources: ResourceMatch?
    public var conditions: RuleConditions?
    /// Duties attached to a permit (permit rules only).
    public var obligations: [Obligation]

    public init(id: String, effect: PolicyEffect, description: String, actions: [PolicyAction],
                subjects: SubjectMatch? = nil, resources: ResourceMatch? = nil, conditions: RuleConditions? = nil,
                obligations: [Obligation] = []) {
        self.id = id
        self.effect = effect
        self.description = description
        self.actions = actions
        self.subjects = subjects
        self.resources = resources
        self.conditions = conditions
        self.obligations = obligations
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, effect, description, actions, subjects, resources, conditions, obligations
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        try PolicyName.check(id, at: container.path(.id))
        effect = try container.decode(PolicyEffect.self, forKey: .effect)
        description = try container.text(.description)
        guard let actions = try container.nonEmptyListIfPresent(PolicyAction.self, .actions) else {
            throw PolicyError(.missingField, at: container.path(.actions), "the required member \"actions\" is missing")
        }
        self.actions = actions
        if Set(actions).count != actions.count {
            throw PolicyError(.invalidValue, at: container.path(.actions), "an action is listed twice")
        }
        subjects = try container.decodeIfPresent(SubjectMatch.self, forKey: .subjects)
        resources = try container.decodeIfPresent(ResourceMatch.self, forKey: .resources)
        conditions = try container.decodeIfPresent(RuleConditions.self, forKey: .conditions)
        obligations = try container.decodeIfPresent([Obligation].self, forKey: .obligations) ?? []
        if effect == .deny && !obligations.isEmpty {
            throw PolicyError(.invalidValue, at: container.path(.obligations),
                              "obligations belong to permit rules only")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(effect, forKey: .effect)
        try container.encode(description, forKey: .description)
        try container.encode(actions, forKey: .actions)
        try container.encodeIfPresent(subjects, forKey: .subjects)
        try container.encodeIfPresent(resources, forKey: .resources)
        try container.encodeIfPresent(conditions, forKey: .conditions)
        if !obligations.isEmpty { try container.encode(obligations, forKey: .obligations) }
    }
}

/// Who the rule is about. `addresses`, `domains`, `servers` and `groups` are targets
/// combined with OR (the subject must match one of them if any is given); `kind` and
/// `certificate` are targets combined with AND; `minAssurance` is a limit.
public struct SubjectMatch: Sendable, Equatable, Codable {
    public var addresses: [AddressPattern]?
    public var domains: [DomainPattern]?
    /// Server names, for subjects of kind server.
    public var servers: [DomainPattern]?
    public var groups: [String]?
    public var kind: SubjectKind?
    public var minAssurance: AssuranceLevel?
    public var certificate: CertificateMatch?

    public init(addresses: [AddressPattern]? = nil, domains: [DomainPattern]? = nil, servers: [DomainPattern]? = nil,
                groups: [String]? = nil, kind: SubjectKind? = nil, minAssurance: AssuranceLevel? = nil,
                certificate: CertificateMatch? = nil) {
        self.addresses = addresses
        self.domains = domains
        self.servers = servers
        self.groups = groups
        self.kind = kind
        self.minAssurance = minAssurance
        self.certificate = certificate
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case addresses, domains, servers, groups, kind, minAssurance, certificate
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard !container.allKeys.isEmpty else { throw ClauseFault.empty(decoder) }
        addresses = try container.nonEmptyListIfPresent(AddressPattern.self, .addresses)
        domains = try container.nonEmptyListIfPresent(DomainPattern.self, .domains)
        servers = try container.nonEmptyListIfPresent(DomainPattern.self, .servers)
        groups = try container.groupNamesIfPresent(.groups)
        kind = try container.decodeIfPresent(SubjectKind.self, forKey: .kind)
        minAssurance = try container.decodeIfPresent(AssuranceLevel.self, forKey: .minAssurance)
        certificate = try container.decodeIfPresent(CertificateMatch.self, forKey: .certificate)
    }
}

/// Attributes of the subject's certificate (targets, all must hold): issuer and subject
/// distinguished names compared exactly as the requester renders them, and policy
/// identifiers of which the certificate must carry at least one.
public struct CertificateMatch: Sendable, Equatable, Codable {
    public var issuer: String?
    public var subject: String?
    public var policies: [PolicyOID]?

    public init(issuer: String? = nil, subject: String? = nil, policies: [PolicyOID]? = nil) {
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
        guard !container.allKeys.isEmpty else { throw ClauseFault.empty(decoder) }
        issuer = try container.textIfPresent(.issuer)
        subject = try container.textIfPresent(.subject)
        policies = try container.nonEmptyListIfPresent(PolicyOID.self, .policies)
    }
}

/// What the request is about. `recipients` is a target; `maxMessageSize` and
/// `attachments` are limits.
public struct ResourceMatch: Sendable, Equatable, Codable {
    public var recipients: RecipientMatch?
    /// The originator of the mail: a user subject itself, or the `resource.sender` that a
    /// server subject names (the envelope sender of a delivery).
    public var senders: RecipientMatch?
    /// Largest message (the request's `resource.size`) in bytes.
    public var maxMessageSize: Int?
    public var attachments: AttachmentLimits?

    public init(recipients: RecipientMatch? = nil, senders: RecipientMatch? = nil, maxMessageSize: Int? = nil,
                attachments: AttachmentLimits? = nil) {
        self.recipients = recipients
        self.senders = senders
        self.maxMessageSize = maxMessageSize
        self.attachments = attachments
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case recipients, senders, maxMessageSize, attachments
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard !container.allKeys.isEmpty else { throw ClauseFault.empty(decoder) }
        recipients = try container.decodeIfPresent(RecipientMatch.self, forKey: .recipients)
        senders = try container.decodeIfPresent(RecipientMatch.self, forKey: .senders)
        maxMessageSize = try container.wholeNumberIfPresent(.maxMessageSize, in: Sizes.range)
        attachments = try container.decodeIfPresent(AttachmentLimits.self, forKey: .attachments)
    }
}

/// The recipient of the request (a target): it must match one of the address or
/// domain patterns or be a member of one of the groups.
public struct RecipientMatch: Sendable, Equatable, Codable {
    public var addresses: [AddressPattern]?
    public var domains: [DomainPattern]?
    public var groups: [String]?

    public init(addresses: [AddressPattern]? = nil, domains: [DomainPattern]? = nil, groups: [String]? = nil) {
        self.addresses = addresses
        self.domains = domains
        self.groups = groups
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case addresses, domains, groups
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard !container.allKeys.isEmpty else { throw ClauseFault.empty(decoder) }
        addresses = try container.nonEmptyListIfPresent(AddressPattern.self, .addresses)
        domains = try container.nonEmptyListIfPresent(DomainPattern.self, .domains)
        groups = try container.groupNamesIfPresent(.groups)
    }
}

/// Limits on the attachments of a request.
public struct AttachmentLimits: Sendable, Equatable, Codable {
    /// Largest single attachment in bytes.
    public var maxSize: Int?
    /// Most attachments in one request.
    public var maxCount: Int?
    /// Every attachment must match one of these.
    public var allowedTypes: [MediaTypePattern]?
    /// No attachment may match any of these.
    public var forbiddenTypes: [MediaTypePattern]?

    public init(maxSize: Int? = nil, maxCount: Int? = nil, allowedTypes: [MediaTypePattern]? = nil,
                forbiddenTypes: [MediaTypePattern]? = nil) {
        self.maxSize = maxSize
        self.maxCount = maxCount
        self.allowedTypes = allowedTypes
        self.forbiddenTypes = forbiddenTypes
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxSize, maxCount, allowedTypes, forbiddenTypes
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard !container.allKeys.isEmpty else { throw ClauseFault.empty(decoder) }
        maxSize = try container.wholeNumberIfPresent(.maxSize, in: Sizes.range)
        maxCount = try container.wholeNumberIfPresent(.maxCount, in: 0...Sizes.maxAttachments)
        allowedTypes = try container.nonEmptyListIfPresent(MediaTypePattern.self, .allowedTypes)
        forbiddenTypes = try container.nonEmptyListIfPresent(MediaTypePattern.self, .forbiddenTypes)
    }
}

/// Byte counts accepted in policies and requests: 0 to 2^50 (one pebibyte).
enum Sizes {
    static let range = 0...(1 << 50)
    static let maxAttachments = 1000
}

/// Faults shared by the clause types.
enum ClauseFault {
    static func empty(_ decoder: any Decoder) -> PolicyError {
        PolicyError(.invalidValue, at: decoder.path, "the clause is empty; leave it out instead")
    }
}

extension KeyedDecodingContainer {
    /// A non-empty list of group names, each checked for form (existence is checked
    /// once the whole document is read).
    func groupNamesIfPresent(_ key: Key) throws -> [String]? {
        guard let names = try nonEmptyListIfPresent(String.self, key) else { return nil }
        for (index, name) in names.enumerated() {
            try PolicyName.check(name, at: JSONPath.render(codingPath + [key, AnyKey(index)]))
        }
        return names
    }
}
