// The policy and the requests the PDP benchmark uses: an organisation of eight
// departments with nested groups, partner domains, registered servers, officers and
// fifty rules using every kind of clause.
import Foundation
import SEMPolicy

enum BenchPolicy {
    static let departments = ["finance", "legal", "sales", "support", "research", "hr", "it", "board"]
    static let partners = ["beta.test", "gamma.test", "delta.test", "epsilon.test", "zeta.test"]

    /// Rules that do not depend on the department or partner lists, one JSON object each.
    static let fixedRules = [
        #"""
        {"id": "no-executables", "effect": "deny", "description": "no programs",
         "actions": ["submit", "send", "receive", "relay", "fetch-attachment"],
         "resources": {"attachments": {"forbiddenTypes": ["application/x-msdownload", "application/x-sh",
                                                          "application/java-archive", "application/x-msi"]}}}
        """#,
        #"""
        {"id": "suspended", "effect": "deny", "description": "suspended users",
         "actions": ["submit", "send", "lookup", "fetch-attachment"], "subjects": {"groups": ["suspended"]}}
        """#,
        #"""
        {"id": "message-cap", "effect": "deny", "description": "50 MiB at most",
         "actions": ["submit", "send", "receive"], "resources": {"maxMessageSize": 52428800}}
        """#,
        #"""
        {"id": "attachment-cap", "effect": "deny", "description": "25 MiB per attachment",
         "actions": ["submit", "send", "receive"], "resources": {"attachments": {"maxSize": 26214400, "maxCount": 50}}}
        """#,
        #"{"id": "no-relay", "effect": "deny", "description": "no relaying", "actions": ["relay"]}"#,
        #"""
        {"id": "weekend-interns", "effect": "deny", "description": "interns rest at weekends", "actions": ["send"],
         "subjects": {"addresses": ["*@interns.alpha.test"]}, "conditions": {"time": {"days": ["sat", "sun"]}}}
        """#,
        #"""
        {"id": "night-admin", "effect": "deny", "description": "no administration at night", "actions": ["admin"],
         "conditions": {"time": {"hours": {"from": 22, "to": 6}}}}
        """#,
        #"""
        {"id": "tls-everywhere", "effect": "deny", "description": "TLS 1.2 at least",
         "actions": ["submit", "send", "receive", "relay", "fetch-attachment"], "conditions": {"minimumTLS": "TLSv1.2"}}
        """#,
        #"""
        {"id": "receive-registered", "effect": "permit", "description": "registered servers deliver",
         "actions": ["receive"], "subjects": {"kind": "server", "groups": ["registered-servers"]},
         "resources": {"recipients": {"domains": ["alpha.test"]}}}
        """#,
        #"""
        {"id": "finance-receipts", "effect": "permit", "description": "receipts for finance", "actions": ["send"],
         "subjects": {"groups": ["finance", "legal"]}, "obligations": [{"type": "require-receipt"}]}
        """#,
        #"""
        {"id": "board-strong", "effect": "permit", "description": "board mail", "actions": ["send"],
         "subjects": {"groups": ["board"]},
         "obligations": [{"type": "minimum-algorithm", "algorithm": "AES-256-GCM"},
                         {"type": "notify-user", "message": "board mail"}]}
        """#,
        #"""
        {"id": "hr-documents", "effect": "permit", "description": "HR sends documents", "actions": ["send"],
         "subjects": {"groups": ["hr"]},
         "obligations": [{"type": "allowed-media-types", "types": ["application/pdf", "text/*"]},
                         {"type": "max-attachment-size", "bytes": 10485760}]}
        """#,
        #"""
        {"id": "sales-quarantine", "effect": "permit", "description": "sales to zeta is checked", "actions": ["send"],
         "subjects": {"groups": ["sales"]}, "resources": {"recipients": {"domains": ["zeta.test"]}},
         "obligations": [{"type": "quarantine"}]}
        """#,
        #"""
        {"id": "lookup-users", "effect": "permit", "description": "user lookups", "actions": ["lookup"],
         "subjects": {"kind": "user", "minAssurance": "low"},
         "conditions": {"rateLimit": {"requests": 1000, "windowSeconds": 60}}}
        """#,
        #"""
        {"id": "lookup-servers", "effect": "permit", "description": "server lookups", "actions": ["lookup"],
         "subjects": {"kind": "server", "groups": ["registered-servers"]}}
        """#,
        #"""
        {"id": "fetch-local", "effect": "permit", "description": "staff fetch", "actions": ["fetch-attachment"],
         "subjects": {"groups": ["staff"]}}
        """#,
        #"""
        {"id": "fetch-partners", "effect": "permit", "description": "partners fetch", "actions": ["fetch-attachment"],
         "subjects": {"kind": "server", "groups": ["partners"]}, "conditions": {"requireAgreement": true}}
        """#,
        #"""
        {"id": "enrol-staff", "effect": "permit", "description": "enrol from the office", "actions": ["enrol"],
         "subjects": {"domains": ["alpha.test"]}, "conditions": {"clientNetworks": ["10.0.0.0/8", "192.0.2.0/24"]}}
        """#,
        #"""
        {"id": "enrol-certified", "effect": "permit", "description": "enrol with a certificate", "actions": ["enrol"],
         "subjects": {"certificate": {"policies": ["1.3.6.1.4.1.55555.1.1"]}}}
        """#,
        #"""
        {"id": "recovery", "effect": "permit", "description": "officers recover keys", "actions": ["recover-key"],
         "subjects": {"groups": ["officers"], "minAssurance": "high"}}
        """#,
        #"""
        {"id": "recovery-high", "effect": "deny", "description": "recovery needs high", "actions": ["recover-key"],
         "subjects": {"minAssurance": "high"}}
        """#,
        #"""
        {"id": "admin-it", "effect": "permit", "description": "IT administers", "actions": ["admin"],
         "subjects": {"groups": ["it"], "minAssurance": "high"},
         "conditions": {"clientNetworks": ["10.0.0.0/8"], "minimumTLS": "TLSv1.3"}}
        """#,
        #"""
        {"id": "admin-board", "effect": "permit", "description": "the board administers", "actions": ["admin"],
         "subjects": {"groups": ["board"], "certificate": {"issuer": "CN=Alpha Issuing CA,O=Alpha"}}}
        """#,
        #"""
        {"id": "research-big", "effect": "permit", "description": "research sends data", "actions": ["send"],
         "subjects": {"groups": ["research"]}, "conditions": {"maxSize": 104857600}}
        """#,
        #"""
        {"id": "support-hours", "effect": "permit", "description": "support in its hours", "actions": ["send"],
         "subjects": {"groups": ["support"]},
         "conditions": {"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": {"from": 6, "to": 20}}}}
        """#,
        #"""
        {"id": "legal-archive", "effect": "permit", "description": "legal archives", "actions": ["send"],
         "subjects": {"groups": ["legal"]}, "resources": {"recipients": {"addresses": ["archive@alpha.test"]}}}
        """#,
        #"""
        {"id": "it-servers", "effect": "permit", "description": "internal relays", "actions": ["relay"],
         "subjects": {"kind": "server", "servers": ["*.alpha.test"]}, "conditions": {"clientNetworks": ["10.0.0.0/8"]}}
        """#,
        #"""
        {"id": "no-external-video", "effect": "deny", "description": "no video from outside", "actions": ["receive"],
         "subjects": {"kind": "server"}, "resources": {"attachments": {"forbiddenTypes": ["video/*"]}}}
        """#,
        #"""
        {"id": "large-partner-mail", "effect": "deny", "description": "75 MiB to partners at most", "actions": ["send"],
         "resources": {"recipients": {"groups": ["partners"]}}, "conditions": {"maxSize": 78643200}}
        """#,
    ]

    /// The policy as JSON. With `ruleCount`, the rule list is cut to that many rules or
    /// grown to it with per-person rules (one sender each, to a partner domain) that the
    /// requests rarely match, so that every decision has to look past them.
    static func json(ruleCount: Int? = nil) -> String {
        func quoted(_ names: [String]) -> String { names.map { "\"\($0)\"" }.joined(separator: ", ") }
        var groups = departments.map { department in
            "\"\(department)\": {\"addresses\": [\(quoted((0..<20).map { "\(department)\($0)@alpha.test" }))]}"
        }
        groups += [
            #""staff": {"groups": [\#(quoted(departments))], "addresses": ["*@alpha.test"]}"#,
            #""partners": {"description": "from agreements"}"#,
            #""registered-servers": {"servers": ["mx.beta.test", "mx.gamma.test", "*.mail.delta.test"]}"#,
            #""officers": {"addresses": ["board0@alpha.test", "it0@alpha.test"]}"#,
            #""suspended": {"addresses": ["sales13@alpha.test"]}"#,
        ]
        var rules = fixedRules
        for department in departments {
            rules.append("""
                {"id": "\(department)-internal", "effect": "permit", "description": "internal mail",
                 "actions": ["submit", "send"], "subjects": {"groups": ["\(department)"]},
                 "resources": {"recipients": {"groups": ["staff"]}}}
                """)
            rules.append("""
                {"id": "\(department)-partners", "effect": "permit", "description": "mail to partners",
                 "actions": ["submit", "send"],
                 "subjects": {"groups": ["\(department)"], "minAssurance": "substantial"},
                 "resources": {"recipients": {"groups": ["partners"]}},
                 "obligations": [{"type": "minimum-algorithm", "algorithm": "AES-256-CBC"}]}
                """)
        }
        for partner in partners {
            rules.append("""
                {"id": "receive-\(partner)", "effect": "permit", "description": "partner delivers",
                 "actions": ["receive"], "subjects": {"kind": "server", "domains": ["\(partner)"]},
                 "resources": {"recipients": {"groups": ["staff"]}}, "conditions": {"requireAgreement": true}}
                """)
        }
        if let ruleCount {
            if ruleCount < rules.count { rules = Array(rules.prefix(ruleCount)) }
            var index = 0
            while rules.count < ruleCount {
                rules.append("""
                    {"id": "person-\(index)", "effect": "permit", "description": "one person's partner mail",
                     "actions": ["send"], "subjects": {"addresses": ["p\(index)@alpha.test"]},
                     "resources": {"recipients": {"domains": ["\(partners[index % partners.count])"]}}}
                    """)
                index += 1
            }
        }
        return """
            {"version": 1, "groups": {\(groups.joined(separator: ",\n"))},
             "rules": [\(rules.joined(separator: ",\n"))]}
            """
    }

    static func facts() -> ExternalFacts {
        let agreements = partners.enumerated().map { index, partner in
            Agreement(id: "alpha-\(index)", domains: [try! DomainPattern(partner)],
                      actions: [.send, .receive, .fetchAttachment], groups: ["partners"])
        }
        return ExternalFacts(agreements: agreements)
    }

    /// `count` distinct requests as JSON, spread over all actions, made deterministically.
    static func requests(count: Int) -> [String] {
        let actions = PolicyAction.allCases.map(\.rawValue)
        let types = ["application/pdf", "image/png", "text/plain", "application/x-msdownload", "application/zip"]
        var texts: [String] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        for index in 0..<count {
            let action = actions[index % actions.count]
            let subject: String
            if action == "receive" || (action == "fetch-attachment" && next(2) == 0) {
                let partner = partners[next(partners.count)]
                subject = #"{"kind": "server", "name": "mx.\#(partner)", "domain": "\#(partner)", "assurance": "high"}"#
            } else {
                let address = "\(departments[next(departments.count)])\(next(25))@alpha.test"
                let assurance = ["low", "substantial", "high"][next(3)]
                subject = #"{"kind": "user", "address": "\#(address)", "assurance": "\#(assurance)"}"#
            }
            let recipientDomain = next(3) == 0 ? partners[next(partners.count)] : "alpha.test"
            let recipient = "\(departments[next(departments.count)])\(next(20))@\(recipientDomain)"
            let attachments = (0..<next(3)).map { _ in
                #"{"size": \#(next(5_000_000)), "mediaType": "\#(types[next(types.count)])"}"#
            }.joined(separator: ",")
            let ip = ["10.1.2.\(next(250))", "192.0.2.\(next(250))", "203.0.113.\(next(250))"][next(3)]
            texts.append("""
                {"subject": \(subject), "action": "\(action)",
                 "resource": {"recipient": "\(recipient)", "size": \(next(100_000)), "attachments": [\(attachments)]},
                 "context": {"clientIP": "\(ip)", "tls": "TLSv1.3"}}
                """)
        }
        return texts
    }
}
