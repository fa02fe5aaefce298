// The policy document: version, groups, rules and defaults (docs/POLICY.md describes
// the language). Reading is strict: unknown members, wrong types, bad patterns,
// duplicate rule ids, undefined groups and group cycles are refused with the JSON path.
public import Foundation

/// A whole policy of one domain, as written in JSON.
public struct PolicyDocument: Sendable, Equatable, Codable {
    /// The language version this engine reads.
    public static let currentVersion = 1

    public var version: Int
    /// Named groups of addresses, domains, servers and other groups.
    public var groups: [String: GroupDefinition]
    /// Rules in document order; the order decides the order of matched rule ids and of
    /// reasons, never the outcome (deny overrides permit).
    public var rules: [PolicyRule]
    public var defaults: PolicyDefaults

    public init(groups: [String: GroupDefinition] = [:], rules: [PolicyRule],
                defaults: PolicyDefaults = PolicyDefaults()) {
        self.version = Self.currentVersion
        self.groups = groups
        self.rules = rules
        self.defaults = defaults
    }

    /// Reads and checks a document. Throws `PolicyError` naming the first fault.
    public static func parse(_ json: Data, limits: PolicyLimits = .standard) throws -> PolicyDocument {
        let document = try StrictDecoding.decode(PolicyDocument.self, from: Array(json), limits: limits.json)
        try document.validate(limits: limits)
        return document
    }

    /// Reads and checks a document given as text.
    public static func parse(_ json: String, limits: PolicyLimits = .standard) throws -> PolicyDocument {
        try parse(Data(json.utf8), limits: limits)
    }

    /// The document as indented JSON with sorted member names, ready to be saved and
    /// read back by `parse`.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, groups, rules, defaults
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // The version comes first: a newer document should be refused for its version,
        // not for the first member this engine has never heard of.
        version = try container.wholeNumber(.version, in: 0...Int(Int32.max))
        guard version == Self.currentVersion else {
            throw PolicyError(.unsupportedVersion, at: container.path(.version),
                              "this engine reads policy language version \(Self.currentVersion), not \(version)")
        }
        try decoder.rejectUnknownKeys(CodingKeys.self)
        groups = try container.decodeIfPresent([String: GroupDefinition].self, forKey: .groups) ?? [:]
        rules = try container.decode([PolicyRule].self, forKey: .rules)
        defaults = try container.decodeIfPresent(PolicyDefaults.self, forKey: .defaults) ?? PolicyDefaults()
    }
}

/// Bounds on policy documents. The standard values leave room for large organisations
/// while keeping a hostile or broken file from exhausting memory.
public struct PolicyLimits: Sendable, Equatable {
    public var json: JSONLimits
    public var maxRules: Int
    public var maxGroups: Int
    /// Longest chain of groups inside groups.
    public var maxGroupNesting: Int

    public init(json: JSONLimits, maxRules: Int, maxGroups: Int, maxGroupNesting: Int) {
        self.json = json
        self.maxRules = maxRules
        self.maxGroups = maxGroups
        self.maxGroupNesting = maxGroupNesting
    }

    /// 4 MiB, depth 16, strings of 4 KiB, 50,000 items per list, 10,000 rules, 5,000
    /// groups nested at most 16 deep.
    public static let standard = PolicyLimits(
        json: JSONLimits(maxBytes: 4 << 20, maxDepth: 16, maxStringBytes: 4096, maxItems: 50_000),
        maxRules: 10_000, maxGroups: 5_000, maxGroupNesting: 16)

    /// For a very large deployment that generates its policy (one rule per person, say):
    /// 64 MiB, 200,000 items per list, 200,000 rules; the other bounds as `standard`.
    public static let large = PolicyLimits(
        json: JSONLimits(maxBytes: 64 << 20, maxDepth: 16, maxStringBytes: 4096, maxItems: 200_000),
        maxRules: 200_000, maxGroups: 5_000, maxGroupNesting: 16)
}

/// What happens when no rule matches.
public struct PolicyDefaults: Sendable, Equatable, Codable {
    /// Deny unless the document says otherwise.
    public var effect: PolicyEffect

    public init(effect: PolicyEffect = .deny) {
        self.effect = effect
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case effect
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        effect = try container.decodeIfPresent(PolicyEffect.self, forKey: .effect) ?? .deny
    }
}

/// A named set of principals. A subject or recipient is a member when it matches any
/// address or domain pattern, when a server name matches, or when it is a member of a
/// nested group. Members may also be added at evaluation time (`ExternalFacts`).
public struct GroupDefinition: Sendable, Equatable, Codable {
    public var description: String?
    public var addresses: [AddressPattern]
    public var domains: [DomainPattern]
    public var servers: [DomainPattern]
    /// Names of nested groups.
    public var groups: [String]

    public init(description: String? = nil, addresses: [AddressPattern] = [], domains: [DomainPattern] = [],
                servers: [DomainPattern] = [], groups: [String] = []) {
        self.description = description
        self.addresses = addresses
        self.domains = domains
        self.servers = servers
        self.groups = groups
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case description, addresses, domains, servers, groups
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        description = try container.textIfPresent(.description)
        addresses = try container.decodeIfPresent([AddressPattern].self, forKey: .addresses) ?? []
        domains = try container.decodeIfPresent([DomainPattern].self, forKey: .domains) ?? []
        servers = try container.decodeIfPresent([DomainPattern].self, forKey: .servers) ?? []
        groups = try container.decodeIfPresent([String].self, forKey: .groups) ?? []
        for (index, name) in groups.enumerated() {
            try PolicyName.check(name, at: JSONPath.render(container.codingPath + [CodingKeys.groups, AnyKey(index)]))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(description, forKey: .description)
        if !addresses.isEmpty { try container.encode(addresses, forKey: .addresses) }
        if !domains.isEmpty { try container.encode(domains, forKey: .domains) }
        if !servers.isEmpty { try container.encode(servers, forKey: .servers) }
        if !groups.isEmpty { try container.encode(groups, forKey: .groups) }
    }
}

/// Rule ids and group names: 1-64 letters, digits, `.`, `_` or `-`, starting with a
/// letter or digit. Compared exactly.
public enum PolicyName {
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, HostName.isAlphanumeric(first), name.utf8.count <= 64 else { return false }
        return name.utf8.allSatisfy {
            HostName.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    static func check(_ name: String, at path: String) throws {
        guard isValid(name) else {
            throw PolicyError(.invalidValue, at: path, "\"\(name)\" is not a name: use 1-64 letters, digits, "
                                + "'.', '_' or '-', starting with a letter or digit")
        }
    }
}
