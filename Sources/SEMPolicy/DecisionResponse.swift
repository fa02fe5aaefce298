// The decision response. Its JSON member names are part of the PDP's interface and
// documented in docs/POLICY.md; they must not change.
public import Foundation

/// The PDP's answer.
public struct DecisionResponse: Sendable, Equatable, Codable {
    public var decision: PolicyEffect
    /// Ids of every rule that matched, permit and deny alike, in document order.
    public var matchedRules: [String]
    /// Merged obligations of the matching permit rules; empty unless the decision is permit.
    public var obligations: [Obligation]
    /// A sentence a person understands, e.g. "denied by rule 'no-executables': attachment
    /// media type application/x-msdownload is forbidden".
    public var reason: String

    public init(decision: PolicyEffect, matchedRules: [String], obligations: [Obligation], reason: String) {
        self.decision = decision
        self.matchedRules = matchedRules
        self.obligations = obligations
        self.reason = reason
    }

    public var isPermit: Bool { decision == .permit }

    /// Reads a response strictly, for clients of a remote PDP.
    public static func parse(_ json: Data) throws -> DecisionResponse {
        let limits = JSONLimits(maxBytes: 256 << 10, maxDepth: 8, maxStringBytes: 8192, maxItems: 10_000)
        return try StrictDecoding.decode(DecisionResponse.self, from: Array(json), limits: limits)
    }

    /// The response as compact JSON with sorted member names.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case decision, matchedRules, obligations, reason
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        decision = try container.decode(PolicyEffect.self, forKey: .decision)
        matchedRules = try container.decode([String].self, forKey: .matchedRules)
        obligations = try container.decode([Obligation].self, forKey: .obligations)
        reason = try container.decode(String.self, forKey: .reason)
    }
}
