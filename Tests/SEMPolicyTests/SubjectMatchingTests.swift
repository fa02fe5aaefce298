import Foundation
@testable import SEMPolicy
import Testing

@Suite("Matching subjects")
struct SubjectMatchingTests {
    typealias F = PolicyFixture

    static func engine(subjects: String, groups: String = "{}",
                       facts: ExternalFacts = ExternalFacts()) throws -> PolicyEngine {
        try F.engine(F.document(rules: """
            {"id": "who", "effect": "permit", "description": "the subjects under test",
             "actions": ["submit", "receive"], "subjects": \(subjects)}
            """, groups: groups), facts: facts)
    }

    @Test("exact addresses and domain wildcards, without regard to case", arguments: [
        ("alice@alpha.test", true), ("ALICE@Alpha.Test", true), ("bob@alpha.test", true), ("bob@sub.alpha.test", false),
        ("carol@beta.test", false), ("carol@x.beta.test", true), ("carol@xbeta.test", false),
        ("dave@gamma.test", false),
    ])
    func addresses(_ address: String, _ expected: Bool) throws {
        let engine = try Self.engine(subjects: #"{"addresses": ["alice@alpha.test", "*@alpha.test", "*@*.beta.test"]}"#)
        #expect(engine.decide(try F.user(address, .submit)).isPermit == expected)
    }

    @Test("domains match the subject's domain, users and servers alike")
    func domains() throws {
        let engine = try Self.engine(subjects: #"{"domains": ["alpha.test", "*.beta.test"]}"#)
        #expect(engine.decide(try F.user("a@alpha.test", .submit)).isPermit)
        #expect(engine.decide(try F.server("mx.alpha.test", domain: "alpha.test", .receive)).isPermit)
        #expect(engine.decide(try F.server("mx.beta.test", domain: "eu.beta.test", .receive)).isPermit)
        #expect(!engine.decide(try F.server("mx.beta.test", domain: "beta.test", .receive)).isPermit)
    }

    @Test("kind server with server names; a user with the same domain is not a server")
    func servers() throws {
        let engine = try Self.engine(subjects: #"{"servers": ["mx.beta.test", "*.gamma.test"], "kind": "server"}"#)
        #expect(engine.decide(try F.server("mx.beta.test", domain: "beta.test", .receive)).isPermit)
        #expect(engine.decide(try F.server("MX1.gamma.test", domain: "gamma.test", .receive)).isPermit)
        #expect(!engine.decide(try F.server("mx2.beta.test", domain: "beta.test", .receive)).isPermit)
        let kindOnly = try Self.engine(subjects: #"{"kind": "server"}"#)
        #expect(!kindOnly.decide(try F.user("postmaster@beta.test", .receive)).isPermit)
        #expect(kindOnly.decide(try F.server("mx.beta.test", domain: "beta.test", .receive)).isPermit)
    }

    static let nested = """
        {"staff": {"groups": ["finance", "engineering"]},
         "finance": {"addresses": ["fiona@alpha.test"], "groups": ["auditors"]},
         "engineering": {"addresses": ["*@eng.alpha.test"]},
         "auditors": {"domains": ["audit.test"]},
         "officers": {"description": "filled from the directory"}}
        """

    @Test("groups contain their nested groups' members at any depth", arguments: [
        ("fiona@alpha.test", true), ("eve@eng.alpha.test", true), ("ann@audit.test", true), ("zed@alpha.test", false),
    ])
    func nestedGroups(_ address: String, _ expected: Bool) throws {
        let engine = try Self.engine(subjects: #"{"groups": ["staff"]}"#, groups: Self.nested)
        #expect(engine.decide(try F.user(address, .submit)).isPermit == expected)
    }

    @Test("a group vouched for in the request counts, and so does every group that contains it")
    func vouchedGroups() throws {
        let engine = try Self.engine(subjects: #"{"groups": ["staff"]}"#, groups: Self.nested)
        #expect(engine.decide(try F.user("zed@alpha.test", .submit, groups: ["auditors"])).isPermit)
        #expect(!engine.decide(try F.user("zed@alpha.test", .submit, groups: ["officers"])).isPermit)
        #expect(!engine.decide(try F.user("zed@alpha.test", .submit, groups: ["unknown-group"])).isPermit)
    }

    @Test("external members join a declared group and its containers; new facts replace old ones")
    func externalMembers() throws {
        let facts = ExternalFacts(groups: ["auditors": GroupMembers(addresses: [try AddressPattern("zed@alpha.test")]),
                                           "undeclared": GroupMembers(domains: [try DomainPattern("x.test")])])
        let engine = try Self.engine(subjects: #"{"groups": ["staff"]}"#, groups: Self.nested, facts: facts)
        #expect(engine.decide(try F.user("zed@alpha.test", .submit)).isPermit)
        let zed = GroupMembers(addresses: [try AddressPattern("zed@alpha.test")])
        let unknown = engine.updateFacts(ExternalFacts(groups: ["officers": zed, "undeclared": GroupMembers()]))
        #expect(unknown == ["undeclared"])
        #expect(!engine.decide(try F.user("zed@alpha.test", .submit)).isPermit)
    }

    @Test("an agreement in force makes its partner domains members of its groups")
    func agreementGroups() throws {
        let facts = ExternalFacts(agreements: [
            Agreement(id: "alpha-beta", domains: [try DomainPattern("beta.test")], actions: [.send, .receive],
                      groups: ["auditors"], notBefore: F.instant("2026-01-01T00:00:00Z"),
                      notAfter: F.instant("2026-06-01T00:00:00Z")),
        ])
        let engine = try Self.engine(subjects: #"{"groups": ["staff"]}"#, groups: Self.nested, facts: facts)
        #expect(engine.decide(try F.server("mx.beta.test", domain: "beta.test", .receive)).isPermit)
        #expect(!engine.decide(try F.server("mx.gamma.test", domain: "gamma.test", .receive)).isPermit)
        let later = try F.server("mx.beta.test", domain: "beta.test", .receive, time: F.instant("2026-06-01T00:00:00Z"))
        #expect(!engine.decide(later).isPermit, "the agreement has ended")
    }

    @Test("minimum assurance: low < substantial < high, unknown meets none", arguments: [
        (AssuranceLevel?.none, false), (.low, false), (.substantial, true), (.high, true),
    ])
    func assurance(_ level: AssuranceLevel?, _ expected: Bool) throws {
        let engine = try Self.engine(subjects: #"{"minAssurance": "substantial"}"#)
        let response = engine.decide(try F.user("a@alpha.test", .submit, assurance: level))
        #expect(response.isPermit == expected)
        if !expected {
            let said = level.map { "assurance \($0.rawValue) is below the required substantial" }
                ?? "the subject's assurance is unknown; substantial is required"
            #expect(response.reason.hasSuffix("(rule 'who' would, but \(said))"))
        }
    }

    static func attributes(_ issuer: String, _ subject: String, _ policies: String...) -> CertificateAttributes {
        CertificateAttributes(issuer: issuer, subject: subject, policies: policies.map { try! PolicyOID($0) })
    }

    @Test("certificate issuer, subject and policy identifiers", arguments: [
        (attributes("CN=Alpha CA,O=Alpha", "CN=Alice", "1.3.6.1.4.1.55555.1.2"), true),
        (attributes("CN=Alpha CA,O=Alpha", "CN=Alice", "2.5.29.32.0", "1.3.6.1.4.1.55555.1.3"), true),
        (attributes("CN=Other CA", "CN=Alice", "1.3.6.1.4.1.55555.1.2"), false),
        (attributes("CN=Alpha CA,O=Alpha", "CN=Mallory", "1.3.6.1.4.1.55555.1.2"), false),
        (attributes("CN=Alpha CA,O=Alpha", "CN=Alice", "1.3.6.1.4.1.55555.1.20"), false),
        (CertificateAttributes?.none, false),
    ])
    func certificate(_ attributes: CertificateAttributes?, _ expected: Bool) throws {
        let engine = try Self.engine(subjects: """
            {"certificate": {"issuer": "CN=Alpha CA,O=Alpha", "subject": "CN=Alice",
                             "policies": ["1.3.6.1.4.1.55555.1.2", "1.3.6.1.4.1.55555.1.3"]}}
            """)
        #expect(engine.decide(try F.user("alice@alpha.test", .submit, certificate: attributes)).isPermit == expected)
    }

    @Test("identity lists are alternatives; kind, certificate and assurance must all hold as well")
    func combination() throws {
        let engine = try Self.engine(subjects: """
            {"addresses": ["boss@alpha.test"], "domains": ["beta.test"], "kind": "user", "minAssurance": "high"}
            """)
        #expect(engine.decide(try F.user("boss@alpha.test", .submit, assurance: .high)).isPermit)
        #expect(engine.decide(try F.user("anyone@beta.test", .submit, assurance: .high)).isPermit)
        #expect(!engine.decide(try F.user("anyone@beta.test", .submit, assurance: .substantial)).isPermit)
        #expect(!engine.decide(try F.server("mx.beta.test", domain: "beta.test", .submit)).isPermit)
        #expect(!engine.decide(try F.user("other@alpha.test", .submit, assurance: .high)).isPermit)
    }
}
