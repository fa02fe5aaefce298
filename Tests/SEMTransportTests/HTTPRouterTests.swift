@testable import SEMTransport
import Testing

@Suite("HTTP router and targets")
struct HTTPRouterTests {
    enum Handler: Equatable, Sendable {
        case list, submit, show, search, delete, root, attachment
    }

    static let router: HTTPRouter<Handler> = {
        var router = HTTPRouter<Handler>()
        router.add("GET", "/", handler: .root)
        router.add("GET", "/v1/messages", handler: .list)
        router.add("POST", "/v1/messages", bodyLimit: 50_000_000, handler: .submit)
        router.add("GET", "/v1/messages/{id}", handler: .show)
        router.add("DELETE", "/v1/messages/{id}", handler: .delete)
        router.add("GET", "/v1/messages/search", handler: .search)
        router.add("GET", "/v1/messages/{id}/attachments/{name}", handler: .attachment)
        return router
    }()

    func route(_ method: String, _ target: String) throws -> HTTPRouteMatch<Handler> {
        Self.router.match(method: method, target: try HTTPTarget(target))
    }

    @Test("routes match with decoded parameters and per-route body limits")
    func found() throws {
        guard case .found(.show, let parameters, nil) = try route("GET", "/v1/messages/a%20b%C3%A9") else {
            Issue.record("show did not match")
            return
        }
        #expect(parameters == ["id": "a b\u{E9}"])
        guard case .found(.submit, _, let limit) = try route("POST", "/v1/messages?draft=1") else {
            Issue.record("submit did not match")
            return
        }
        #expect(limit == 50_000_000)
        guard case .found(.attachment, let both, _) = try route("GET", "/v1/messages/7/attachments/report.pdf") else {
            Issue.record("attachment did not match")
            return
        }
        #expect(both == ["id": "7", "name": "report.pdf"])
        guard case .found(.root, _, _) = try route("GET", "/") else {
            Issue.record("root did not match")
            return
        }
    }

    @Test("a literal segment beats a parameter, and HEAD is served by GET")
    func specificityAndHead() throws {
        guard case .found(.search, _, _) = try route("GET", "/v1/messages/search") else {
            Issue.record("search lost to {id}")
            return
        }
        guard case .found(.list, _, _) = try route("HEAD", "/v1/messages") else {
            Issue.record("HEAD did not fall back to GET")
            return
        }
    }

    @Test("unknown paths give 404, known paths with another method 405 with Allow")
    func notFoundAndMethodNotAllowed() throws {
        for target in ["/v2/messages", "/v1/messages/7/extra", "/v1/messages/", "/v1"] {
            guard case .notFound = try route("GET", target) else {
                Issue.record("\(target) should be 404")
                continue
            }
        }
        let match = try route("PUT", "/v1/messages/7")
        guard case .methodNotAllowed(let allowed) = match else {
            Issue.record("PUT should be 405, got \(match)")
            return
        }
        #expect(allowed == ["DELETE", "GET", "HEAD"])
        #expect(match.error?.error.status == 405)
        #expect(match.error?.headers.first("Allow") == "DELETE, GET, HEAD")
        #expect(try route("GET", "/nowhere").error?.error.status == 404)
    }

    @Test("targets are split into decoded segments and query parameters")
    func targets() throws {
        let target = try HTTPTarget("/a/b%2Bc/?q=hello+world&x=%26&flag&=v&&empty=")
        #expect(target.path == "/a/b%2Bc/")
        #expect(target.segments == ["a", "b+c", ""])
        #expect(target.query.map { "\($0.name)=\($0.value)" } == ["q=hello world", "x=&", "flag=", "=v", "empty="])
        #expect(target.queryValue("x") == "&")
        #expect(try HTTPTarget("https://mail.example.org/v1/x?y=1").segments == ["v1", "x"])
        #expect(try HTTPTarget("http://mail.example.org").path == "/")
        #expect(try HTTPTarget("*").path == "*")
        #expect(try HTTPTarget("/").segments == [])
    }

    @Test("bad targets are refused", arguments: [
        ("a/b", 400), ("/a#frag", 400), ("/a%2", 400), ("/a%zz", 400), ("/a%FF", 400), ("/a%00b", 400),
        ("/a/../b", 400), ("/a/%2E%2E/b", 400), ("/./a", 400), ("/a%2Fb", 400), ("/a%5Cb", 400),
        ("/?a=%0A", 400), ("/" + Array(repeating: "s", count: 40).joined(separator: "/"), 414),
        ("/?" + (0..<70).map { "k\($0)=v" }.joined(separator: "&"), 414),
    ])
    func badTargets(target: String, status: Int) {
        #expect(throws: HTTPError.self) { try HTTPTarget(target) }
        do throws(HTTPError) {
            _ = try HTTPTarget(target)
        } catch {
            #expect(error.status == status)
        }
    }

    @Test("an encoded slash is kept inside its segment only where the limits allow it")
    func encodedSlashOptIn() throws {
        let limits = HTTPTargetLimits(allowsEncodedSlash: true)
        #expect(try HTTPTarget("/ocsp/MEow%2FMEgw", limits: limits).segments == ["ocsp", "MEow/MEgw"])
        #expect(throws: HTTPError.self) { try HTTPTarget("/ocsp/MEow%2FMEgw") }
        #expect(throws: HTTPError.self) { try HTTPTarget("/a%5Cb", limits: limits) }
        #expect(throws: HTTPError.self) { try HTTPTarget("/a/%2E%2E/b", limits: limits) }
    }

    @Test("percent-decoding handles UTF-8 and the plus sign only where asked")
    func percentDecoding() throws {
        #expect(try PercentEncoding.decode("caf%C3%A9+x", plusAsSpace: true) == "caf\u{E9} x")
        #expect(try PercentEncoding.decode("a+b", plusAsSpace: false) == "a+b")
        #expect(throws: HTTPError(.badRequest, "")) { try PercentEncoding.decode("%C3", plusAsSpace: false) }
    }
}
