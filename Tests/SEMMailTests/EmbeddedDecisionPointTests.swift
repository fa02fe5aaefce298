// The mail server's in-process decision point: the engine's answers, and repeated
// questions served from the engine's decision cache.
import Foundation
import SEMMail
import SEMPolicy
import Testing

@Suite("Embedded decision point")
struct EmbeddedDecisionPointTests {
    static func send(_ sender: String, to recipient: String, attachment: String? = nil) throws -> DecisionRequest {
        let attachments = try attachment.map { [try RequestAttachment(size: 4096, mediaType: $0)] } ?? []
        return DecisionRequest(subject: try RequestSubject(kind: .user, address: sender), action: .send,
                               resource: try RequestResource(recipient: recipient, size: 2048, attachments: attachments))
    }

    @Test("it answers as the engine does, and a repeated question comes from the cache")
    func decidesAndCaches() throws {
        let document = try DefaultPolicy.document(for: "alpha.test")
        let engine = try PolicyEngine(document: document, options: PolicyEngineOptions(cacheTimeToLive: 60))
        let uncached = try PolicyEngine(document: document)
        let point: any DecisionPoint = EmbeddedDecisionPoint(engine: engine)
        let cache = try #require(engine.cache)
        let requests = [try Self.send("alice@alpha.test", to: "bob@alpha.test"),
                        try Self.send("alice@alpha.test", to: "eve@gamma.test"),
                        try Self.send("alice@alpha.test", to: "bob@alpha.test", attachment: "application/x-msdownload")]

        let first = try requests.map { try point.decide($0) }
        #expect(first.map(\.decision) == [.permit, .deny, .deny])
        #expect(first[0].matchedRules == ["local-mail"])
        #expect(first[2].matchedRules.contains("no-executables"))
        #expect(first == requests.map { uncached.decide($0) })
        #expect((cache.statistics.hits, cache.statistics.misses, cache.statistics.entries) == (0, 3, 3))

        // The same questions again (one spelled in capitals, which normalises to the same).
        let again = try requests.map { try point.decide($0) }
        #expect(again == first)
        #expect(try point.decide(try Self.send("ALICE@alpha.test", to: "Bob@Alpha.Test")) == first[0])
        #expect((cache.statistics.hits, cache.statistics.misses, cache.statistics.entries) == (4, 3, 3))

        // New facts empty the cache: the next answer is evaluated afresh.
        engine.updateFacts(ExternalFacts())
        _ = try point.decide(requests[0])
        #expect(cache.statistics.misses == 4)
    }
}
