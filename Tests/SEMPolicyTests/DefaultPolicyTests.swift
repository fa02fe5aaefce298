import Foundation
@testable import SEMPolicy
import Testing

@Suite("Default policy of a new domain")
struct DefaultPolicyTests {
    typealias F = PolicyFixture

    static let facts = ExternalFacts(
        groups: ["registered-servers": GroupMembers(servers: [try! DomainPattern("mx.beta.test")]),
                 "recovery-officers": GroupMembers(addresses: [try! AddressPattern("olga@alpha.test")])],
        agreements: [Agreement(id: "alpha-beta", domains: [try! DomainPattern("beta.test")], actions: [.send, .receive],
                               groups: ["partners"])])

    static func engine() throws -> PolicyEngine {
        try PolicyEngine(document: try DefaultPolicy.document(for: "alpha.test"), facts: facts,
                         clock: ManualPolicyClock(F.mondayMorning))
    }

    @Test("the JSON text reads back as the same document")
    func text() throws {
        let text = try DefaultPolicy.jsonText(for: "Alpha.Test")
        let document = try PolicyDocument.parse(text)
        #expect(document == (try DefaultPolicy.document(for: "alpha.test")))
        #expect(document.defaults.effect == .deny)
        #expect(text.contains(#""*@alpha.test""#))
        #expect(throws: PolicyError.self) { try DefaultPolicy.document(for: "not a domain") }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let request: @Sendable () throws -> DecisionRequest
        let decision: PolicyEffect
        let rules: [String]
        var testDescription: String { label }

        init(_ label: String, _ decision: PolicyEffect, _ rules: [String],
             _ request: @escaping @Sendable () throws -> DecisionRequest) {
            self.label = label
            self.request = request
            self.decision = decision
            self.rules = rules
        }
    }

    static let cases: [Case] = [
        Case("local user submits to a local user", .permit, ["local-mail"]) {
            try F.user("alice@alpha.test", .submit, to: "bob@alpha.test")
        },
        Case("local user sends to a partner", .permit, ["partner-mail"]) {
            try F.user("alice@alpha.test", .send, to: "bob@beta.test")
        },
        Case("local user sends to a stranger", .deny, []) {
            try F.user("alice@alpha.test", .send, to: "eve@gamma.test")
        },
        Case("a stranger submits", .deny, []) { try F.user("eve@gamma.test", .submit, to: "bob@alpha.test") },
        Case("an executable attachment", .deny, ["no-executables", "local-mail"]) {
            try F.user("alice@alpha.test", .send, to: "bob@alpha.test",
                       attachments: [(9000, "application/x-msdownload")])
        },
        Case("a user looks up the directory", .permit, ["directory-lookup"]) {
            try F.user("carol@gamma.test", .lookup, assurance: .low)
        },
        Case("a lookup with unknown assurance", .deny, []) { try F.user("carol@gamma.test", .lookup, assurance: nil) },
        Case("a registered server delivers to a local user", .permit, ["receive-from-federation"]) {
            try F.server("mx.beta.test", domain: "beta.test", .receive, to: "alice@alpha.test")
        },
        Case("an unregistered server delivers", .deny, []) {
            try F.server("mx.gamma.test", domain: "gamma.test", .receive, to: "alice@alpha.test")
        },
        Case("a registered server delivers to a foreign address", .deny, []) {
            try F.server("mx.beta.test", domain: "beta.test", .receive, to: "x@gamma.test")
        },
        Case("an officer at assurance high approves recovery", .permit, ["recovery-approval"]) {
            try F.user("olga@alpha.test", .recoverKey, assurance: .high)
        },
        Case("an officer at assurance substantial approves recovery", .deny, ["recovery-needs-high"]) {
            try F.user("olga@alpha.test", .recoverKey, assurance: .substantial)
        },
        Case("a user who is no officer asks for recovery", .deny, []) {
            try F.user("alice@alpha.test", .recoverKey, assurance: .high)
        },
        Case("relay", .deny, []) { try F.server("mx.beta.test", domain: "beta.test", .relay, to: "x@gamma.test") },
        Case("admin", .deny, []) { try F.user("alice@alpha.test", .admin, assurance: .high) },
        Case("enrol", .deny, []) { try F.user("alice@alpha.test", .enrol) },
    ]

    @Test("decisions of the default policy", arguments: cases)
    func decisions(_ testCase: Case) throws {
        let response = try Self.engine().decide(try testCase.request())
        #expect(response.decision == testCase.decision, "\(response.reason)")
        #expect(response.matchedRules == testCase.rules)
    }

    @Test("the reasons of the default policy's refusals say what is wrong")
    func reasons() throws {
        let engine = try Self.engine()
        let exe = engine.decide(try F.user("alice@alpha.test", .send, to: "bob@alpha.test",
                                           attachments: [(1, "application/x-msdownload")]))
        #expect(exe.reason
                == "denied by rule 'no-executables': attachment media type application/x-msdownload is forbidden")
        let recovery = engine.decide(try F.user("olga@alpha.test", .recoverKey, assurance: .substantial))
        #expect(recovery.reason
                == "denied by rule 'recovery-needs-high': assurance substantial is below the required high")
        let partner = engine.decide(try F.user("alice@alpha.test", .send, to: "bob@beta.test"))
        #expect(partner.obligations == [.minimumAlgorithm(.aes256CBC)])
        let officer = engine.decide(try F.user("olga@alpha.test", .recoverKey, assurance: .high))
        #expect(officer.obligations == [.notifyUser(message: "your archived encryption key was recovered")])
    }
}
