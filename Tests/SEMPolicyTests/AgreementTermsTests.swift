import Foundation
@testable import SEMPolicy
import Testing

@Suite("Agreement terms: senders, recipients, assurance and obligations per direction")
struct AgreementTermsTests {
    typealias F = PolicyFixture

    /// alpha's users write to partners and registered servers deliver to alpha's users;
    /// `finance` is a group of alpha's policy.
    static let policy = F.document(rules: """
        {"id": "partner-mail", "effect": "permit", "description": "local users write to partners",
         "actions": ["send"], "subjects": {"domains": ["alpha.test"], "kind": "user"},
         "resources": {"recipients": {"groups": ["partners"]}},
         "obligations": [{"type": "minimum-algorithm", "algorithm": "AES-256-CBC"}]},
        {"id": "inbound", "effect": "permit", "description": "registered servers deliver to local users",
         "actions": ["receive"], "subjects": {"groups": ["registered-servers"], "kind": "server"},
         "resources": {"recipients": {"domains": ["alpha.test"]}}}
        """, groups: """
        {"partners": {}, "registered-servers": {}, "finance": {"addresses": ["fiona@alpha.test"]}}
        """)

    /// alpha → beta: finance or alice may write to bob and the desk of beta at assurance
    /// substantial, with receipts, AES-256-GCM and attachments of at most 1 MiB, no zip.
    /// beta → alpha: only beta's staff addresses.
    static let facts = """
        {"groups": {"registered-servers": {"servers": ["mx.beta.test"]}},
         "agreements": [{"id": "alpha-beta", "domains": ["beta.test"], "actions": ["send", "receive"],
           "groups": ["partners"], "terms": [
             {"action": "send", "senders": ["alice@alpha.test"], "senderGroups": ["finance"],
              "recipients": ["bob@beta.test", "desk@beta.test"], "minAssurance": "substantial",
              "forbiddenTypes": ["application/zip"],
              "obligations": [{"type": "require-receipt"}, {"type": "minimum-algorithm", "algorithm": "AES-256-GCM"},
                              {"type": "max-attachment-size", "bytes": 1048576}]},
             {"action": "receive", "senders": ["*@staff.beta.test"], "recipients": ["*@alpha.test"]}]}]}
        """

    static func engine(facts: String = facts) throws -> PolicyEngine {
        try F.engine(policy, facts: try ExternalFacts.parse(Data(facts.utf8)))
    }

    static func inbound(from sender: String?, to recipient: String) throws -> DecisionRequest {
        DecisionRequest(subject: try RequestSubject(kind: .server, name: "mx.beta.test", domain: "beta.test"),
                        action: .receive, resource: try RequestResource(recipient: recipient, sender: sender))
    }

    @Test("a sender within the terms is permitted, with the agreement's obligations merged into the rule's")
    func permittedWithObligations() throws {
        let response = try Self.engine().decide(try F.user("alice@alpha.test", .send, to: "bob@beta.test"))
        #expect(response.decision == .permit, "\(response.reason)")
        #expect(response.matchedRules == ["partner-mail"])
        #expect(response.obligations == [.requireReceipt, .minimumAlgorithm(.aes256GCM), .maxAttachmentSize(bytes: 1_048_576)])
        #expect(response.reason == "permitted by rule 'partner-mail' under agreement 'alpha-beta'")
        let viaGroup = try Self.engine().decide(try F.user("fiona@alpha.test", .send, to: "desk@beta.test"))
        #expect(viaGroup.decision == .permit, "a member of a sender group: \(viaGroup.reason)")
        let vouched = try Self.engine().decide(try F.user("gus@alpha.test", .send, to: "bob@beta.test", groups: ["finance"]))
        #expect(vouched.decision == .permit, "a sender group the requester vouches for: \(vouched.reason)")
    }

    @Test("a sender outside the patterns and groups is denied although the rules permit")
    func senderOutsidePattern() throws {
        let response = try Self.engine().decide(try F.user("mallory@alpha.test", .send, to: "bob@beta.test"))
        #expect(response.decision == .deny)
        #expect(response.obligations.isEmpty)
        #expect(response.matchedRules == ["partner-mail"])
        #expect(response.reason
                == "denied by agreement 'alpha-beta': the sender mallory@alpha.test is not among the agreement's senders")
    }

    @Test("a recipient outside the patterns is denied")
    func recipientOutsidePattern() throws {
        let response = try Self.engine().decide(try F.user("alice@alpha.test", .send, to: "carl@beta.test"))
        #expect(response.decision == .deny)
        #expect(response.reason
                == "denied by agreement 'alpha-beta': the recipient carl@beta.test is not among the agreement's recipients")
    }

    @Test("a subject below the agreement's minimum assurance, or of unknown assurance, is denied",
          arguments: [(AssuranceLevel?.some(.low), "assurance low is below the agreement's minimum substantial"),
                      (nil, "the subject's assurance is unknown; the agreement requires substantial")])
    func lowAssurance(_ assurance: AssuranceLevel?, _ why: String) throws {
        let engine = try Self.engine()
        let response = engine.decide(try F.user("alice@alpha.test", .send, to: "bob@beta.test", assurance: assurance))
        #expect(response.decision == .deny)
        #expect(response.reason == "denied by agreement 'alpha-beta': \(why)")
        #expect(engine.decide(try F.user("alice@alpha.test", .send, to: "bob@beta.test", assurance: .high)).isPermit)
    }

    @Test("an attachment of a type the agreement forbids is denied; the size limit comes back as an obligation")
    func attachments() throws {
        let engine = try Self.engine()
        let zipped = engine.decide(try F.user("alice@alpha.test", .send, to: "bob@beta.test",
                                              attachments: [(100, "application/zip")]))
        #expect(zipped.decision == .deny)
        #expect(zipped.reason == "denied by agreement 'alpha-beta': the agreement forbids attachments of media type application/zip")
        let pdf = engine.decide(try F.user("alice@alpha.test", .send, to: "bob@beta.test",
                                           attachments: [(100, "application/pdf")]))
        #expect(pdf.obligations.contains(.maxAttachmentSize(bytes: 1_048_576)), "\(pdf)")
    }

    @Test("receive: the delivering server's sender must match the partner's direction")
    func inbound() throws {
        let engine = try Self.engine()
        let staff = engine.decide(try Self.inbound(from: "bea@staff.beta.test", to: "alice@alpha.test"))
        #expect(staff.decision == .permit, "\(staff.reason)")
        #expect(staff.obligations.isEmpty)
        let other = engine.decide(try Self.inbound(from: "eve@beta.test", to: "alice@alpha.test"))
        #expect(other.decision == .deny)
        #expect(other.reason == "denied by agreement 'alpha-beta': the sender eve@beta.test is not among the agreement's senders")
        let unnamed = engine.decide(try Self.inbound(from: nil, to: "alice@alpha.test"))
        #expect(unnamed.decision == .deny)
        #expect(unnamed.reason.contains("names no sender"), "\(unnamed.reason)")
    }

    @Test("terms never turn a deny into a permit, and an agreement without terms stays domain-wide")
    func onlyNarrows() throws {
        // The rules do not permit receive to another domain's user; the terms do not change that.
        let relayed = try Self.engine().decide(try Self.inbound(from: "bea@staff.beta.test", to: "x@gamma.test"))
        #expect(relayed.decision == .deny)
        #expect(relayed.reason.hasPrefix("denied by default"), "\(relayed.reason)")
        let plain = try Self.engine(facts: """
            {"agreements": [{"id": "alpha-beta", "domains": ["beta.test"], "actions": ["send"], "groups": ["partners"]}]}
            """)
        let response = plain.decide(try F.user("mallory@alpha.test", .send, to: "carl@beta.test", assurance: nil))
        #expect(response.decision == .permit, "\(response.reason)")
        #expect(response.obligations == [.minimumAlgorithm(.aes256CBC)])
        #expect(response.reason == "permitted by rule 'partner-mail'")
    }

    @Test("the explanation reaches the same decision as decide")
    func explanation() throws {
        let engine = try Self.engine()
        let request = try F.user("mallory@alpha.test", .send, to: "bob@beta.test")
        #expect(engine.explain(request).decision == engine.decide(request))
    }

    @Test("terms read strictly: only send or receive, only listed actions, once each; they survive a round trip")
    func parsing() throws {
        let facts = try ExternalFacts.parse(Data(Self.facts.utf8))
        let again = try ExternalFacts.parse(try JSONEncoder().encode(facts))
        #expect(again == facts)
        #expect(facts.agreements.first?.terms.map(\.action) == [.send, .receive])
        #expect(facts.agreements.first?.terms.first?.minAssurance == .substantial)

        func refusal(_ terms: String, actions: String = #"["send"]"#) -> PolicyError? {
            F.policyError {
                _ = try ExternalFacts.parse(Data("""
                    {"agreements": [{"id": "a", "domains": ["beta.test"], "actions": \(actions), "terms": \(terms)}]}
                    """.utf8))
            }
        }
        let submit = refusal(#"[{"action": "submit"}]"#, actions: #"["send", "submit"]"#)
        #expect(submit?.path == "$.agreements[0].terms[0].action", "\(String(describing: submit))")
        #expect(submit?.reason.contains("send or receive") == true, "\(String(describing: submit))")
        let unlisted = refusal(#"[{"action": "receive"}]"#)
        #expect(unlisted?.path == "$.agreements[0].terms[0].action")
        #expect(unlisted?.reason.contains("does not list the action receive") == true, "\(String(describing: unlisted))")
        let twice = refusal(#"[{"action": "send"}, {"action": "send"}]"#)
        #expect(twice?.path == "$.agreements[0].terms[1].action")
        let unknown = refusal(#"[{"action": "send", "sendres": []}]"#)
        #expect(unknown?.code == .unknownField, "\(String(describing: unknown))")
    }
}
