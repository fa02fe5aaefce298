import Foundation
@testable import SEMPolicy
import Testing

@Suite("Obligations")
struct ObligationTests {
    typealias F = PolicyFixture

    static func allowed(_ list: String...) -> Obligation {
        .allowedMediaTypes(list.map { try! MediaTypePattern($0) })
    }

    @Test("merging keeps the strictest value of each kind", arguments: [
        ("union of receipts and quarantine",
         [Obligation.requireReceipt, .quarantine, .requireReceipt], [Obligation.requireReceipt, .quarantine]),
        ("strongest algorithm",
         [.minimumAlgorithm(.aes128GCM), .minimumAlgorithm(.aes256GCM), .minimumAlgorithm(.aes256CBC)],
         [.minimumAlgorithm(.aes256GCM)]),
        ("smallest attachment size",
         [.maxAttachmentSize(bytes: 5000), .maxAttachmentSize(bytes: 100), .maxAttachmentSize(bytes: 700)],
         [.maxAttachmentSize(bytes: 100)]),
        ("every distinct notice in order",
         [.notifyUser(message: "b"), .notifyUser(message: nil), .notifyUser(message: "a"), .notifyUser(message: "b")],
         [.notifyUser(message: "b"), .notifyUser(message: nil), .notifyUser(message: "a")]),
        ("media types intersect",
         [allowed("image/*", "application/pdf", "text/plain"), allowed("image/png", "application/*")],
         [allowed("image/png", "application/pdf")]),
        ("disjoint media types allow nothing", [allowed("image/*"), allowed("text/plain")], [allowed()]),
        ("any type meets anything", [allowed("*/*"), allowed("video/*", "video/mp4")], [allowed("video/*")]),
        ("kinds come out in a fixed order",
         [allowed("a/b"), .maxAttachmentSize(bytes: 1), .notifyUser(message: nil), .quarantine,
          .minimumAlgorithm(.aes128CBC), .requireReceipt],
         [.requireReceipt, .minimumAlgorithm(.aes128CBC), .quarantine, .notifyUser(message: nil),
          .maxAttachmentSize(bytes: 1), allowed("a/b")]),
    ] as [(String, [Obligation], [Obligation])])
    func merge(_ label: String, _ input: [Obligation], _ expected: [Obligation]) {
        #expect(ObligationMerge.merge(input) == expected, "\(label)")
    }

    @Test("the engine merges the obligations of every matching permit rule")
    func engineMerge() throws {
        let engine = try F.engine(F.document(rules: """
            {"id": "base", "effect": "permit", "description": "x", "actions": ["send"],
             "obligations": [{"type": "minimum-algorithm", "algorithm": "AES-128-GCM"},
                             {"type": "max-attachment-size", "bytes": 10000000},
                             {"type": "allowed-media-types", "types": ["image/*", "application/pdf"]}]},
            {"id": "external", "effect": "permit", "description": "x", "actions": ["send"],
             "resources": {"recipients": {"domains": ["beta.test"]}},
             "obligations": [{"type": "require-receipt"}, {"type": "minimum-algorithm", "algorithm": "AES-256-GCM"},
                             {"type": "max-attachment-size", "bytes": 2000000},
                             {"type": "allowed-media-types", "types": ["application/pdf"]},
                             {"type": "notify-user", "message": "sent outside"}]},
            {"id": "other", "effect": "permit", "description": "x", "actions": ["send"],
             "resources": {"recipients": {"domains": ["gamma.test"]}}, "obligations": [{"type": "quarantine"}]}
            """))
        let response = engine.decide(try F.user("a@alpha.test", .send, to: "b@beta.test"))
        #expect(response.matchedRules == ["base", "external"])
        #expect(response.obligations == [
            .requireReceipt, .minimumAlgorithm(.aes256GCM), .notifyUser(message: "sent outside"),
            .maxAttachmentSize(bytes: 2_000_000), Self.allowed("application/pdf"),
        ])
        #expect(engine.decide(try F.user("a@alpha.test", .send, to: "b@alpha.test")).obligations == [
            .minimumAlgorithm(.aes128GCM), .maxAttachmentSize(bytes: 10_000_000),
            Self.allowed("image/*", "application/pdf"),
        ])
    }

    @Test("obligations read and write as typed JSON objects")
    func json() throws {
        let all: [Obligation] = [
            .requireReceipt, .minimumAlgorithm(.aes256GCM), .quarantine, .notifyUser(message: "hello"),
            .notifyUser(message: nil), .maxAttachmentSize(bytes: 42), Self.allowed("image/*"),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(all), as: UTF8.self)
        #expect(text == [
            #"[{"type":"require-receipt"},{"algorithm":"AES-256-GCM","type":"minimum-algorithm"},"#,
            #"{"type":"quarantine"},{"message":"hello","type":"notify-user"},{"type":"notify-user"},"#,
            #"{"bytes":42,"type":"max-attachment-size"},{"type":"allowed-media-types","types":["image/*"]}]"#,
        ].joined())
        #expect(try JSONDecoder().decode([Obligation].self, from: Data(text.utf8)) == all)
        #expect(all.map(\.description) == [
            "require-receipt", "minimum-algorithm AES-256-GCM", "quarantine", "notify-user \"hello\"",
            "notify-user", "max-attachment-size 42", "allowed-media-types image/*",
        ])
    }
}
