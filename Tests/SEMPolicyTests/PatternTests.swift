import Foundation
@testable import SEMPolicy
import Testing

@Suite("Patterns")
struct PatternTests {
    @Test("domain patterns", arguments: [
        ("alpha.test", "alpha.test", true), ("Alpha.TEST", "alpha.test", true), ("alpha.test", "x.alpha.test", false),
        ("*.alpha.test", "x.alpha.test", true), ("*.alpha.test", "a.b.alpha.test", true),
        ("*.alpha.test", "alpha.test", false),
        ("*.alpha.test", "xalpha.test", false), ("localhost", "localhost", true),
    ])
    func domains(_ pattern: String, _ domain: String, _ expected: Bool) throws {
        #expect(try DomainPattern(pattern).matches(domain) == expected)
    }

    @Test("invalid domain patterns are refused", arguments: [
        "", ".", "alpha..test", ".alpha.test", "alpha.test.", "*", "*.", "**.alpha.test", "*.*.alpha.test", "a*.test",
        "-a.test", "a-.test", "a_b.test", "café.test", String(repeating: "a", count: 64) + ".test",
        (1...64).map { _ in "abc" }.joined(separator: "."),
    ])
    func badDomains(_ pattern: String) {
        #expect(throws: PolicyError.self) { try DomainPattern(pattern) }
    }

    @Test("address patterns", arguments: [
        ("alice@alpha.test", "alice@alpha.test", true), ("alice@alpha.test", "alice2@alpha.test", false),
        ("*@alpha.test", "anyone@alpha.test", true), ("*@alpha.test", "a@x.alpha.test", false),
        ("*@*.alpha.test", "a@x.alpha.test", true), ("first.last+tag@alpha.test", "first.last+tag@alpha.test", true),
    ])
    func addresses(_ pattern: String, _ address: String, _ expected: Bool) throws {
        let domain = String(address[address.index(after: address.lastIndex(of: "@")!)...])
        #expect(try AddressPattern(pattern).matches(address: address, addressDomain: domain) == expected)
    }

    @Test("invalid address patterns are refused", arguments: [
        "alice", "@alpha.test", "alice@", "*", "a*@alpha.test", "*a@alpha.test", "alice@*.alpha.test", "a b@alpha.test",
        ".a@alpha.test", "a..b@alpha.test", "\"a b\"@alpha.test", String(repeating: "l", count: 65) + "@alpha.test",
        "a@b@alpha.test",
    ])
    func badAddresses(_ pattern: String) {
        #expect(throws: PolicyError.self) { try AddressPattern(pattern) }
    }

    @Test("media type patterns and their intersections", arguments: [
        ("image/*", "image/png", "image/png"), ("*/*", "text/plain", "text/plain"), ("image/*", "image/*", "image/*"),
        ("image/png", "image/jpeg", nil), ("image/*", "text/*", nil), ("*/*", "*/*", "*/*"),
    ] as [(String, String, String?)])
    func mediaIntersection(_ a: String, _ b: String, _ expected: String?) throws {
        let left = try MediaTypePattern(a)
        let right = try MediaTypePattern(b)
        #expect(left.intersection(right)?.description == expected)
        #expect(right.intersection(left)?.description == expected)
    }

    @Test("invalid media type patterns are refused", arguments: [
        "image", "image/", "/png", "*/png", "image/png/x", "im age/png", "-image/png", "image/*/*", "",
    ])
    func badMediaTypes(_ pattern: String) {
        #expect(throws: PolicyError.self) { try MediaTypePattern(pattern) }
    }

    @Test("object identifiers", arguments: [
        ("1.3.6.1.4.1.55555.1", true), ("2.5.29.32.0", true), ("0.9", true), ("3.1", false), ("1", false),
        ("1..2", false),
        ("1.02", false), ("1.2.", false), ("a.b", false), ("1.2.123456789012345678901", false),
    ])
    func oids(_ text: String, _ valid: Bool) {
        #expect(((try? PolicyOID(text)) != nil) == valid)
    }

    @Test("networks contain the addresses under their prefix", arguments: [
        ("192.0.2.0/24", "192.0.2.77", true), ("192.0.2.0/24", "192.0.3.1", false), ("0.0.0.0/0", "203.0.113.9", true),
        ("192.0.2.128/25", "192.0.2.127", false), ("192.0.2.128/25", "192.0.2.128", true),
        ("192.0.2.7", "192.0.2.7", true), ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/33", "2001:db8:8000::1", false), ("::/0", "192.0.2.1", false),
        ("192.0.2.0/24", "::ffff:192.0.2.1", false),
    ])
    func networks(_ pattern: String, _ address: String, _ expected: Bool) throws {
        let ip = try #require(IPAddress(address))
        #expect(try NetworkPattern(pattern).contains(ip) == expected)
    }

    @Test("invalid networks are refused", arguments: [
        "192.0.2.0/33", "192.0.2.1/24", "192.0.2.0/", "192.0.2.0/+8", "192.0.2/24", "2001:db8::1/32", "2001:db8::/129",
        "host", "",
    ])
    func badNetworks(_ pattern: String) {
        #expect(throws: PolicyError.self) { try NetworkPattern(pattern) }
    }

    @Test("UTC weekday and hour of an instant", arguments: [
        ("1970-01-01T00:00:00Z", 3, 0), ("2026-03-02T10:00:00Z", 0, 10), ("2026-03-08T23:59:59Z", 6, 23),
        ("1969-12-31T23:00:00Z", 2, 23), ("2000-02-29T12:00:00Z", 1, 12),
    ])
    func utcParts(_ text: String, _ weekday: Int, _ hour: Int) {
        let time = UTCTime(PolicyFixture.instant(text))
        #expect(time.weekday == weekday)
        #expect(time.hour == hour)
    }
}
