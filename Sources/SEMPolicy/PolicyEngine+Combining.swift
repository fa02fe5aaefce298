// Deny-overrides combining of rule outcomes into one response, and the reason sentence.

extension PolicyEngine {
    /// `results` are in document order.
    static func combine(_ results: [(rule: CompiledRule, outcome: RuleOutcome)], request: DecisionRequest,
                        defaultEffect: PolicyEffect) -> DecisionResponse {
        var matched: [String] = []
        var firstDeny: (rule: CompiledRule, violation: Violation?)?
        var permits: [CompiledRule] = []
        var nearMiss: (rule: CompiledRule, violation: Violation)?
        for (rule, outcome) in results {
            switch outcome {
            case .fires(let violation):
                matched.append(rule.id)
                if firstDeny == nil { firstDeny = (rule, violation) }
            case .permits:
                matched.append(rule.id)
                permits.append(rule)
            case .exceeded(let violation):
                if nearMiss == nil { nearMiss = (rule, violation) }
            case .missed, .withinLimits:
                break
            }
        }

        if let (rule, violation) = firstDeny {
            let why = violation?.sentence(request) ?? rule.description
            return DecisionResponse(decision: .deny, matchedRules: matched, obligations: [],
                                    reason: "denied by rule '\(rule.id)': \(why)")
        }
        if !permits.isEmpty {
            let names = permits.map { "'\($0.id)'" }.joined(separator: ", ")
            return DecisionResponse(decision: .permit, matchedRules: matched,
                                    obligations: ObligationMerge.merge(permits.flatMap(\.obligations)),
                                    reason: "permitted by rule\(permits.count > 1 ? "s" : "") \(names)")
        }
        if defaultEffect == .permit {
            return DecisionResponse(decision: .permit, matchedRules: [], obligations: [],
                                    reason: "permitted by default: no rule matched")
        }
        var reason = "denied by default: no rule permits \(request.action.rawValue) by \(request.subject.displayName)"
        if let recipient = request.resource.recipient ?? request.resource.recipientDomain {
            reason += " to \(recipient)"
        }
        if let (rule, violation) = nearMiss {
            reason += " (rule '\(rule.id)' would, but \(violation.sentence(request)))"
        }
        return DecisionResponse(decision: .deny, matchedRules: [], obligations: [], reason: reason)
    }
}
