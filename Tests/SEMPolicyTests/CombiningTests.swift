import Foundation
import SEMLogging
@testable import SEMPolicy
import Testing

@Suite("Deny-overrides combining")
struct CombiningTests {
    typealias F = PolicyFixture

    @Test("every action is decided by the rule that names it and only by it", arguments: PolicyAction.allCases)
    func everyAction(_ action: PolicyAction) throws {
        let rules = """
            {"id": "only-\(action.rawValue)", "effect": "permit", "description": "the one action",
             "actions": ["\(action.rawValue)"]}
            """
        let engine = try F.engine(F.document(rules: rules))
        for other in PolicyAction.allCases {
            let response = engine.decide(try F.user("alice@alpha.test", other, to: "bob@alpha.test"))
            if other == action {
                #expect(response.decision == .permit, "\(other)")
                #expect(response.matchedRules == ["only-\(action.rawValue)"])
                #expect(response.reason == "permitted by rule 'only-\(action.rawValue)'")
            } else {
                #expect(response.decision == .deny, "\(other)")
                #expect(response.matchedRules.isEmpty)
                #expect(response.reason.hasPrefix(
                    "denied by default: no rule permits \(other.rawValue) by alice@alpha.test"))
            }
        }
    }

    static let mixed = F.document(rules: """
        {"id": "mail", "effect": "permit", "description": "local mail", "actions": ["send"],
         "subjects": {"domains": ["alpha.test"]}, "obligations": [{"type": "require-receipt"}]},
        {"id": "no-mallory", "effect": "deny", "description": "Mallory is suspended", "actions": ["send"],
         "subjects": {"addresses": ["mallory@alpha.test"]}},
        {"id": "audit", "effect": "permit", "description": "audited mail", "actions": ["send"],
         "subjects": {"addresses": ["*@alpha.test"]}, "obligations": [{"type": "quarantine"}]},
        {"id": "no-exe", "effect": "deny", "description": "no programs", "actions": ["send"],
         "resources": {"attachments": {"forbiddenTypes": ["application/x-msdownload"]}}}
        """)

    @Test("a matching deny wins over matching permits; every matched rule is listed in document order")
    func denyAndPermit() throws {
        let engine = try F.engine(Self.mixed)
        let response = engine.decide(try F.user("mallory@alpha.test", .send, to: "bob@alpha.test"))
        #expect(response.decision == .deny)
        #expect(response.matchedRules == ["mail", "no-mallory", "audit"])
        #expect(response.obligations.isEmpty)
        #expect(response.reason == "denied by rule 'no-mallory': Mallory is suspended")
    }

    @Test("the first deny in document order gives the reason when two deny rules fire")
    func twoDenies() throws {
        let engine = try F.engine(Self.mixed)
        let response = engine.decide(try F.user("mallory@alpha.test", .send, to: "bob@alpha.test",
                                                attachments: [(100, "application/x-msdownload")]))
        #expect(response.matchedRules == ["mail", "no-mallory", "audit", "no-exe"])
        #expect(response.reason == "denied by rule 'no-mallory': Mallory is suspended")
    }

    @Test("a deny rule with a limit fires only when the limit is broken, and says which")
    func denyWithLimit() throws {
        let engine = try F.engine(Self.mixed)
        let clean = engine.decide(try F.user("alice@alpha.test", .send, to: "bob@alpha.test",
                                             attachments: [(100, "image/png")]))
        #expect(clean.decision == .permit)
        let exe = engine.decide(try F.user(
            "alice@alpha.test", .send, to: "bob@alpha.test",
            attachments: [(100, "image/png"), (100, "Application/X-MSDownload; name=x.exe")]))
        #expect(exe.decision == .deny)
        #expect(exe.reason == "denied by rule 'no-exe': attachment media type application/x-msdownload is forbidden")
    }

    @Test("only permits match: permit with the obligations of every matching permit rule")
    func onlyPermits() throws {
        let engine = try F.engine(Self.mixed)
        let response = engine.decide(try F.user("alice@alpha.test", .send, to: "bob@beta.test"))
        #expect(response.decision == .permit)
        #expect(response.matchedRules == ["mail", "audit"])
        #expect(response.obligations == [.requireReceipt, .quarantine])
        #expect(response.reason == "permitted by rules 'mail', 'audit'")
    }

    @Test("nothing matches: the default effect, deny unless the document says otherwise")
    func nothingMatches() throws {
        let engine = try F.engine(Self.mixed)
        let response = engine.decide(try F.user("carol@gamma.test", .send, to: "bob@alpha.test"))
        #expect(response == DecisionResponse(
            decision: .deny, matchedRules: [], obligations: [],
            reason: "denied by default: no rule permits send by carol@gamma.test to bob@alpha.test"))

        let noDefaults = #"{"version": 1, "rules": []}"#
        #expect(try F.engine(noDefaults).decide(try F.user("a@alpha.test", .lookup)).decision == .deny)
    }

    @Test("a default-permit document permits what no rule covers and still honours its deny rules")
    func defaultPermit() throws {
        let json = F.document(rules: """
            {"id": "no-relay", "effect": "deny", "description": "this domain relays for nobody", "actions": ["relay"]}
            """, defaults: #"{"effect": "permit"}"#)
        let engine = try F.engine(json)
        let lookup = engine.decide(try F.user("a@alpha.test", .lookup))
        #expect(lookup == DecisionResponse(decision: .permit, matchedRules: [], obligations: [],
                                           reason: "permitted by default: no rule matched"))
        let relay = engine.decide(try F.server("mx.beta.test", domain: "beta.test", .relay, to: "x@gamma.test"))
        #expect(relay.decision == .deny)
        #expect(relay.reason == "denied by rule 'no-relay': this domain relays for nobody")
    }

    @Test("a default deny names the permit rule that almost applied and the limit that stopped it")
    func nearMiss() throws {
        let json = F.document(rules: """
            {"id": "small-mail", "effect": "permit", "description": "small mail", "actions": ["submit"],
             "resources": {"attachments": {"maxSize": 1000}}}
            """)
        let response = try F.engine(json).decide(try F.user("a@alpha.test", .submit, to: "b@alpha.test",
                                                             attachments: [(10, "text/plain"), (5000, "image/png")]))
        #expect(response.decision == .deny)
        #expect(response.reason == "denied by default: no rule permits submit by a@alpha.test to b@alpha.test "
                + "(rule 'small-mail' would, but an attachment of 5000 bytes exceeds the limit of 1000 bytes)")
    }

    @Test("decisions encode with the documented member names")
    func responseJSON() throws {
        let response = DecisionResponse(decision: .permit, matchedRules: ["a"],
                                        obligations: [.minimumAlgorithm(.aes256GCM)], reason: "permitted by rule 'a'")
        let text = String(decoding: try response.jsonData(), as: UTF8.self)
        #expect(text == #"{"decision":"permit","matchedRules":["a"],"#
                + #""obligations":[{"algorithm":"AES-256-GCM","type":"minimum-algorithm"}],"#
                + #""reason":"permitted by rule 'a'"}"#)
        #expect(try DecisionResponse.parse(Data(text.utf8)) == response)
    }

    @Test("the engine logs loading, facts it cannot place and, at debug level, each decision")
    func logging() throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(component: "pdp", level: .debug, handler: handler)
        let document = try PolicyDocument.parse(Self.mixed)
        let engine = try PolicyEngine(document: document, logger: logger)
        _ = engine.decide(try F.user("mallory@alpha.test", .send, to: "bob@alpha.test"))
        engine.updateFacts(ExternalFacts(groups: ["nobody-declared-this": GroupMembers()]))
        #expect(handler.records.map(\.event) == ["policy.loaded", "policy.decision", "policy.facts",
                                                 "policy.facts.unknown-groups"])
        #expect(handler.records[0].field("rules") == "4")
        #expect(handler.records[1].field("decision") == "deny")
        #expect(handler.records[1].field("rules") == "mail,no-mallory,audit")
        #expect(handler.records[3].level == .warning)

        let quiet = InMemoryLogHandler()
        let infoEngine = try PolicyEngine(document: document, logger: Logger(component: "pdp", handler: quiet))
        _ = infoEngine.decide(try F.user("alice@alpha.test", .send))
        #expect(quiet.records.map(\.event) == ["policy.loaded"])
    }
}
