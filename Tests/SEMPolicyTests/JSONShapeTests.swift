import Foundation
@testable import SEMPolicy
import Testing

@Suite("JSON syntax pass")
struct JSONShapeTests {
    static let limits = JSONLimits(maxBytes: 4096, maxDepth: 4, maxStringBytes: 16, maxItems: 3)

    static func check(_ text: String, limits: JSONLimits = limits) -> PolicyError? {
        PolicyFixture.policyError { try JSONShape.check(Array(text.utf8), limits: limits) }
    }

    @Test("well-formed JSON passes", arguments: [
        "{}", "[]", "0", "-0", "1.5e-3", "2E+10", "true", "false", "null", #""""#, #""\u00e9\ud83d\ude00\n\/""#,
        #" { "a" : [ 1 , { "b" : null } ] } "#, "\t\r\n[1]\n", #"{"a": 1, "A": 2}"#, #"{"\u0061": 1, "b": 2}"#,
    ])
    func wellFormed(_ text: String) {
        let roomy = JSONLimits(maxBytes: 4096, maxDepth: 8, maxStringBytes: 64, maxItems: 8)
        #expect(Self.check(text, limits: roomy) == nil, "\(text)")
    }

    @Test("malformed JSON is refused with path and byte offset", arguments: [
        ("", "$", "the input ends where a value is expected"),
        ("[1,]", "$[1]", "a value cannot start with ']'"),
        (#"{"a" 1}"#, "$.a", "expected ':' after the member name"),
        (#"{"a": 1 "b": 2}"#, "$", "expected ',' or '}' in an object"),
        ("[1 2]", "$", "expected ',' or ']' in an array"),
        ("01", "$", "unexpected text after the end of the JSON value"),
        ("1.", "$", "a number needs a digit after the decimal point"),
        ("1e", "$", "a number needs a digit in its exponent"),
        ("-", "$", "a number needs a digit"),
        ("tru", "$", "expected 'true'"),
        (#"{"a": "x"#, "$.a", "a string is not terminated"),
        ("\"a\tb\"", "$", "a control character must be escaped inside a string"),
        (#""\x""#, "$", #"\'x' is not a JSON escape"#),
        (#""\ud800""#, "$", #"a \u escape holds half of a surrogate pair"#),
        (#""\udc00""#, "$", #"a \u escape holds half of a surrogate pair"#),
        (#""\u12g4""#, "$", #"a \u escape needs four hexadecimal digits"#),
        ("{'a': 1}", "$", "an object member must start with a quoted name"),
        ("[1] [2]", "$", "unexpected text after the end of the JSON value"),
    ])
    func malformed(_ text: String, _ path: String, _ what: String) throws {
        let error = try #require(Self.check(text))
        #expect(error.code == .malformedJSON)
        #expect(error.path == path)
        #expect(error.reason.hasSuffix(what), "\(error.reason)")
        #expect(error.reason.hasPrefix("malformed JSON at byte "))
    }

    @Test("invalid UTF-8 and a byte order mark are refused")
    func encoding() {
        let invalid = PolicyFixture.policyError { try JSONShape.check([0x22, 0xC3, 0x28, 0x22], limits: Self.limits) }
        #expect(invalid == PolicyError(.malformedJSON, at: "$", ""))
        let bom = PolicyFixture.policyError { try JSONShape.check([0xEF, 0xBB, 0xBF, 0x7B, 0x7D], limits: Self.limits) }
        #expect(bom?.code == .malformedJSON)
    }

    @Test("duplicate members are refused, also when spelt with escapes", arguments: [
        (#"{"a": 1, "a": 2}"#, "$.a"),
        (#"{"x": [{"b": 1, "\u0062": 2}]}"#, "$.x[0].b"),
    ])
    func duplicates(_ text: String, _ path: String) {
        #expect(Self.check(text) == PolicyError(.duplicateKey, at: path, ""))
    }

    @Test("limits on depth, string length, list length and size", arguments: [
        ("[[[[1]]]]", PolicyError.Code?.none, "$"),
        ("[[[[[1]]]]]", .tooLarge, "$[0][0][0][0]"),
        (#"{"a": "0123456789abcdef"}"#, nil, "$"),
        (#"{"a": "0123456789abcdefg"}"#, .tooLarge, "$.a"),
        (#"{"a": "\u00e9\u00e9abcd"}"#, nil, "$"),
        (#"{"a": "\u00e9\u00e9abcde"}"#, .tooLarge, "$.a"),
        ("[1, 2, 3]", nil, "$"),
        ("[1, 2, 3, 4]", .tooLarge, "$"),
        (#"{"a": 1, "b": 2, "c": 3, "d": 4}"#, .tooLarge, "$.d"),
        ("1" + String(repeating: "0", count: 64), .tooLarge, "$"),
        (String(repeating: " ", count: 4097), .tooLarge, "$"),
    ])
    func bounds(_ text: String, _ code: PolicyError.Code?, _ path: String) {
        let error = Self.check(text)
        #expect(error?.code == code)
        if code != nil { #expect(error?.path == path) }
    }

    @Test("paths quote member names that are not plain identifiers")
    func quotedPaths() {
        #expect(Self.check(#"{"a b": {"x": 1, "x": 2}}"#)?.path == #"$["a b"].x"#)
        #expect(Self.check(#"{"1st": [1, 2, 3, 4]}"#)?.path == #"$["1st"]"#)
        #expect(Self.check(#"{"q\"": 1, "q\"": 1}"#)?.path == #"$["q\""]"#)
    }
}
