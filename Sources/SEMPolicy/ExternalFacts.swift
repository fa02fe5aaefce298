// Facts that arrive from outside the policy document at evaluation time: members of
// groups (from a directory, or the servers of the federation's trust list) and the
// agreements this domain has entered through the federation registry.
public import Foundation

/// Group members and agreements supplied to the engine alongside the policy.
public struct ExternalFacts: Sendable, Equatable, Codable {
    /// Extra members of groups the policy declares, by group name.
    public var groups: [String: GroupMembers]
    public var agreements: [Agreement]

    public init(groups: [String: GroupMembers] = [:], agreements: [Agreement] = []) {
        self.groups = groups
        self.agreements = agreements
    }

    /// Bounds on facts JSON: 16 MiB, depth 8, 100,000 items per list.
    public static let jsonLimits = JSONLimits(maxBytes: 16 << 20, maxDepth: 8, maxStringBytes: 4096, maxItems: 100_000)

    /// Reads facts strictly.
    public static func parse(_ json: Data) throws -> ExternalFacts {
        try StrictDecoding.decode(ExternalFacts.self, from: Array(json), limits: jsonLimits)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case groups, agreements
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        groups = try container.decodeIfPresent([String: GroupMembers].self, forKey: .groups) ?? [:]
        agreements = try container.decodeIfPresent([Agreement].self, forKey: .agreements) ?? []
        for name in groups.keys.sorted() {
            try PolicyName.check(name, at: JSONPath.render(container.codingPath + [CodingKeys.groups, AnyKey(name)]))
        }
        var seen = Set<String>()
        for (index, agreement) in agreements.enumerated() where !seen.insert(agreement.id).inserted {
            throw PolicyError(.invalidValue, at: "$.agreements[\(index)].id",
                              "the agreement id \"\(agreement.id)\" appears twice")
        }
    }
}

/// Leaf members added to a group: addresses, domains and server names (no nested groups;
/// nesting belongs in the policy, where cycles are checked).
public struct GroupMembers: Sendable, Equatable, Codable {
    public var addresses: [AddressPattern]
    public var domains: [DomainPattern]
    public var servers: [DomainPattern]

    public init(addresses: [AddressPattern] = [], domains: [DomainPattern] = [], servers: [DomainPattern] = []) {
        self.addresses = addresses
        self.domains = domains
        self.servers = servers
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case addresses, domains, servers
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addresses = try container.decodeIfPresent([AddressPattern].self, forKey: .addresses) ?? []
        domains = try container.decodeIfPresent([DomainPattern].self, forKey: .domains) ?? []
        servers = try container.decodeIfPresent([DomainPattern].self, forKey: .servers) ?? []
    }
}

/// An agreement between this domain and partner domains, as the federation registry
/// records it. While in force ([`notBefore`, `notAfter`)):
/// - subjects and recipients of the partner domains are members of `groups`;
/// - a request for one of `actions` whose subject domain or recipient domain is a partner
///   is "covered", which the `requireAgreement` condition asks for;
/// - a permitted send to a partner, or receive from one, must also meet the agreement's
///   `terms` for that action, when it has some (AgreementDirectionTerms).
public struct Agreement: Sendable, Equatable, Codable {
    public var id: String
    public var domains: [DomainPattern]
    public var actions: [PolicyAction]
    public var groups: [String]
    public var notBefore: Date?
    public var notAfter: Date?
    /// At most one entry per action, each for an action the agreement lists.
    public var terms: [AgreementDirectionTerms]

    public init(id: String, domains: [DomainPattern], actions: [PolicyAction], groups: [String] = [],
                notBefore: Date? = nil, notAfter: Date? = nil, terms: [AgreementDirectionTerms] = []) {
        self.id = id
        self.domains = domains
        self.actions = actions
        self.groups = groups
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.terms = terms
    }

    func isInForce(at time: Date) -> Bool {
        if let notBefore, time < notBefore { return false }
        if let notAfter, time >= notAfter { return false }
        return true
    }

    func includes(domain: String) -> Bool {
        domains.contains { $0.matches(domain) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, domains, actions, groups, notBefore, notAfter, terms
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        try PolicyName.check(id, at: container.path(.id))
        domains = try container.decode([DomainPattern].self, forKey: .domains)
        actions = try container.decodeIfPresent([PolicyAction].self, forKey: .actions) ?? []
        groups = try container.groupNamesIfPresent(.groups) ?? []
        notBefore = try container.timestampIfPresent(.notBefore)
        notAfter = try container.timestampIfPresent(.notAfter)
        if let notBefore, let notAfter, notBefore >= notAfter {
            throw PolicyError(.invalidValue, at: container.path(.notAfter), "notAfter must be later than notBefore")
        }
        terms = try container.decodeIfPresent([AgreementDirectionTerms].self, forKey: .terms) ?? []
        var seen = Set<PolicyAction>()
        for (index, entry) in terms.enumerated() {
            let at = JSONPath.render(container.codingPath + [CodingKeys.terms, AnyKey(index), AnyKey("action")])
            guard actions.contains(entry.action) else {
                throw PolicyError(.invalidValue, at: at, "the agreement does not list the action \(entry.action.rawValue)")
            }
            guard seen.insert(entry.action).inserted else {
                throw PolicyError(.invalidValue, at: at, "two entries of terms for \(entry.action.rawValue)")
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(domains, forKey: .domains)
        try container.encode(actions, forKey: .actions)
        if !groups.isEmpty { try container.encode(groups, forKey: .groups) }
        try container.encodeTimestampIfPresent(notBefore, forKey: .notBefore)
        try container.encodeTimestampIfPresent(notAfter, forKey: .notAfter)
        if !terms.isEmpty { try container.encode(terms, forKey: .terms) }
    }
}
