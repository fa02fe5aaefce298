// Explanations for people (`semctl policy check <policy> <request>`): for every rule,
// whether it matched and, if not, the first clause that failed; then the decision.
// Explaining counts nothing and uses no cache: rate limits are only looked at ("would
// this request be over the limit?"), so an explanation never changes a later decision.
public import Foundation

/// Why the engine decides a request the way it does.
public struct PolicyExplanation: Sendable, Equatable, Codable {
    /// What one rule said.
    public struct RuleTrace: Sendable, Equatable, Codable {
        public var id: String
        public var effect: PolicyEffect
        public var matched: Bool
        /// The clause that decided the outcome: for a rule that did not match, the first
        /// clause that failed (`subjects`, `resources.attachments.maxSize`, ...); for a deny
        /// rule that fired because of a broken limit, that limit; otherwise nil.
        public var clause: String?
        /// The outcome in words.
        public var detail: String

        public init(id: String, effect: PolicyEffect, matched: Bool, clause: String?, detail: String) {
            self.id = id
            self.effect = effect
            self.matched = matched
            self.clause = clause
            self.detail = detail
        }
    }

    /// Every rule of the document, in document order.
    public var rules: [RuleTrace]
    /// The decision the engine gives (rate limits as they stand, without counting).
    public var decision: DecisionResponse
    /// The instant the explanation was computed for.
    public var time: Date

    /// The explanation as lines of text, one per rule, then the decision.
    public var text: String {
        var lines: [String] = []
        for rule in rules {
            let state = rule.matched ? "matched" : "not matched"
            let clause = rule.clause.map { " [\($0)]" } ?? ""
            lines.append("rule \(rule.id) (\(rule.effect.rawValue)): \(state)\(clause): \(rule.detail)")
        }
        lines.append("decision: \(decision.decision.rawValue): \(decision.reason)")
        if !decision.obligations.isEmpty {
            lines.append("obligations: " + decision.obligations.map(\.description).joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey {
        case rules, decision, time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rules, forKey: .rules)
        try container.encode(decision, forKey: .decision)
        try container.encode(PolicyTime.format(time), forKey: .time)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rules = try container.decode([RuleTrace].self, forKey: .rules)
        decision = try container.decode(DecisionResponse.self, forKey: .decision)
        guard let time = try container.timestampIfPresent(.time) else {
            throw PolicyError(.missingField, at: container.path(.time), "the required member \"time\" is missing")
        }
        self.time = time
    }

    init(rules: [RuleTrace], decision: DecisionResponse, time: Date) {
        self.rules = rules
        self.decision = decision
        self.time = time
    }
}

extension PolicyEngine {
    /// Explains how `request` is decided now, rule by rule.
    public func explain(_ request: DecisionRequest) -> PolicyExplanation {
        let input = prepare(request, now: clock.now)
        var probe = RateProbe(limiter: limiter, charges: false)
        let results = rules.map { rule in (rule: rule, outcome: rule.evaluate(input, rates: &probe)) }
        let traces = results.map { rule, outcome in
            Self.trace(rule, outcome, request: request)
        }
        let decision = Self.applyAgreementTerms(
            Self.combine(results, request: request, defaultEffect: document.defaults.effect), input)
        return PolicyExplanation(rules: traces, decision: decision, time: input.time.date)
    }

    private static func trace(_ rule: CompiledRule, _ outcome: RuleOutcome,
                              request: DecisionRequest) -> PolicyExplanation.RuleTrace {
        let (clause, detail): (String?, String)
        switch outcome {
        case .permits:
            (clause, detail) = (nil, "permits")
        case .fires(nil):
            (clause, detail) = (nil, "denies: \(rule.description)")
        case .fires(let violation?):
            (clause, detail) = (violation.clause, "denies: \(violation.sentence(request))")
        case .exceeded(let violation):
            (clause, detail) = (violation.clause, violation.sentence(request))
        case .withinLimits:
            (clause, detail) = ("limits", "the request stays within every limit of this deny rule")
        case .missed(let miss):
            (clause, detail) = (miss.clause, miss.sentence(request))
        }
        return PolicyExplanation.RuleTrace(id: rule.id, effect: rule.effect, matched: outcome.matched,
                                           clause: clause, detail: detail)
    }
}
