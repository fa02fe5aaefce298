// The request target (RFC 9112 §3.2) taken apart: path segments and query parameters,
// percent-decoded (RFC 3986 §2.1), with bounds.
//
// Accepted forms: origin-form ("/path?query"), absolute-form ("https://host/path?query",
// whose authority is ignored here: Host is the server's business) and the asterisk form
// "*". Refused with 400: anything else, a fragment, a malformed percent escape, decoded
// text that is not UTF-8 or holds control characters, "." or ".." segments, and a
// segment whose decoded text contains "/" or "\" (an encoded slash means something
// different to every component that sees it; refusing it removes the question).
//
// In the query "+" means a space (application/x-www-form-urlencoded, as browsers send it).

/// Limits of target parsing.
public struct HTTPTargetLimits: Sendable, Equatable {
    public var maxSegments: Int
    public var maxQueryItems: Int
    /// Accept "%2F" inside a segment. Off by default; a server whose routes never map
    /// paths onto files may allow it for opaque values, such as the base64 OCSP request
    /// of RFC 6960 Appendix A.1.
    public var allowsEncodedSlash: Bool

    public init(maxSegments: Int = 32, maxQueryItems: Int = 64, allowsEncodedSlash: Bool = false) {
        self.maxSegments = maxSegments
        self.maxQueryItems = maxQueryItems
        self.allowsEncodedSlash = allowsEncodedSlash
    }
}

/// A parsed request target.
public struct HTTPTarget: Sendable, Equatable {
    /// The path as received, still percent-encoded ("*" for the asterisk form).
    public let path: String
    /// The decoded path segments: "/" gives [], "/a/b" gives ["a", "b"], "/a/" gives ["a", ""].
    public let segments: [String]
    /// The decoded query parameters in order; a name without "=" has an empty value.
    public let query: [(name: String, value: String)]

    /// Parses a request target as received in the request line.
    public init(_ target: String, limits: HTTPTargetLimits = HTTPTargetLimits()) throws(HTTPError) {
        guard !target.contains("#") else { throw HTTPError(.badRequest, "The request target contains a fragment") }
        if target == "*" {
            path = "*"
            segments = []
            query = []
            return
        }
        var rest = Substring(target)
        for scheme in ["http://", "https://"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else {
                rest = "/"
                break
            }
            rest = rest[slash...]
            if rest.first == "?" { rest = "/" + rest }
        }
        guard rest.first == "/" else { throw HTTPError(.badRequest, "The request target is not a path") }

        let pathPart = rest.prefix(while: { $0 != "?" })
        let queryPart = rest.dropFirst(pathPart.count).dropFirst()
        path = String(pathPart)

        let rawSegments = pathPart.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard rawSegments.count <= limits.maxSegments else {
            throw HTTPError(.uriTooLong, "The path has more than \(limits.maxSegments) segments")
        }
        var decoded: [String] = []
        if pathPart != "/" {
            for raw in rawSegments {
                let segment = try PercentEncoding.decode(raw, plusAsSpace: false)
                guard segment != "." && segment != ".." else {
                    throw HTTPError(.badRequest, "The path contains a dot segment")
                }
                guard (limits.allowsEncodedSlash || !segment.contains("/")) && !segment.contains("\\") else {
                    throw HTTPError(.badRequest, "A path segment contains an encoded slash")
                }
                decoded.append(segment)
            }
        }
        segments = decoded

        var items: [(name: String, value: String)] = []
        for item in queryPart.split(separator: "&") {
            guard items.count < limits.maxQueryItems else {
                throw HTTPError(.uriTooLong, "The query has more than \(limits.maxQueryItems) parameters")
            }
            let equals = item.firstIndex(of: "=")
            let name = try PercentEncoding.decode(item[item.startIndex..<(equals ?? item.endIndex)], plusAsSpace: true)
            let value = try equals.map { index throws(HTTPError) in
                try PercentEncoding.decode(item[item.index(after: index)...], plusAsSpace: true)
            } ?? ""
            items.append((name, value))
        }
        query = items
    }

    /// The value of the first query parameter named `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    public static func == (lhs: HTTPTarget, rhs: HTTPTarget) -> Bool {
        lhs.path == rhs.path && lhs.segments == rhs.segments && lhs.query.count == rhs.query.count
            && zip(lhs.query, rhs.query).allSatisfy { $0 == $1 }
    }
}

/// Percent-decoding (RFC 3986 §2.1).
public enum PercentEncoding {
    /// Decodes %XX escapes (and "+" as a space when asked). Refuses malformed escapes,
    /// invalid UTF-8 and control characters with 400.
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool) throws(HTTPError) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = HTTPSyntax.hexValue(bytes[index + 1]),
                    let low = HTTPSyntax.hexValue(bytes[index + 2])
                else { throw HTTPError(.badRequest, "A percent escape is malformed") }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(plusAsSpace && byte == UInt8(ascii: "+") ? 0x20 : byte)
                index += 1
            }
        }
        guard let decoded = String(validating: out, as: UTF8.self) else {
            throw HTTPError(.badRequest, "A percent-encoded text is not UTF-8")
        }
        guard !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPError(.badRequest, "A percent-encoded text contains a control character")
        }
        return decoded
    }
}
