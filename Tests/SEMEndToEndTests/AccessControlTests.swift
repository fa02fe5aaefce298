// Access control from outside: every route of the mail server's client API, the CA's
// directory and the PDP's decision API, tried by callers who must not get in: without a
// certificate, with a revoked one, with another domain's user certificate, and with
// certificates of the wrong purpose (a user's encryption certificate; the domain's own TLS
// server certificate on the user routes; a user's certificate on the server-only routes).
// Each must be refused in the TLS handshake or with 401/403 and the documented JSON body
// {"error", "message"}. One federation serves the whole test; the routes are looped over.
import Foundation
import SEMTestSupport
import Testing

@Suite("Access control", .serialized)
struct AccessControlTests {
    /// Every route of the client API with a concrete path and the curl arguments that make
    /// a plausible request; the test checks the list against the server's route table.
    static let mailRoutes: [(method: String, pattern: String, path: String)] = [
        ("GET", "/v1/me", "/v1/me"),
        ("GET", "/v1/trust-list", "/v1/trust-list"),
        ("GET", "/v1/directory/{address}", "/v1/directory/bob@beta.test"),
        ("POST", "/v1/messages", "/v1/messages"),
        ("POST", "/v1/reports", "/v1/reports"),
        ("GET", "/v1/address-book", "/v1/address-book"),
        ("PUT", "/v1/address-book", "/v1/address-book"),
        ("GET", "/v1/messages", "/v1/messages?after=0&limit=10"),
        ("GET", "/v1/notifications", "/v1/notifications?after=0&limit=10"),
        ("GET", "/v1/messages/{id}", "/v1/messages/m1"),
        ("GET", "/v1/messages/{id}/content", "/v1/messages/m1/content"),
        ("PATCH", "/v1/messages/{id}", "/v1/messages/m1"),
        ("DELETE", "/v1/messages/{id}", "/v1/messages/m1"),
        ("POST", "/v1/attachments", "/v1/attachments"),
        ("GET", "/v1/attachments/{id}", "/v1/attachments/a1"),
        ("POST", "/v1/attachment-checks", "/v1/attachment-checks"),
        ("GET", "/v1/attachments-footprint", "/v1/attachments-footprint"),
        ("GET", "/v1/federation/attachments/{id}", "/v1/federation/attachments/a1"),
        ("GET", "/v1/federation/directory/{address}", "/v1/federation/directory/alice@alpha.test"),
    ]

    /// The routes the mail server registers, read from its source.
    static func registeredMailRoutes() throws -> Set<String> {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/SEMMail/MailHTTPService+Routes.swift")
        let source = try String(contentsOf: file, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"router\.add\("([A-Z]+)", "([^"]+)""#)
        return Set(pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)).map { match in
            let text = { (group: Int) in String(source[Range(match.range(at: group), in: source)!]) }
            return "\(text(1)) \(text(2))"
        })
    }

    static func method(_ method: String) -> [String] {
        switch method {
        case "GET": []
        case "PUT": ["-X", "PUT", "-H", "If-Match: \"0\"", "--data-binary", "book"]
        default: ["-X", method, "-H", "Content-Type: application/json", "--data-binary", "{}"]
        }
    }

    /// Expects `result` to be a refusal: no HTTP answer (the handshake failed), or one of
    /// `statuses` with the JSON error body.
    static func expectRefused(_ result: (status: Int, body: Data, errors: String), _ what: String,
                              statuses: Set<Int> = [401, 403], handshake: Bool = true,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let text = String(decoding: result.body, as: UTF8.self)
        if result.status == 0 {
            #expect(handshake, "\(what): the handshake failed, but HTTP must answer (\(result.errors))",
                    sourceLocation: sourceLocation)
            #expect(!result.errors.isEmpty, "\(what)", sourceLocation: sourceLocation)
            return
        }
        #expect(statuses.contains(result.status), "\(what): \(result.status) \(text)", sourceLocation: sourceLocation)
        let object = MailFederation.object(result.body)
        #expect(object["error"] is String && object["message"] is String && object.count == 2,
                "\(what): the body is not the JSON error: \(text)", sourceLocation: sourceLocation)
    }

    @Test("the client API, the CA directory and the PDP refuse every caller without the right certificate")
    func refusals() throws {
        // The list covers the server's routes exactly: a new route must be added here.
        #expect(Set(Self.mailRoutes.map { "\($0.method) \($0.pattern)" }) == (try Self.registeredMailRoutes()))

        let federation = try MailFederation()
        let scratch = federation.scratch
        try federation.enrol("alice@alpha.test", encryption: true)
        try federation.enrol("mallory@alpha.test")
        try federation.enrol("bob@beta.test")
        let server = try federation.serverCredentialFiles("alpha.test")
        let otherServer = try federation.serverCredentialFiles("beta.test")
        func files(_ name: String) -> [String] { ["--cert", "\(name).pem", "--key", "\(name).key"] }

        // The certificates that do get in, so that the refusals below mean something.
        #expect(try federation.api("alice@alpha.test", "/v1/me").status == 200)
        #expect(try federation.api("mallory@alpha.test", "/v1/me").status == 200)
        #expect(try federation.https("ca", of: "alpha.test", "/directory/alice@alpha.test",
                                     files("alice@alpha.test")).status == 200)
        let decision = #"{"subject": {"kind": "user", "address": "alice@alpha.test", "assurance": "substantial"}, "#
            + #""action": "send", "resource": {"recipient": "bob@beta.test", "size": 2048}}"#
        let pdpRequest = ["-H", "Content-Type: application/json", "--data-binary", decision]
        #expect(try federation.https("pdp", of: "alpha.test", "/v1/decisions",
                                     ["--cert", server.certificate, "--key", server.key] + pdpRequest).status == 200)

        try federation.run("semctl", ["cert", "revoke", "mallory@alpha.test", "--reason", "keyCompromise",
                                      "--domain-dir", scratch.path("alpha.test")])

        let callers: [(name: String, arguments: [String], userRoutes: Bool, serverRoutes: Bool)] = [
            ("no certificate", [], true, true),
            ("a revoked user certificate", files("mallory@alpha.test"), true, true),
            ("another domain's user certificate", files("bob@beta.test"), true, true),
            ("a user's encryption certificate", files("alice@alpha.test-enc"), true, true),
            ("the domain's TLS server certificate", ["--cert", server.certificate, "--key", server.key], true, false),
            ("a user's login certificate", files("alice@alpha.test"), false, true),
        ]
        var tried = 0
        for caller in callers {
            for route in Self.mailRoutes {
                let serverRoute = route.pattern.hasPrefix("/v1/federation/")
                guard serverRoute ? caller.serverRoutes : caller.userRoutes else { continue }
                let result = try federation.https("mail", of: "alpha.test", route.path,
                                                  caller.arguments + Self.method(route.method))
                let what = "\(route.method) \(route.path) with \(caller.name)"
                // The mail server asks for a certificate but does not insist: without one,
                // HTTP answers 401 with the JSON error.
                if caller.arguments.isEmpty {
                    #expect(result.status == 401, "\(what): \(result.status) \(result.errors)")
                    #expect(MailFederation.object(result.body)["error"] as? String == "unauthenticated", "\(what)")
                }
                Self.expectRefused(result, what, handshake: !caller.arguments.isEmpty)
                tried += 1
            }
        }
        #expect(tried == 5 * 17 + 5 * 2)

        // The CA's directory: certificates are optional in its handshake, needed for look-ups.
        for caller in callers where caller.name != "the domain's TLS server certificate" && caller.name != "a user's login certificate" {
            let result = try federation.https("ca", of: "alpha.test", "/directory/alice@alpha.test", caller.arguments)
            Self.expectRefused(result, "the CA directory with \(caller.name)", handshake: !caller.arguments.isEmpty)
            if caller.arguments.isEmpty { #expect(result.status == 401) }
        }

        // The PDP answers only the domain's own servers: without a certificate the
        // handshake fails; a user's certificate or another domain's server is refused.
        let pdpCallers = callers.filter { $0.name != "the domain's TLS server certificate" }
            + [("another domain's server certificate", ["--cert", otherServer.certificate, "--key", otherServer.key],
                true, true)]
        for caller in pdpCallers {
            for path in ["/v1/decisions", "/v1/explanations"] {
                let result = try federation.https("pdp", of: "alpha.test", path, caller.arguments + pdpRequest)
                if caller.arguments.isEmpty { #expect(result.status == 0, "PDP \(path) without a certificate") }
                Self.expectRefused(result, "the PDP \(path) with \(caller.name)")
            }
        }
        // The refusals did not lock out the rightful callers.
        #expect(try federation.api("alice@alpha.test", "/v1/me").status == 200)
    }
}
