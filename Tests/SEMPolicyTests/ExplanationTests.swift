import Foundation
@testable import SEMPolicy
import Testing

@Suite("Explanations")
struct ExplanationTests {
    typealias F = PolicyFixture

    static let policy = F.document(rules: """
        {"id": "no-exe", "effect": "deny", "description": "no programs", "actions": ["send"],
         "resources": {"attachments": {"forbiddenTypes": ["application/x-msdownload"]}}},
        {"id": "staff-mail", "effect": "permit", "description": "staff write", "actions": ["send"],
         "subjects": {"groups": ["staff"]}, "obligations": [{"type": "require-receipt"}]},
        {"id": "big-mail", "effect": "permit", "description": "big mail for the board", "actions": ["send"],
         "subjects": {"addresses": ["*@alpha.test"], "minAssurance": "high"}},
        {"id": "lookups", "effect": "permit", "description": "lookups", "actions": ["lookup"]},
        {"id": "servers", "effect": "permit", "description": "servers", "actions": ["send"],
         "subjects": {"kind": "server"}},
        {"id": "limited", "effect": "permit", "description": "a few", "actions": ["send"],
         "conditions": {"rateLimit": {"requests": 1, "windowSeconds": 60}}}
        """, groups: #"{"staff": {"addresses": ["alice@alpha.test"]}}"#)

    @Test("each rule says whether it matched and, if not, the first clause that failed")
    func traces() throws {
        let engine = try F.engine(Self.policy)
        let explanation = engine.explain(try F.user("alice@alpha.test", .send, to: "bob@beta.test",
                                                    attachments: [(5, "image/png")]))
        let expected: [PolicyExplanation.RuleTrace] = [
            .init(id: "no-exe", effect: .deny, matched: false, clause: "limits",
                  detail: "the request stays within every limit of this deny rule"),
            .init(id: "staff-mail", effect: .permit, matched: true, clause: nil, detail: "permits"),
            .init(id: "big-mail", effect: .permit, matched: false, clause: "subjects.minAssurance",
                  detail: "assurance substantial is below the required high"),
            .init(id: "lookups", effect: .permit, matched: false, clause: "actions",
                  detail: "the rule does not cover the action send"),
            .init(id: "servers", effect: .permit, matched: false, clause: "subjects.kind",
                  detail: "the subject is a user; the rule applies to servers"),
            .init(id: "limited", effect: .permit, matched: true, clause: nil, detail: "permits"),
        ]
        #expect(explanation.rules == expected)
        #expect(explanation.decision == DecisionResponse(
            decision: .permit, matchedRules: ["staff-mail", "limited"], obligations: [.requireReceipt],
            reason: "permitted by rules 'staff-mail', 'limited'"))
        #expect(explanation.time == F.mondayMorning)
    }

    @Test("explaining counts nothing: the rate limit is looked at, not charged")
    func noCharges() throws {
        let engine = try F.engine(Self.policy)
        let request = try F.user("zed@gamma.test", .send)
        for _ in 0..<3 { #expect(engine.explain(request).decision.isPermit) }
        #expect(engine.decide(request).isPermit)
        let after = engine.explain(request)
        #expect(!after.decision.isPermit)
        #expect(after.rules.last?.clause == "conditions.rateLimit")
        #expect(after.rules.last?.detail == "zed@gamma.test made more than 1 request in 60 seconds")
    }

    @Test("a firing deny rule names the broken limit; the text form lists every rule and the decision")
    func denyText() throws {
        let engine = try F.engine(Self.policy)
        let explanation = engine.explain(try F.user("alice@alpha.test", .send,
                                                    attachments: [(5, "application/x-msdownload")],
                                                    time: F.instant("2026-03-02T12:00:00Z")))
        #expect(explanation.rules[0] == .init(
            id: "no-exe", effect: .deny, matched: true, clause: "resources.attachments.forbiddenTypes",
            detail: "denies: attachment media type application/x-msdownload is forbidden"))
        #expect(explanation.text == [
            "rule no-exe (deny): matched [resources.attachments.forbiddenTypes]: "
                + "denies: attachment media type application/x-msdownload is forbidden",
            "rule staff-mail (permit): matched: permits",
            "rule big-mail (permit): not matched [subjects.minAssurance]: "
                + "assurance substantial is below the required high",
            "rule lookups (permit): not matched [actions]: the rule does not cover the action send",
            "rule servers (permit): not matched [subjects.kind]: the subject is a user; the rule applies to servers",
            "rule limited (permit): matched: permits",
            "decision: deny: denied by rule 'no-exe': attachment media type application/x-msdownload is forbidden",
        ].joined(separator: "\n"))
        let encoded = try JSONEncoder().encode(explanation)
        #expect(try JSONDecoder().decode(PolicyExplanation.self, from: encoded) == explanation)
    }

    @Test("an explanation gives the same decision as deciding")
    func sameDecision() throws {
        let requests = try [
            F.user("alice@alpha.test", .send), F.user("bob@alpha.test", .send, assurance: .high),
            F.user("x@y.test", .lookup),
            F.server("mx.beta.test", domain: "beta.test", .send), F.user("alice@alpha.test", .admin),
        ]
        for request in requests {
            let explainer = try F.engine(Self.policy)
            let decider = try F.engine(Self.policy)
            #expect(explainer.explain(request).decision == decider.decide(request))
        }
    }
}
