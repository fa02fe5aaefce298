import Foundation
@testable import SEMPolicy
import Testing

@Suite("Reading policy documents strictly")
struct PolicyParsingTests {
    typealias F = PolicyFixture

    /// A valid rule to put before the rule under test, so that indices are not all 0.
    static let filler = #"{"id": "filler", "effect": "permit", "description": "x", "actions": ["lookup"]}"#

    /// A permit rule for `send` with extra members.
    static func rule(_ members: String, id: String = "r") -> String {
        let extra = members.isEmpty ? "" : ", " + members
        return #"{"id": "\#(id)", "effect": "permit", "description": "x", "actions": ["send"]\#(extra)}"#
    }

    /// A rule object with exactly these members besides its id.
    static func bare(_ members: String) -> String { #"{"id": "r", \#(members)}"# }

    /// A document whose rules are `rules`.
    static func doc(_ rules: String..., groups: String = "{}", defaults: String = #"{"effect": "deny"}"#) -> String {
        F.document(rules: rules.joined(separator: ","), groups: groups, defaults: defaults)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let json: String
        let code: PolicyError.Code
        let path: String
        var testDescription: String { label }

        init(_ label: String, _ json: String, _ code: PolicyError.Code, _ path: String) {
            self.label = label
            self.json = json
            self.code = code
            self.path = path
        }
    }

    static let cases: [Case] = [
        Case("unknown top-level member", #"{"version": 1, "rules": [], "extra": 1}"#, .unknownField, "$.extra"),
        Case("newer language version", #"{"version": 2, "rules": [], "whatever": true}"#,
             .unsupportedVersion, "$.version"),
        Case("version missing", #"{"rules": []}"#, .missingField, "$.version"),
        Case("rules missing", #"{"version": 1}"#, .missingField, "$.rules"),
        Case("rules not an array", #"{"version": 1, "rules": {}}"#, .wrongType, "$.rules"),
        Case("unknown effect",
             doc(filler, bare(#""effect": "allow", "description": "x", "actions": ["send"]"#)),
             .invalidValue, "$.rules[1].effect"),
        Case("unknown action", doc(bare(#""effect": "permit", "description": "x", "actions": ["send", "forward"]"#)),
             .invalidValue, "$.rules[0].actions[1]"),
        Case("no actions", doc(bare(#""effect": "permit", "description": "x", "actions": []"#)),
             .invalidValue, "$.rules[0].actions"),
        Case("actions missing", doc(bare(#""effect": "permit", "description": "x""#)),
             .missingField, "$.rules[0].actions"),
        Case("an action twice", doc(bare(#""effect": "permit", "description": "x", "actions": ["send", "send"]"#)),
             .invalidValue, "$.rules[0].actions"),
        Case("duplicate rule id", doc(filler, rule(""), rule("")), .duplicateRuleID, "$.rules[2].id"),
        Case("rule id with a space", doc(rule("", id: "bad id")), .invalidValue, "$.rules[0].id"),
        Case("description missing", doc(bare(#""effect": "permit", "actions": ["send"]"#)),
             .missingField, "$.rules[0].description"),
        Case("description null", doc(bare(#""effect": "permit", "description": null, "actions": ["send"]"#)),
             .wrongType, "$.rules[0].description"),
        Case("attachment size as a string",
             doc(filler, rule("", id: "a"), rule("", id: "b"),
                 rule(#""resources": {"attachments": {"maxSize": "10 MB"}}"#)),
             .wrongType, "$.rules[3].resources.attachments.maxSize"),
        Case("negative attachment size", doc(rule(#""resources": {"attachments": {"maxSize": -1}}"#)),
             .invalidValue, "$.rules[0].resources.attachments.maxSize"),
        Case("fractional attachment size", doc(rule(#""resources": {"attachments": {"maxSize": 1.5}}"#)),
             .invalidValue, "$.rules[0].resources.attachments.maxSize"),
        Case("huge message size", doc(rule(#""resources": {"maxMessageSize": 1e30}"#)),
             .invalidValue, "$.rules[0].resources.maxMessageSize"),
        Case("misspelt attachment member", doc(rule(#""resources": {"attachments": {"maxsize": 1}}"#)),
             .unknownField, "$.rules[0].resources.attachments.maxsize"),
        Case("media type without subtype",
             doc(rule(#""resources": {"attachments": {"allowedTypes": ["image/png", "image"]}}"#)),
             .invalidValue, "$.rules[0].resources.attachments.allowedTypes[1]"),
        Case("wildcard type with concrete subtype",
             doc(rule(#""resources": {"attachments": {"forbiddenTypes": ["*/png"]}}"#)),
             .invalidValue, "$.rules[0].resources.attachments.forbiddenTypes[0]"),
        Case("wildcard inside a local part", doc(rule(#""subjects": {"addresses": ["a*@alpha.test"]}"#)),
             .invalidValue, "$.rules[0].subjects.addresses[0]"),
        Case("empty domain label", doc(rule(#""subjects": {"domains": ["alpha.test", "alpha..test"]}"#)),
             .invalidValue, "$.rules[0].subjects.domains[1]"),
        Case("wildcard not a whole label", doc(rule(#""resources": {"recipients": {"domains": ["*alpha.test"]}}"#)),
             .invalidValue, "$.rules[0].resources.recipients.domains[0]"),
        Case("undefined group in subjects",
             doc(rule(#""subjects": {"groups": ["staff", "ghosts"]}"#),
                 groups: #"{"staff": {"domains": ["alpha.test"]}}"#),
             .undefinedGroup, "$.rules[0].subjects.groups[1]"),
        Case("undefined group in recipients", doc(rule(#""resources": {"recipients": {"groups": ["ghosts"]}}"#)),
             .undefinedGroup, "$.rules[0].resources.recipients.groups[0]"),
        Case("undefined nested group", doc(groups: #"{"staff": {"groups": ["ghosts"]}}"#),
             .undefinedGroup, "$.groups.staff.groups[0]"),
        Case("two groups containing each other",
             doc(groups: #"{"a": {"groups": ["b"]}, "b": {"domains": ["x.test"], "groups": ["a"]}}"#),
             .groupCycle, "$.groups.b.groups[0]"),
        Case("a group containing itself", doc(groups: #"{"a": {"groups": ["a"]}}"#),
             .groupCycle, "$.groups.a.groups[0]"),
        Case("group name with a space", doc(groups: #"{"bad name": {}}"#), .invalidValue, #"$.groups["bad name"]"#),
        Case("group given as a list", doc(groups: #"{"a": []}"#), .wrongType, "$.groups.a"),
        Case("unknown group member kind", doc(groups: #"{"a": {"users": []}}"#), .unknownField, "$.groups.a.users"),
        Case("unknown obligation type", doc(rule(#""obligations": [{"type": "encrypt-twice"}]"#)),
             .invalidValue, "$.rules[0].obligations[0].type"),
        Case("obligation with a foreign parameter",
             doc(rule(#""obligations": [{"type": "require-receipt"}, {"type": "quarantine", "bytes": 5}]"#)),
             .unknownField, "$.rules[0].obligations[1].bytes"),
        Case("unknown algorithm", doc(rule(#""obligations": [{"type": "minimum-algorithm", "algorithm": "DES"}]"#)),
             .invalidValue, "$.rules[0].obligations[0].algorithm"),
        Case("obligation parameter missing", doc(rule(#""obligations": [{"type": "max-attachment-size"}]"#)),
             .missingField, "$.rules[0].obligations[0].bytes"),
        Case("obligations on a deny rule",
             doc(bare(#""effect": "deny", "description": "x", "actions": ["send"], "#
                      + #""obligations": [{"type": "quarantine"}]"#)),
             .invalidValue, "$.rules[0].obligations"),
        Case("hour out of range", doc(rule(#""conditions": {"time": {"hours": {"from": 25, "to": 3}}}"#)),
             .invalidValue, "$.rules[0].conditions.time.hours.from"),
        Case("empty hour range", doc(rule(#""conditions": {"time": {"hours": {"from": 8, "to": 8}}}"#)),
             .invalidValue, "$.rules[0].conditions.time.hours.to"),
        Case("weekday spelt out", doc(rule(#""conditions": {"time": {"days": ["mon", "tuesday"]}}"#)),
             .invalidValue, "$.rules[0].conditions.time.days[1]"),
        Case("timestamp without a zone", doc(rule(#""conditions": {"time": {"notBefore": "2026-01-01T00:00:00"}}"#)),
             .invalidValue, "$.rules[0].conditions.time.notBefore"),
        Case("interval ending before it starts",
             doc(rule(#""conditions": {"time": {"notBefore": "2026-02-01T00:00:00Z", "#
                      + #""notAfter": "2026-01-01T00:00:00Z"}}"#)),
             .invalidValue, "$.rules[0].conditions.time.notAfter"),
        Case("rate limit of zero", doc(rule(#""conditions": {"rateLimit": {"requests": 0, "windowSeconds": 60}}"#)),
             .invalidValue, "$.rules[0].conditions.rateLimit.requests"),
        Case("rate limit window missing", doc(rule(#""conditions": {"rateLimit": {"requests": 5}}"#)),
             .missingField, "$.rules[0].conditions.rateLimit.windowSeconds"),
        Case("network with host bits", doc(rule(#""conditions": {"clientNetworks": ["10.0.0.0/8", "192.0.2.1/24"]}"#)),
             .invalidValue, "$.rules[0].conditions.clientNetworks[1]"),
        Case("unknown TLS version", doc(rule(#""conditions": {"minimumTLS": "SSLv3"}"#)),
             .invalidValue, "$.rules[0].conditions.minimumTLS"),
        Case("agreement flag as a word", doc(rule(#""conditions": {"requireAgreement": "yes"}"#)),
             .wrongType, "$.rules[0].conditions.requireAgreement"),
        Case("policy identifier with a leading zero",
             doc(rule(#""subjects": {"certificate": {"policies": ["1.3.06.1"]}}"#)),
             .invalidValue, "$.rules[0].subjects.certificate.policies[0]"),
        Case("unknown subject kind", doc(rule(#""subjects": {"kind": "robot"}"#)),
             .invalidValue, "$.rules[0].subjects.kind"),
        Case("unknown assurance level", doc(rule(#""subjects": {"minAssurance": "medium"}"#)),
             .invalidValue, "$.rules[0].subjects.minAssurance"),
        Case("empty subjects clause", doc(rule(#""subjects": {}"#)), .invalidValue, "$.rules[0].subjects"),
        Case("empty address list", doc(rule(#""subjects": {"addresses": []}"#)),
             .invalidValue, "$.rules[0].subjects.addresses"),
        Case("unknown default effect", doc(defaults: #"{"effect": "maybe"}"#), .invalidValue, "$.defaults.effect"),
        Case("unknown defaults member", doc(defaults: #"{"effect": "deny", "ttl": 5}"#),
             .unknownField, "$.defaults.ttl"),
        Case("the same member twice",
             doc(bare(#""effect": "deny", "description": "x", "actions": ["send"], "effect": "permit""#)),
             .duplicateKey, "$.rules[0].effect"),
        Case("trailing comma", #"{"version": 1, "rules": [{"id": "a",}]}"#, .malformedJSON, "$.rules[0]"),
        Case("not JSON at all", "version: 1", .malformedJSON, "$"),
        // $ is depth 1, groups 2, a 3, the first array 4: the 14th array is depth 17 > 16.
        Case("nesting beyond the depth limit",
             #"{"version": 1, "rules": [], "groups": {"a": {"description": "#
                + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}}}",
             .tooLarge, "$.groups.a.description" + String(repeating: "[0]", count: 13)),
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
            _ = try PolicyDocument.parse(Self.doc(groups: #"{"a": {"groups": ["b"]}, "b": {"groups": ["a"]}}"#))
        }
        #expect(cycle?.reason == "groups contain each other in a loop: a → b → a")
        let duplicate = F.policyError { _ = try PolicyDocument.parse(Self.doc(Self.rule(""), Self.rule(""))) }
        #expect(duplicate?.description
                == #"$.rules[1].id: the rule id "r" is already used by $.rules[0] [duplicate-rule-id]"#)
        let action = F.policyError {
            let rule = Self.bare(#""effect": "permit", "description": "x", "actions": ["mail"]"#)
            _ = try PolicyDocument.parse(Self.doc(rule))
        }
        #expect(action?.reason.hasPrefix(#"unknown action "mail"; expected one of: submit, send, receive"#) == true)
        let type = F.policyError {
            _ = try PolicyDocument.parse(Self.doc(Self.rule(#""resources": {"maxMessageSize": "big"}"#)))
        }
        #expect(type?.reason == "expected a number, found a string")
        let object = F.policyError { _ = try PolicyDocument.parse(#"{"version": 1, "rules": {}}"#) }
        #expect(object?.reason == "expected an array, found an object")
    }

    @Test("size limits: bytes, rules, groups and nesting of groups")
    func limits() throws {
        var small = PolicyLimits.standard
        small.json.maxBytes = 200
        let domain = String(repeating: "a", count: 60) + ".test"
        let long = Self.doc(Self.rule(#""subjects": {"domains": ["\#(domain)"]}"#))
        #expect(F.policyError { _ = try PolicyDocument.parse(long, limits: small) }?.code == .tooLarge)

        var fewRules = PolicyLimits.standard
        fewRules.maxRules = 2
        let three = Self.doc(Self.rule("", id: "a"), Self.rule("", id: "b"), Self.rule("", id: "c"))
        #expect(F.policyError { _ = try PolicyDocument.parse(three, limits: fewRules) }
                == PolicyError(.tooLarge, at: "$.rules", ""))
        #expect(try PolicyDocument.parse(three).rules.count == 3)

        var fewGroups = PolicyLimits.standard
        fewGroups.maxGroups = 1
        let twoGroups = Self.doc(groups: #"{"a": {}, "b": {}}"#)
        #expect(F.policyError { _ = try PolicyDocument.parse(twoGroups, limits: fewGroups) }
                == PolicyError(.tooLarge, at: "$.groups", ""))

        // g0 contains g1 contains ... g20: deeper than the 16 levels allowed.
        let chain = (0...20).map { index in
            index == 20 ? #""g20": {"domains": ["x.test"]}"# : #""g\#(index)": {"groups": ["g\#(index + 1)"]}"#
        }.joined(separator: ",")
        let nested = F.policyError { _ = try PolicyDocument.parse(Self.doc(groups: "{" + chain + "}")) }
        #expect(nested?.code == .tooLarge)
        #expect(nested?.path == "$.groups.g15.groups[0]")
    }

    @Test("a document survives being written out and read back")
    func roundTrip() throws {
        let rule = """
            {"id": "everything", "effect": "permit", "description": "all clauses at once",
             "actions": ["send", "receive"],
             "subjects": {"addresses": ["Alice@Alpha.test", "*@*.beta.test"], "domains": ["alpha.test"],
                          "servers": ["mx.beta.test"], "groups": ["staff"], "kind": "user",
                          "minAssurance": "substantial",
                          "certificate": {"issuer": "CN=Alpha CA", "subject": "CN=Alice",
                                          "policies": ["1.3.6.1.4.1.55555.1"]}},
             "resources": {"recipients": {"addresses": ["bob@beta.test"], "domains": ["*.beta.test"],
                                          "groups": ["staff"]},
                           "maxMessageSize": 1000000,
                           "attachments": {"maxSize": 500, "maxCount": 3,
                                           "allowedTypes": ["image/*", "application/pdf"],
                                           "forbiddenTypes": ["image/svg+xml"]}},
             "conditions": {"time": {"days": ["mon", "fri"], "hours": {"from": 22, "to": 6},
                                     "notBefore": "2026-01-01T00:00:00Z", "notAfter": "2027-01-01T00:00:00Z"},
                            "clientNetworks": ["192.0.2.0/24", "2001:db8::/32"], "maxSize": 2000000,
                            "minimumTLS": "TLSv1.3", "requireAgreement": true,
                            "rateLimit": {"requests": 10, "windowSeconds": 60}},
             "obligations": [{"type": "require-receipt"}, {"type": "minimum-algorithm", "algorithm": "AES-256-GCM"},
                             {"type": "quarantine"}, {"type": "notify-user", "message": "checked"},
                             {"type": "max-attachment-size", "bytes": 100},
                             {"type": "allowed-media-types", "types": ["image/*"]}]}
            """
        let groups = """
            {"staff": {"description": "all staff", "addresses": ["*@alpha.test"], "groups": ["interns"]},
             "interns": {"servers": ["*.alpha.test"]}}
            """
        let document = try PolicyDocument.parse(Self.doc(rule, groups: groups))
        let written = try document.jsonText()
        #expect(try PolicyDocument.parse(written) == document)
        #expect(written.contains(#""alice@alpha.test""#), "patterns are stored lower-cased")
        #expect(written.contains(#""notBefore" : "2026-01-01T00:00:00Z""#))
    }
}
