import Foundation
@testable import SEMPolicy
import Testing

@Suite("Reading policy documents strictly")
struct PolicyParsingTests {
    typealias F = PolicyFixture

    /// A valid rule to put before the rule under test, so that indices are not all 0.
    static let filler = #"{"id": "filler", "effect": "permit", "description": "x", "actions": ["lookup"]}"#

    static func rule(_ members: String, id: String = "r") -> String {
        #"{"id": "\#(id)", "effect": "permit", "description": "x", "actions": ["send"]\#(members.isEmpty ? "" : ", " + members)}"#
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let json: String
        let code: PolicyError.Code
        let path: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "unknown top-level member", json: #"{"version": 1, "rules": [], "extra": 1}"#,
             code: .unknownField, path: "$.extra"),
        Case(label: "newer language version", json: #"{"version": 2, "rules": [], "whatever": true}"#,
             code: .unsupportedVersion, path: "$.version"),
        Case(label: "version missing", json: #"{"rules": []}"#, code: .missingField, path: "$.version"),
        Case(label: "rules missing", json: #"{"version": 1}"#, code: .missingField, path: "$.rules"),
        Case(label: "rules not an array", json: #"{"version": 1, "rules": {}}"#, code: .wrongType, path: "$.rules"),
        Case(label: "unknown effect", json: F.document(rules: filler + "," + #"{"id": "r", "effect": "allow", "description": "x", "actions": ["send"]}"#),
             code: .invalidValue, path: "$.rules[1].effect"),
        Case(label: "unknown action", json: F.document(rules: #"{"id": "r", "effect": "permit", "description": "x", "actions": ["send", "forward"]}"#),
             code: .invalidValue, path: "$.rules[0].actions[1]"),
        Case(label: "no actions", json: F.document(rules: #"{"id": "r", "effect": "permit", "description": "x", "actions": []}"#),
             code: .invalidValue, path: "$.rules[0].actions"),
        Case(label: "actions missing", json: F.document(rules: #"{"id": "r", "effect": "permit", "description": "x"}"#),
             code: .missingField, path: "$.rules[0].actions"),
        Case(label: "an action twice", json: F.document(rules: #"{"id": "r", "effect": "permit", "description": "x", "actions": ["send", "send"]}"#),
             code: .invalidValue, path: "$.rules[0].actions"),
        Case(label: "duplicate rule id", json: F.document(rules: filler + "," + rule("") + "," + rule("")),
             code: .duplicateRuleID, path: "$.rules[2].id"),
        Case(label: "rule id with a space", json: F.document(rules: rule("", id: "bad id")),
             code: .invalidValue, path: "$.rules[0].id"),
        Case(label: "description missing", json: F.document(rules: #"{"id": "r", "effect": "permit", "actions": ["send"]}"#),
             code: .missingField, path: "$.rules[0].description"),
        Case(label: "description null", json: F.document(rules: #"{"id": "r", "effect": "permit", "description": null, "actions": ["send"]}"#),
             code: .wrongType, path: "$.rules[0].description"),
        Case(label: "attachment size as a string",
             json: F.document(rules: [filler, rule("", id: "a"), rule("", id: "b"),
                                      rule(#""resources": {"attachments": {"maxSize": "10 MB"}}"#)].joined(separator: ",")),
             code: .wrongType, path: "$.rules[3].resources.attachments.maxSize"),
        Case(label: "negative attachment size", json: F.document(rules: rule(#""resources": {"attachments": {"maxSize": -1}}"#)),
             code: .invalidValue, path: "$.rules[0].resources.attachments.maxSize"),
        Case(label: "fractional attachment size", json: F.document(rules: rule(#""resources": {"attachments": {"maxSize": 1.5}}"#)),
             code: .invalidValue, path: "$.rules[0].resources.attachments.maxSize"),
        Case(label: "huge message size", json: F.document(rules: rule(#""resources": {"maxMessageSize": 1e30}"#)),
             code: .invalidValue, path: "$.rules[0].resources.maxMessageSize"),
        Case(label: "misspelt attachment member", json: F.document(rules: rule(#""resources": {"attachments": {"maxsize": 1}}"#)),
             code: .unknownField, path: "$.rules[0].resources.attachments.maxsize"),
        Case(label: "media type without subtype", json: F.document(rules: rule(#""resources": {"attachments": {"allowedTypes": ["image/png", "image"]}}"#)),
             code: .invalidValue, path: "$.rules[0].resources.attachments.allowedTypes[1]"),
        Case(label: "wildcard type with concrete subtype", json: F.document(rules: rule(#""resources": {"attachments": {"forbiddenTypes": ["*/png"]}}"#)),
             code: .invalidValue, path: "$.rules[0].resources.attachments.forbiddenTypes[0]"),
        Case(label: "wildcard inside a local part", json: F.document(rules: rule(#""subjects": {"addresses": ["a*@alpha.test"]}"#)),
             code: .invalidValue, path: "$.rules[0].subjects.addresses[0]"),
        Case(label: "empty domain label", json: F.document(rules: rule(#""subjects": {"domains": ["alpha.test", "alpha..test"]}"#)),
             code: .invalidValue, path: "$.rules[0].subjects.domains[1]"),
        Case(label: "wildcard not a whole label", json: F.document(rules: rule(#""resources": {"recipients": {"domains": ["*alpha.test"]}}"#)),
             code: .invalidValue, path: "$.rules[0].resources.recipients.domains[0]"),
        Case(label: "undefined group in subjects",
             json: F.document(rules: rule(#""subjects": {"groups": ["staff", "ghosts"]}"#), groups: #"{"staff": {"domains": ["alpha.test"]}}"#),
             code: .undefinedGroup, path: "$.rules[0].subjects.groups[1]"),
        Case(label: "undefined group in recipients", json: F.document(rules: rule(#""resources": {"recipients": {"groups": ["ghosts"]}}"#)),
             code: .undefinedGroup, path: "$.rules[0].resources.recipients.groups[0]"),
        Case(label: "undefined nested group", json: F.document(rules: "", groups: #"{"staff": {"groups": ["ghosts"]}}"#),
             code: .undefinedGroup, path: "$.groups.staff.groups[0]"),
        Case(label: "two groups containing each other",
             json: F.document(rules: "", groups: #"{"a": {"groups": ["b"]}, "b": {"domains": ["x.test"], "groups": ["a"]}}"#),
             code: .groupCycle, path: "$.groups.b.groups[0]"),
        Case(label: "a group containing itself", json: F.document(rules: "", groups: #"{"a": {"groups": ["a"]}}"#),
             code: .groupCycle, path: "$.groups.a.groups[0]"),
        Case(label: "group name with a space", json: F.document(rules: "", groups: #"{"bad name": {}}"#),
             code: .invalidValue, path: #"$.groups["bad name"]"#),
        Case(label: "group given as a list", json: F.document(rules: "", groups: #"{"a": []}"#),
             code: .wrongType, path: "$.groups.a"),
        Case(label: "unknown group member kind", json: F.document(rules: "", groups: #"{"a": {"users": []}}"#),
             code: .unknownField, path: "$.groups.a.users"),
        Case(label: "unknown obligation type", json: F.document(rules: rule(#""obligations": [{"type": "encrypt-twice"}]"#)),
             code: .invalidValue, path: "$.rules[0].obligations[0].type"),
        Case(label: "obligation with a foreign parameter",
             json: F.document(rules: rule(#""obligations": [{"type": "require-receipt"}, {"type": "quarantine", "bytes": 5}]"#)),
             code: .unknownField, path: "$.rules[0].obligations[1].bytes"),
        Case(label: "unknown algorithm", json: F.document(rules: rule(#""obligations": [{"type": "minimum-algorithm", "algorithm": "DES"}]"#)),
             code: .invalidValue, path: "$.rules[0].obligations[0].algorithm"),
        Case(label: "obligation parameter missing", json: F.document(rules: rule(#""obligations": [{"type": "max-attachment-size"}]"#)),
             code: .missingField, path: "$.rules[0].obligations[0].bytes"),
        Case(label: "obligations on a deny rule",
             json: F.document(rules: #"{"id": "d", "effect": "deny", "description": "x", "actions": ["send"], "obligations": [{"type": "quarantine"}]}"#),
             code: .invalidValue, path: "$.rules[0].obligations"),
        Case(label: "hour out of range", json: F.document(rules: rule(#""conditions": {"time": {"hours": {"from": 25, "to": 3}}}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.time.hours.from"),
        Case(label: "empty hour range", json: F.document(rules: rule(#""conditions": {"time": {"hours": {"from": 8, "to": 8}}}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.time.hours.to"),
        Case(label: "weekday spelt out", json: F.document(rules: rule(#""conditions": {"time": {"days": ["mon", "tuesday"]}}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.time.days[1]"),
        Case(label: "timestamp without a zone", json: F.document(rules: rule(#""conditions": {"time": {"notBefore": "2026-01-01T00:00:00"}}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.time.notBefore"),
        Case(label: "interval ending before it starts",
             json: F.document(rules: rule(#""conditions": {"time": {"notBefore": "2026-02-01T00:00:00Z", "notAfter": "2026-01-01T00:00:00Z"}}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.time.notAfter"),
        Case(label: "rate limit of zero", json: F.document(rules: rule(#""conditions": {"rateLimit": {"requests": 0, "windowSeconds": 60}}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.rateLimit.requests"),
        Case(label: "rate limit window missing", json: F.document(rules: rule(#""conditions": {"rateLimit": {"requests": 5}}"#)),
             code: .missingField, path: "$.rules[0].conditions.rateLimit.windowSeconds"),
        Case(label: "network with host bits", json: F.document(rules: rule(#""conditions": {"clientNetworks": ["10.0.0.0/8", "192.0.2.1/24"]}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.clientNetworks[1]"),
        Case(label: "unknown TLS version", json: F.document(rules: rule(#""conditions": {"minimumTLS": "SSLv3"}"#)),
             code: .invalidValue, path: "$.rules[0].conditions.minimumTLS"),
        Case(label: "agreement flag as a word", json: F.document(rules: rule(#""conditions": {"requireAgreement": "yes"}"#)),
             code: .wrongType, path: "$.rules[0].conditions.requireAgreement"),
        Case(label: "policy identifier with a leading zero",
             json: F.document(rules: rule(#""subjects": {"certificate": {"policies": ["1.3.06.1"]}}"#)),
             code: .invalidValue, path: "$.rules[0].subjects.certificate.policies[0]"),
        Case(label: "unknown subject kind", json: F.document(rules: rule(#""subjects": {"kind": "robot"}"#)),
             code: .invalidValue, path: "$.rules[0].subjects.kind"),
        Case(label: "unknown assurance level", json: F.document(rules: rule(#""subjects": {"minAssurance": "medium"}"#)),
             code: .invalidValue, path: "$.rules[0].subjects.minAssurance"),
        Case(label: "empty subjects clause", json: F.document(rules: rule(#""subjects": {}"#)),
             code: .invalidValue, path: "$.rules[0].subjects"),
        Case(label: "empty address list", json: F.document(rules: rule(#""subjects": {"addresses": []}"#)),
             code: .invalidValue, path: "$.rules[0].subjects.addresses"),
        Case(label: "unknown default effect", json: F.document(rules: "", defaults: #"{"effect": "maybe"}"#),
             code: .invalidValue, path: "$.defaults.effect"),
        Case(label: "unknown defaults member", json: F.document(rules: "", defaults: #"{"effect": "deny", "ttl": 5}"#),
             code: .unknownField, path: "$.defaults.ttl"),
        Case(label: "the same member twice", json: F.document(rules: #"{"id": "r", "effect": "deny", "description": "x", "actions": ["send"], "effect": "permit"}"#),
             code: .duplicateKey, path: "$.rules[0].effect"),
        Case(label: "trailing comma", json: #"{"version": 1, "rules": [{"id": "a",}]}"#,
             code: .malformedJSON, path: "$.rules[0]"),
        Case(label: "not JSON at all", json: "version: 1", code: .malformedJSON, path: "$"),
        // $ is depth 1, groups 2, a 3, the first array 4: the 14th array is depth 17 > 16.
        Case(label: "nesting beyond the depth limit",
             json: #"{"version": 1, "rules": [], "groups": {"a": {"description": "#
                + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}}}",
             code: .tooLarge, path: "$.groups.a.description" + String(repeating: "[0]", count: 13)),
    ]

    @Test("a malformed policy is refused with the exact JSON path", arguments: cases)
    func malformed(_ testCase: Case) {
        let error = F.policyError { _ = try PolicyDocument.parse(testCase.json) }
        #expect(error?.code == testCase.code, "got \(String(describing: error))")
        #expect(error?.path == testCase.path, "got \(String(describing: error))")
        #expect(!(error?.reason.isEmpty ?? true))
    }

    @Test("reasons are sentences that name the problem")
    func reasons() throws {
        let cycle = F.policyError {
            _ = try PolicyDocument.parse(F.document(rules: "", groups: #"{"a": {"groups": ["b"]}, "b": {"groups": ["a"]}}"#))
        }
        #expect(cycle?.reason == "groups contain each other in a loop: a → b → a")
        let duplicate = F.policyError { _ = try PolicyDocument.parse(F.document(rules: Self.rule("") + "," + Self.rule(""))) }
        #expect(duplicate?.description == #"$.rules[1].id: the rule id "r" is already used by $.rules[0] [duplicate-rule-id]"#)
        let action = F.policyError {
            _ = try PolicyDocument.parse(F.document(rules: #"{"id": "r", "effect": "permit", "description": "x", "actions": ["mail"]}"#))
        }
        #expect(action?.reason.hasPrefix(#"unknown action "mail"; expected one of: submit, send, receive"#) == true)
        let type = F.policyError { _ = try PolicyDocument.parse(F.document(rules: Self.rule(#""resources": {"maxMessageSize": "big"}"#))) }
        #expect(type?.reason == "expected a number, found a string")
    }

    @Test("size limits: bytes, rules, groups and nesting of groups")
    func limits() throws {
        var small = PolicyLimits.standard
        small.json.maxBytes = 200
        let long = F.document(rules: Self.rule(#""subjects": {"domains": ["\#(String(repeating: "a", count: 60)).test"]}"#))
        #expect(F.policyError { _ = try PolicyDocument.parse(long, limits: small) }?.code == .tooLarge)

        var fewRules = PolicyLimits.standard
        fewRules.maxRules = 2
        let three = F.document(rules: [Self.rule("", id: "a"), Self.rule("", id: "b"), Self.rule("", id: "c")].joined(separator: ","))
        #expect(F.policyError { _ = try PolicyDocument.parse(three, limits: fewRules) } == PolicyError(.tooLarge, at: "$.rules", ""))
        #expect(try PolicyDocument.parse(three).rules.count == 3)

        var fewGroups = PolicyLimits.standard
        fewGroups.maxGroups = 1
        let twoGroups = F.document(rules: "", groups: #"{"a": {}, "b": {}}"#)
        #expect(F.policyError { _ = try PolicyDocument.parse(twoGroups, limits: fewGroups) } == PolicyError(.tooLarge, at: "$.groups", ""))

        // g0 contains g1 contains ... g20: deeper than the 16 levels allowed.
        let chain = (0...20).map { index in
            index == 20 ? #""g20": {"domains": ["x.test"]}"# : #""g\#(index)": {"groups": ["g\#(index + 1)"]}"#
        }.joined(separator: ",")
        let nested = F.policyError { _ = try PolicyDocument.parse(F.document(rules: "", groups: "{" + chain + "}")) }
        #expect(nested?.code == .tooLarge)
        #expect(nested?.path == "$.groups.g15.groups[0]")
    }

    @Test("a document survives being written out and read back")
    func roundTrip() throws {
        let text = F.document(rules: """
            {"id": "everything", "effect": "permit", "description": "all clauses at once", "actions": ["send", "receive"],
             "subjects": {"addresses": ["Alice@Alpha.test", "*@*.beta.test"], "domains": ["alpha.test"], "servers": ["mx.beta.test"],
                          "groups": ["staff"], "kind": "user", "minAssurance": "substantial",
                          "certificate": {"issuer": "CN=Alpha CA", "subject": "CN=Alice", "policies": ["1.3.6.1.4.1.55555.1"]}},
             "resources": {"recipients": {"addresses": ["bob@beta.test"], "domains": ["*.beta.test"], "groups": ["staff"]},
                           "maxMessageSize": 1000000, "attachments": {"maxSize": 500, "maxCount": 3,
                           "allowedTypes": ["image/*", "application/pdf"], "forbiddenTypes": ["image/svg+xml"]}},
             "conditions": {"time": {"days": ["mon", "fri"], "hours": {"from": 22, "to": 6},
                                     "notBefore": "2026-01-01T00:00:00Z", "notAfter": "2027-01-01T00:00:00Z"},
                            "clientNetworks": ["192.0.2.0/24", "2001:db8::/32"], "maxSize": 2000000, "minimumTLS": "TLSv1.3",
                            "requireAgreement": true, "rateLimit": {"requests": 10, "windowSeconds": 60}},
             "obligations": [{"type": "require-receipt"}, {"type": "minimum-algorithm", "algorithm": "AES-256-GCM"},
                             {"type": "quarantine"}, {"type": "notify-user", "message": "checked"},
                             {"type": "max-attachment-size", "bytes": 100}, {"type": "allowed-media-types", "types": ["image/*"]}]}
            """, groups: #"{"staff": {"description": "all staff", "addresses": ["*@alpha.test"], "groups": ["interns"]}, "interns": {"servers": ["*.alpha.test"]}}"#)
        let document = try PolicyDocument.parse(text)
        let written = try document.jsonText()
        #expect(try PolicyDocument.parse(written) == document)
        #expect(written.contains(#""alice@alpha.test""#), "patterns are stored lower-cased")
        #expect(written.contains(#""notBefore" : "2026-01-01T00:00:00Z""#))
    }
}

