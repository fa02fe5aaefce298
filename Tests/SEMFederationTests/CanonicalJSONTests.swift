import Foundation
import SEMFederation
import Testing

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    private func canonical(_ text: String) throws -> String {
        String(decoding: try CanonicalJSON.canonicalize(Data(text.utf8)), as: UTF8.self)
    }

    @Test("members are sorted by UTF-16 code units and whitespace disappears", arguments: [
        (#"{ "b": 1, "a": 2 }"#, #"{"a":2,"b":1}"#),
        // U+20AC (0x20AC) sorts before U+1F600 (surrogates 0xD83D...) in UTF-16, after it in scalars.
        ("{\"\u{1F600}\": 1, \"\u{20AC}\": 2}", "{\"\u{20AC}\":2,\"\u{1F600}\":1}"),
        (#"{"aa":1,"a":2,"B":3}"#, #"{"B":3,"a":2,"aa":1}"#),
        (#"[ [3, [ ] ], { "z": [ {"y":null,"x":true} ] } ]"#, #"[[3,[]],{"z":[{"x":true,"y":null}]}]"#),
    ])
    func ordering(input: String, expected: String) throws {
        #expect(try canonical(input) == expected)
    }

    @Test("the member names of RFC 8785 §3.2.3 sort in its order")
    func rfc8785Sorting() throws {
        let input = #"{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}"#
        let expected = "{\"\\r\":2,\"1\":4,\"\u{80}\":6,\"\u{F6}\":7,\"\u{20AC}\":1,\"\u{1F600}\":5,\"\u{FB33}\":3}"
        #expect(try canonical(input) == expected)
    }

    @Test("strings use minimal escaping: controls as short or \\u00xx forms, non-ASCII as UTF-8", arguments: [
        (#""a\u0041\/b""#, #""aA/b""#),
        (#""\u0001\u001f\b\f\n\r\t""#, #""\u0001\u001f\b\f\n\r\t""#),
        (#""\u00e9\u20ac\ud83d\ude00""#, "\"\u{E9}\u{20AC}\u{1F600}\""),
        (#""quote \" backslash \\ del \u007f""#, "\"quote \\\" backslash \\\\ del \u{7F}\""),
    ])
    func escaping(input: String, expected: String) throws {
        #expect(try canonical(input) == expected)
    }

    @Test("documents with no single meaning are refused", arguments: [
        #"{"a":1,"a":2}"#, #"{"n":1.5}"#, #"{"n":1e3}"#, #"{"n":01}"#, #"{"n":-0}"#,
        "\"\u{01}\"", #""\ud800""#, #"{"a":1} x"#, #"{"a":1,}"#, #"[1,2"#,
    ])
    func refusals(input: String) {
        #expect(throws: FederationError(.invalidJSON, "")) { try CanonicalJSON.canonicalize(Data(input.utf8)) }
    }

    struct Sample: Codable, Equatable {
        var when: Date
        var count: UInt64
        var name: String
    }

    @Test("Encodable values encode canonically with RFC 3339 dates and decode back")
    func encodable() throws {
        let sample = Sample(when: Date(timeIntervalSince1970: 1_800_000_000), count: UInt64.max, name: "é")
        let bytes = try CanonicalJSON.encode(sample)
        #expect(String(decoding: bytes, as: UTF8.self)
                == "{\"count\":18446744073709551615,\"name\":\"\u{E9}\",\"when\":\"2027-01-15T08:00:00Z\"}")
        #expect(try CanonicalJSON.decodeCanonical(Sample.self, from: bytes) == sample)
    }

    @Test("floating-point values cannot be signed")
    func floats() {
        struct Measured: Codable { var ratio: Double }
        #expect(throws: FederationError(.invalidJSON, "")) { try CanonicalJSON.encode(Measured(ratio: 0.5)) }
    }

    @Test("non-canonical bytes are refused by the canonical decoder even when they parse")
    func nonCanonical() {
        let spaced = Data(#"{"count": 1,"name":"x","when":"2027-01-15T08:00:00Z"}"#.utf8)
        #expect(throws: FederationError(.invalidJSON, "")) { try CanonicalJSON.decodeCanonical(Sample.self, from: spaced) }
        let offset = Data(#"{"count":1,"name":"x","when":"2027-01-15T09:00:00+01:00"}"#.utf8)
        #expect(throws: FederationError(.invalidJSON, "")) { try CanonicalJSON.decode(Sample.self, from: offset) }
    }

    @Test("RFC 3339 times round-trip and malformed ones are refused")
    func times() {
        let date = Date(timeIntervalSince1970: 951_782_400) // 2000-02-29T00:00:00Z
        #expect(RFC3339.string(from: date) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.date(from: "2000-02-29T00:00:00Z") == date)
        for bad in ["2001-02-29T00:00:00Z", "2000-02-29 00:00:00Z", "2000-02-29T00:00:00.5Z", "2000-13-01T00:00:00Z"] {
            #expect(RFC3339.date(from: bad) == nil, "\(bad)")
        }
    }
}
