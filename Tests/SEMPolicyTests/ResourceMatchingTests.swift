import Foundation
@testable import SEMPolicy
import Testing

@Suite("Matching resources")
struct ResourceMatchingTests {
    typealias F = PolicyFixture

    static func engine(effect: PolicyEffect = .permit, resources: String,
                       groups: String = "{}") throws -> PolicyEngine {
        try F.engine(F.document(rules: """
            {"id": "what", "effect": "\(effect.rawValue)", "description": "the resources under test",
             "actions": ["send", "fetch-attachment"], "resources": \(resources)}
            """, groups: groups, defaults: effect == .deny ? #"{"effect": "permit"}"# : #"{"effect": "deny"}"#))
    }

    @Test("recipients by address, domain and group; a request without a recipient does not match", arguments: [
        ("bob@alpha.test", true), ("BOB@ALPHA.TEST", true), ("carol@alpha.test", false), ("x@beta.test", true),
        ("x@eu.gamma.test", true), ("x@gamma.test", false), ("x@delta.test", true), (nil, false),
    ] as [(String?, Bool)])
    func recipients(_ recipient: String?, _ expected: Bool) throws {
        let engine = try Self.engine(resources: """
            {"recipients": {"addresses": ["bob@alpha.test"], "domains": ["beta.test", "*.gamma.test"],
                            "groups": ["friends"]}}
            """, groups: #"{"friends": {"domains": ["delta.test"]}}"#)
        #expect(engine.decide(try F.user("a@alpha.test", .send, to: recipient)).isPermit == expected)
    }

    @Test("a recipient group vouched for in the request counts")
    func vouchedRecipientGroup() throws {
        let engine = try Self.engine(resources: #"{"recipients": {"groups": ["friends"]}}"#,
                                     groups: #"{"friends": {}}"#)
        #expect(engine.decide(try F.user("a@alpha.test", .send, to: "z@zeta.test", recipientGroups: ["friends"]))
            .isPermit)
        #expect(!engine.decide(try F.user("a@alpha.test", .send, to: "z@zeta.test")).isPermit)
    }

    @Test("allowed media types with wildcards: every attachment must match one", arguments: [
        ([], true), (["image/png"], true), (["IMAGE/JPEG"], true), (["application/pdf; name=a.pdf"], true),
        (["image/png", "application/pdf"], true), (["image/png", "video/mp4"], false), (["application/pdfx"], false),
    ] as [([String], Bool)])
    func allowedTypes(_ types: [String], _ expected: Bool) throws {
        let engine = try Self.engine(resources: #"{"attachments": {"allowedTypes": ["image/*", "application/pdf"]}}"#)
        let request = try F.user("a@alpha.test", .send, to: "b@alpha.test", attachments: types.map { (10, $0) })
        #expect(engine.decide(request).isPermit == expected)
    }

    @Test("forbidden media types in a deny rule: any attachment matching one denies", arguments: [
        ([], false), (["image/png"], false), (["application/x-msdownload"], true),
        (["text/plain", "application/x-sh"], true),
        (["text/x-shellscript"], false),
    ] as [([String], Bool)])
    func forbiddenTypes(_ types: [String], _ denied: Bool) throws {
        let forbidden = #"{"attachments": {"forbiddenTypes": ["application/x-msdownload", "application/x-sh"]}}"#
        let engine = try Self.engine(effect: .deny, resources: forbidden)
        let response = engine.decide(try F.user("a@alpha.test", .send, to: "b@alpha.test",
                                                attachments: types.map { (10, $0) }))
        #expect((response.decision == .deny) == denied)
        if denied {
            #expect(response.reason.hasPrefix("denied by rule 'what': attachment media type application/x-"))
        }
    }

    @Test("`*/*` allows every media type")
    func anyType() throws {
        let engine = try Self.engine(resources: #"{"attachments": {"allowedTypes": ["*/*"]}}"#)
        #expect(engine.decide(try F.user("a@alpha.test", .send, attachments: [(1, "model/gltf+json")])).isPermit)
    }

    @Test("size limits: attachment size, attachment count and message size, each at the boundary", arguments: [
        (1000, [(500, "text/plain"), (500, "text/plain")], true),
        (1001, [], false),
        (10, [(501, "text/plain")], false),
        (10, [(1, "text/plain"), (1, "text/plain"), (1, "text/plain")], false),
    ] as [(Int, [(Int, String)], Bool)])
    func sizes(_ size: Int, _ attachments: [(Int, String)], _ expected: Bool) throws {
        let engine = try Self.engine(
            resources: #"{"maxMessageSize": 1000, "attachments": {"maxSize": 500, "maxCount": 2}}"#)
        let response = engine.decide(try F.user("a@alpha.test", .send, to: "b@alpha.test", size: size,
                                                attachments: attachments))
        #expect(response.isPermit == expected)
    }

    @Test("deny rules with size limits fire above the limit only, and say by how much")
    func denyAboveSize() throws {
        let engine = try Self.engine(effect: .deny, resources: #"{"maxMessageSize": 1000}"#)
        #expect(engine.decide(try F.user("a@alpha.test", .send, size: 1000)).isPermit)
        let big = engine.decide(try F.user("a@alpha.test", .send, size: 1001))
        #expect(big.reason == "denied by rule 'what': the message of 1001 bytes exceeds the limit of 1000 bytes")
        let counted = try Self.engine(effect: .deny, resources: #"{"attachments": {"maxCount": 1}}"#)
        let two = counted.decide(try F.user("a@alpha.test", .send, attachments: [(1, "a/b"), (1, "a/b")]))
        #expect(two.reason == "denied by rule 'what': 2 attachments exceed the limit of 1")
    }
}
