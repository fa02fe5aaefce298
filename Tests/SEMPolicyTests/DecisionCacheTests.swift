import Foundation
@testable import SEMPolicy
import Testing

@Suite("Decision cache")
struct DecisionCacheTests {
    typealias F = PolicyFixture

    static let policy = F.document(rules: """
        {"id": "mail", "effect": "permit", "description": "local mail", "actions": ["send"],
         "subjects": {"domains": ["alpha.test"]}},
        {"id": "limited-lookup", "effect": "permit", "description": "a few lookups", "actions": ["lookup"],
         "subjects": {"domains": ["alpha.test"]}, "conditions": {"rateLimit": {"requests": 2, "windowSeconds": 60}}},
        {"id": "bulk-limit", "effect": "permit", "description": "bulk senders", "actions": ["send"],
         "subjects": {"domains": ["bulk.test"]}, "conditions": {"rateLimit": {"requests": 2, "windowSeconds": 60}}},
        {"id": "office", "effect": "permit", "description": "office hours", "actions": ["submit"],
         "conditions": {"time": {"hours": {"from": 8, "to": 18}}}},
        {"id": "partners", "effect": "permit", "description": "partners", "actions": ["receive"],
         "subjects": {"groups": ["partners"]}}
        """, groups: #"{"partners": {}}"#)

    static func engine(ttl: TimeInterval = 30,
                       clock: ManualPolicyClock = ManualPolicyClock(F.mondayMorning)) throws -> PolicyEngine {
        try F.engine(policy, options: PolicyEngineOptions(cacheTimeToLive: ttl), clock: clock)
    }

    @Test("an identical request is answered from the cache until the time to live ends")
    func hitAndExpiry() throws {
        let clock = ManualPolicyClock(F.mondayMorning)
        let engine = try Self.engine(clock: clock)
        let cache = try #require(engine.cache)
        let request = try F.user("a@alpha.test", .send, to: "b@alpha.test")
        let first = engine.decide(request)
        #expect(cache.statistics == DecisionCache.Statistics(hits: 0, misses: 1, entries: 1))
        #expect(engine.decide(request) == first)
        #expect(engine.decide(try F.user("A@ALPHA.TEST", .send, to: "b@alpha.test")) == first,
                "normalised requests share an entry")
        #expect(cache.statistics.hits == 2)
        clock.advance(by: 29.9)
        _ = engine.decide(request)
        #expect(cache.statistics.hits == 3)
        clock.advance(by: 0.1)
        _ = engine.decide(request)
        #expect(cache.statistics == DecisionCache.Statistics(hits: 3, misses: 2, entries: 1))
        _ = engine.decide(try F.user("a@alpha.test", .send, to: "c@alpha.test"))
        #expect(cache.statistics.entries == 2, "another recipient is another entry")
    }

    @Test("rate-limited decisions are never cached, so the limit holds with the cache on")
    func rateLimitsBypass() throws {
        let clock = ManualPolicyClock(F.mondayMorning)
        let engine = try Self.engine(ttl: 3600, clock: clock)
        let lookup = try F.user("a@alpha.test", .lookup)
        #expect((1...3).map { _ in engine.decide(lookup).isPermit } == [true, true, false])
        #expect(engine.cache?.statistics.entries == 0)
        clock.advance(by: 60)
        #expect(engine.decide(lookup).isPermit)
    }

    @Test("a rate-limited rule that does not match the request leaves it cacheable")
    func unrelatedRateLimit() throws {
        let engine = try Self.engine()
        let request = try F.user("a@alpha.test", .send)
        _ = engine.decide(request)
        _ = engine.decide(request)
        #expect(engine.cache?.statistics.hits == 1)
        let bulk = try F.user("news@bulk.test", .send)
        #expect((1...3).map { _ in engine.decide(bulk).isPermit } == [true, true, false])
    }

    @Test("a cached decision ends at the next hour when a time window could change it")
    func timeWindowBoundary() throws {
        let clock = ManualPolicyClock(F.instant("2026-03-02T17:59:00Z"))
        let engine = try Self.engine(ttl: 3600, clock: clock)
        let submit = try F.user("a@alpha.test", .submit)
        #expect(engine.decide(submit).isPermit)
        clock.advance(by: 59)
        #expect(engine.decide(submit).isPermit, "17:59:59 still cached and still right")
        clock.advance(by: 1)
        #expect(!engine.decide(submit).isPermit, "18:00: the window has closed and the cache knows it")
    }

    @Test("new facts empty the cache")
    func factsInvalidate() throws {
        let engine = try Self.engine(ttl: 3600)
        let receive = try F.server("mx.beta.test", domain: "beta.test", .receive)
        #expect(!engine.decide(receive).isPermit)
        engine.updateFacts(ExternalFacts(groups: ["partners": GroupMembers(domains: [try DomainPattern("beta.test")])]))
        #expect(engine.decide(receive).isPermit)
        engine.updateFacts(ExternalFacts())
        #expect(!engine.decide(receive).isPermit)
    }

    @Test("requests that carry their own time bypass the cache")
    func explicitTime() throws {
        let engine = try Self.engine()
        let request = try F.user("a@alpha.test", .submit, time: F.instant("2026-03-02T12:00:00Z"))
        #expect(engine.decide(request).isPermit)
        #expect(engine.decide(request).isPermit)
        #expect(engine.cache?.statistics == DecisionCache.Statistics(hits: 0, misses: 0, entries: 0))
    }

    @Test("a full cache starts afresh instead of growing")
    func capacity() throws {
        let engine = try F.engine(Self.policy, options: PolicyEngineOptions(cacheTimeToLive: 60, cacheCapacity: 3))
        for index in 0..<3 { _ = engine.decide(try F.user("u\(index)@alpha.test", .send)) }
        #expect(engine.cache?.statistics.entries == 3)
        _ = engine.decide(try F.user("u9@alpha.test", .send))
        #expect(engine.cache?.statistics.entries == 1)
    }

    @Test("concurrent decisions through one engine agree with sequential ones")
    func concurrency() async throws {
        let engine = try Self.engine()
        let requests = try (0..<50).map { try F.user("u\($0 % 7)@\($0 % 2 == 0 ? "alpha" : "gamma").test", .send) }
        let reference = try F.engine(Self.policy)
        let expected = requests.map { reference.decide($0).decision }
        #expect(Set(expected) == [.permit, .deny])
        let results = await withTaskGroup(of: [PolicyEffect].self) { group in
            for _ in 0..<8 { group.addTask { requests.map { engine.decide($0).decision } } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0 == expected })
    }
}
