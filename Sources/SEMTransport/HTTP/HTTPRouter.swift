// A small router: method + path pattern → handler value.
//
// Patterns are absolute paths whose segments are literals or "{name}" parameters, e.g.
// "/v1/messages/{id}/attachments/{attachment}". Matching works on decoded segments
// (`HTTPTarget.segments`), so a parameter never spans a "/". When several patterns match
// a path, the most specific wins: at the first segment where they differ, a literal beats
// a parameter. A path that matches no pattern gives 404; a path that matches only under
// other methods gives 405 with the Allow list (RFC 9110 §15.5.6). HEAD is served by a GET
// route unless a HEAD route exists (RFC 9110 §9.3.2).

/// The outcome of routing a request.
public enum HTTPRouteMatch<Handler: Sendable>: Sendable {
    /// A route matched; `parameters` holds the decoded values of the `{name}` segments.
    case found(handler: Handler, parameters: [String: String], bodyLimit: Int64?)
    /// No route has this path.
    case notFound
    /// Routes have this path, but none for this method.
    case methodNotAllowed(allowed: [String])

    /// The error to answer with when nothing was found, with the Allow field for 405.
    public var error: (error: HTTPError, headers: HTTPHeaders)? {
        switch self {
        case .found:
            return nil
        case .notFound:
            return (HTTPError(.notFound, "There is nothing at this path"), HTTPHeaders())
        case .methodNotAllowed(let allowed):
            let list = allowed.joined(separator: ", ")
            return (HTTPError(.methodNotAllowed, "This path accepts only \(list)"), ["Allow": list])
        }
    }
}

/// Routes requests to handler values (closures, enum cases, identifiers).
public struct HTTPRouter<Handler: Sendable>: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let handler: Handler
        let bodyLimit: Int64?
    }

    private var routes: [Route] = []

    public init() {}

    /// Adds a route. `bodyLimit`, when given, replaces the parser's default body limit for
    /// requests on this route. A malformed pattern or a duplicate route is a programming
    /// error and stops the program.
    public mutating func add(_ method: String, _ pattern: String, bodyLimit: Int64? = nil, handler: Handler) {
        precondition(pattern.hasPrefix("/"), "route pattern must start with /: \(pattern)")
        let segments: [Segment] = pattern == "/" ? [] : pattern.dropFirst()
            .split(separator: "/", omittingEmptySubsequences: false).map { raw in
                if raw.hasPrefix("{") && raw.hasSuffix("}") {
                    let name = String(raw.dropFirst().dropLast())
                    precondition(!name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") },
                                 "bad parameter name in \(pattern)")
                    return .parameter(name)
                }
                precondition(!raw.contains("{") && !raw.contains("}"), "braces inside a literal segment in \(pattern)")
                return .literal(String(raw))
            }
        let names = segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
        precondition(Set(names).count == names.count, "duplicate parameter name in \(pattern)")
        precondition(!routes.contains { $0.method == method && $0.segments == segments }, "duplicate route \(method) \(pattern)")
        routes.append(Route(method: method, segments: segments, handler: handler, bodyLimit: bodyLimit))
    }

    /// Routes a request by method and parsed target.
    public func match(method: String, target: HTTPTarget) -> HTTPRouteMatch<Handler> {
        match(method: method, segments: target.segments)
    }

    /// Routes a request by method and decoded path segments.
    public func match(method: String, segments: [String]) -> HTTPRouteMatch<Handler> {
        var candidates: [(route: Route, parameters: [String: String])] = []
        for route in routes {
            if let parameters = Self.bind(route.segments, to: segments) { candidates.append((route, parameters)) }
        }
        guard !candidates.isEmpty else { return .notFound }

        let exact = candidates.filter { $0.route.method == method }
        let usable = exact.isEmpty && method == "HEAD" ? candidates.filter { $0.route.method == "GET" } : exact
        if let best = usable.min(by: { Self.isMoreSpecific($0.route.segments, than: $1.route.segments) }) {
            return .found(handler: best.route.handler, parameters: best.parameters, bodyLimit: best.route.bodyLimit)
        }
        var allowed = Set(candidates.map(\.route.method))
        if allowed.contains("GET") { allowed.insert("HEAD") }
        return .methodNotAllowed(allowed: allowed.sorted())
    }

    private static func bind(_ pattern: [Segment], to segments: [String]) -> [String: String]? {
        guard pattern.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (part, segment) in zip(pattern, segments) {
            switch part {
            case .literal(let text):
                guard text == segment else { return nil }
            case .parameter(let name):
                guard !segment.isEmpty else { return nil }
                parameters[name] = segment
            }
        }
        return parameters
    }

    /// Whether `lhs` is more specific than `rhs`: at the first differing segment kind, a
    /// literal beats a parameter.
    private static func isMoreSpecific(_ lhs: [Segment], than rhs: [Segment]) -> Bool {
        for (left, right) in zip(lhs, rhs) {
            switch (left, right) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return false
    }
}
