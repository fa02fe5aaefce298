import Foundation
@testable import SEMPolicy
import Testing

@Suite("Conditions: time, networks, TLS, size, agreements, rate limits")
struct ConditionTests {
    typealias F = PolicyFixture

    static func engine(conditions: String, effect: PolicyEffect = .permit, facts: ExternalFacts = ExternalFacts(),
                       clock: ManualPolicyClock = ManualPolicyClock(F.mondayMorning)) throws -> PolicyEngine {
        try F.engine(F.document(rules: """
            {"id": "when", "effect": "\(effect.rawValue)", "description": "the conditions under test",
             "actions": ["send", "submit"], "conditions": \(conditions)}
            """, defaults: effect == .deny ? #"{"effect": "permit"}"# : #"{"effect": "deny"}"#),
                     facts: facts, clock: clock)
    }

    @Test("office hours on weekdays, in UTC, from included and to excluded", arguments: [
        ("2026-03-02T08:00:00Z", true),   // Monday 08:00
        ("2026-03-02T07:59:59Z", false),
        ("2026-03-06T17:59:59Z", true),   // Friday
        ("2026-03-06T18:00:00Z", false),
        ("2026-03-07T10:00:00Z", false),  // Saturday
        ("2026-03-08T10:00:00Z", false),  // Sunday
        ("2026-03-02T09:30:00+02:00", false), // 07:30 UTC: hours are UTC hours, not local ones
        ("2026-03-02T19:30:00+02:00", true),  // 17:30 UTC
    ])
    func officeHours(_ time: String, _ expected: Bool) throws {
        let engine = try Self.engine(
            conditions: #"{"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": {"from": 8, "to": 18}}}"#)
        #expect(engine.decide(try F.user("a@alpha.test", .send, time: F.instant(time))).isPermit == expected, "\(time)")
    }

    @Test("an hour range that wraps past midnight",
          arguments: [(21, false), (22, true), (23, true), (0, true), (5, true), (6, false)])
    func nightShift(_ hour: Int, _ expected: Bool) throws {
        let engine = try Self.engine(conditions: #"{"time": {"hours": {"from": 22, "to": 6}}}"#)
        let time = F.mondayMorning.addingTimeInterval(Double(hour - 10) * 3600)
        #expect(engine.decide(try F.user("a@alpha.test", .send, time: time)).isPermit == expected)
    }

    @Test("a validity interval uses the engine's clock when the request gives no time")
    func validityWithClock() throws {
        let clock = ManualPolicyClock(F.instant("2026-03-31T23:59:59Z"))
        let window = #"{"time": {"notBefore": "2026-03-01T00:00:00Z", "notAfter": "2026-04-01T00:00:00Z"}}"#
        let engine = try Self.engine(conditions: window, clock: clock)
        let request = try F.user("a@alpha.test", .send)
        #expect(engine.decide(request).isPermit)
        clock.advance(by: 1)
        #expect(!engine.decide(request).isPermit)
        clock.set(F.instant("2026-02-28T23:59:59Z"))
        #expect(!engine.decide(request).isPermit)
        #expect(engine.decide(try F.user("a@alpha.test", .send, time: F.instant("2026-03-15T00:00:00Z"))).isPermit,
                "a time in the request overrides the clock")
    }

    @Test("a deny rule with a time window denies only inside it")
    func weekendDeny() throws {
        let engine = try Self.engine(conditions: #"{"time": {"days": ["sat", "sun"]}}"#, effect: .deny)
        #expect(engine.decide(try F.user("a@alpha.test", .send)).isPermit)
        let saturday = engine.decide(try F.user("a@alpha.test", .send, time: F.instant("2026-03-07T12:00:00Z")))
        #expect(saturday.decision == .deny)
        #expect(saturday.reason == "denied by rule 'when': the conditions under test")
    }

    @Test("client networks, IPv4 and IPv6", arguments: [
        ("192.0.2.1", true), ("192.0.2.255", true), ("192.0.3.1", false), ("2001:db8::1", true), ("2001:db9::1", false),
        ("10.1.2.3", true), (nil, false),
    ] as [(String?, Bool)])
    func networks(_ ip: String?, _ expected: Bool) throws {
        let engine = try Self.engine(conditions: #"{"clientNetworks": ["192.0.2.0/24", "2001:db8::/32", "10.1.2.3"]}"#)
        #expect(engine.decide(try F.user("a@alpha.test", .send, clientIP: ip)).isPermit == expected)
    }

    @Test("minimum TLS version and total size", arguments: [
        (TLSVersion?.some(.tls13), 100, true), (.tls12, 100, false), (nil, 100, false), (.tls13, 2001, false),
    ])
    func tlsAndSize(_ tls: TLSVersion?, _ size: Int, _ expected: Bool) throws {
        let engine = try Self.engine(conditions: #"{"minimumTLS": "TLSv1.3", "maxSize": 2000}"#)
        let request = try F.user("a@alpha.test", .send, size: size,
                                 attachments: [(1000, "text/plain"), (900, "text/plain")], tls: tls)
        #expect(engine.decide(request).isPermit == expected)
    }

    @Test("requireAgreement: an agreement in force for the action with the partner domain")
    func agreements() throws {
        let facts = ExternalFacts(agreements: [
            Agreement(id: "ab", domains: [try DomainPattern("beta.test")], actions: [.send],
                      notAfter: F.instant("2026-04-01T00:00:00Z")),
        ])
        let engine = try Self.engine(conditions: #"{"requireAgreement": true}"#, facts: facts)
        #expect(engine.decide(try F.user("a@alpha.test", .send, to: "b@beta.test")).isPermit)
        #expect(engine.decide(try F.user("b@beta.test", .send, to: "a@alpha.test")).isPermit)
        let gamma = engine.decide(try F.user("a@alpha.test", .send, to: "c@gamma.test"))
        #expect(!gamma.isPermit)
        #expect(gamma.reason.hasSuffix(
            "(rule 'when' would, but no agreement in force covers send with alpha.test or gamma.test)"))
        #expect(!engine.decide(try F.user("a@alpha.test", .submit, to: "b@beta.test")).isPermit,
                "submit is not in the agreement")
        let ended = try F.user("a@alpha.test", .send, to: "b@beta.test", time: F.instant("2026-04-01T00:00:00Z"))
        #expect(!engine.decide(ended).isPermit)
    }

    static let rateLimited = #"{"rateLimit": {"requests": 3, "windowSeconds": 60}}"#

    @Test("a rate limit allows N requests per window, then refuses, then allows again in the next window")
    func rateLimit() throws {
        let clock = ManualPolicyClock(F.instant("2026-03-02T10:00:00Z"))
        let engine = try Self.engine(conditions: Self.rateLimited, clock: clock)
        let alice = try F.user("alice@alpha.test", .send)
        #expect((1...3).map { _ in engine.decide(alice).isPermit } == [true, true, true])
        let fourth = engine.decide(alice)
        #expect(!fourth.isPermit)
        #expect(fourth.reason.hasSuffix(
            "(rule 'when' would, but alice@alpha.test made more than 3 requests in 60 seconds)"))
        #expect(engine.decide(try F.user("bob@alpha.test", .send)).isPermit, "every subject has its own counter")
        clock.advance(by: 59.9)
        #expect(!engine.decide(alice).isPermit, "still the same window")
        clock.advance(by: 0.1)
        #expect((1...4).map { _ in engine.decide(alice).isPermit } == [true, true, true, false], "a new window")
    }

    @Test("a permit rule counts only requests it would otherwise permit")
    func rateCountsOnlyCandidates() throws {
        let engine = try Self.engine(
            conditions: #"{"rateLimit": {"requests": 2, "windowSeconds": 60}, "maxSize": 100}"#)
        let big = try F.user("a@alpha.test", .send, size: 500)
        let small = try F.user("a@alpha.test", .send, size: 50)
        for _ in 0..<5 { #expect(!engine.decide(big).isPermit) }
        #expect(engine.decide(small).isPermit)
        #expect(engine.decide(small).isPermit)
        #expect(!engine.decide(small).isPermit)
    }

    @Test("a deny rule with a rate limit fires beyond N requests in a window")
    func denyRate() throws {
        let clock = ManualPolicyClock(F.mondayMorning)
        let engine = try Self.engine(conditions: Self.rateLimited, effect: .deny, clock: clock)
        let request = try F.user("a@alpha.test", .submit)
        #expect((1...5).map { _ in engine.decide(request).decision } == [.permit, .permit, .permit, .deny, .deny])
        clock.advance(by: 60)
        #expect(engine.decide(request).decision == .permit)
    }

    @Test("a full counter table fails closed until windows expire")
    func fullTable() throws {
        let clock = ManualPolicyClock(F.mondayMorning)
        let engine = try F.engine(F.document(rules: """
            {"id": "r", "effect": "permit", "description": "x", "actions": ["send"],
             "conditions": {"rateLimit": {"requests": 5, "windowSeconds": 60}}}
            """), options: PolicyEngineOptions(rateCounterCapacity: 2), clock: clock)
        #expect(engine.decide(try F.user("a@alpha.test", .send)).isPermit)
        #expect(engine.decide(try F.user("b@alpha.test", .send)).isPermit)
        #expect(!engine.decide(try F.user("c@alpha.test", .send)).isPermit)
        #expect(engine.limiter.fullSince == F.mondayMorning)
        #expect(engine.decide(try F.user("a@alpha.test", .send)).isPermit, "known subjects keep counting")
        clock.advance(by: 60)
        #expect(engine.decide(try F.user("c@alpha.test", .send)).isPermit, "expired windows make room")
        #expect(engine.limiter.count == 1)
    }
}
