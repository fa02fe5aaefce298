// Writing HTTP/1.1 messages (RFC 9112): heads, bodies with Content-Length, the chunked
// transfer coding (RFC 9112 §7.1) and JSON error responses.
//
// Every field name must be a token and every value free of control characters other than
// HTAB; anything else is refused with an `internal-error` HTTPError rather than written,
// so that no value (an echoed file name, a redirect target) can split a response.

/// Serialises message heads and complete messages.
public enum HTTPSerializer {
    /// The status line and header section of a response, ending with the empty line.
    public static func head(_ head: HTTPResponseHead) throws(HTTPError) -> [UInt8] {
        guard (100...999).contains(head.status) else {
            throw HTTPError(.internalError, "The response status \(head.status) is not a three-digit code")
        }
        guard head.reason.utf8.allSatisfy(HTTPSyntax.isFieldValueOctet) else {
            throw HTTPError(.internalError, "The reason phrase contains a control character")
        }
        var out = Array("\(head.version) \(head.status) \(head.reason)\r\n".utf8)
        try appendFields(head.headers, to: &out)
        return out
    }

    /// The request line and header section of a request, ending with the empty line.
    public static func head(_ head: HTTPRequestHead) throws(HTTPError) -> [UInt8] {
        guard !head.method.isEmpty, head.method.utf8.allSatisfy(HTTPSyntax.isTchar) else {
            throw HTTPError(.internalError, "The method is not a token")
        }
        guard !head.target.isEmpty, head.target.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw HTTPError(.internalError, "The request target contains a space or a control character")
        }
        var out = Array("\(head.method) \(head.target) \(head.version)\r\n".utf8)
        try appendFields(head.headers, to: &out)
        return out
    }

    /// A whole response whose Content-Length is set from `body`. A response to HEAD
    /// passes `bodyOmitted: true`: the length of `body` is announced but not sent.
    public static func response(_ head: HTTPResponseHead, body: [UInt8], bodyOmitted: Bool = false) throws(HTTPError)
        -> [UInt8] {
        var head = head
        head.headers.remove("Transfer-Encoding")
        // RFC 9110 §8.6: no Content-Length in 1xx and 204 responses.
        if (100..<200).contains(head.status) || head.status == 204 {
            head.headers.remove("Content-Length")
            return try self.head(head)
        }
        head.headers.set("Content-Length", String(body.count))
        return try self.head(head) + (bodyOmitted ? [] : body)
    }

    /// A whole request whose Content-Length is set from `body` (omitted for an empty body
    /// of a method that has none by convention).
    public static func request(_ head: HTTPRequestHead, body: [UInt8] = []) throws(HTTPError) -> [UInt8] {
        var head = head
        head.headers.remove("Transfer-Encoding")
        head.headers.remove("Content-Length")
        if !body.isEmpty || !["GET", "HEAD", "DELETE", "OPTIONS"].contains(head.method) {
            head.headers.add("Content-Length", String(body.count))
        }
        return try self.head(head) + body
    }

    /// The head of a response whose body follows in chunks (`HTTPChunkEncoder`).
    public static func chunkedHead(_ head: HTTPResponseHead) throws(HTTPError) -> [UInt8] {
        var head = head
        head.headers.remove("Content-Length")
        head.headers.set("Transfer-Encoding", "chunked")
        return try self.head(head)
    }

    /// A JSON error response `{"error":"<code>","message":"<sentence>"}` with the status of
    /// the error's code. `extraHeaders` carries e.g. Allow for 405 or WWW-Authenticate;
    /// fields that cannot be written are left out.
    public static func errorResponse(_ error: HTTPError, keepAlive: Bool = true,
                                     extraHeaders: HTTPHeaders = HTTPHeaders()) -> [UInt8] {
        var headers = HTTPHeaders()
        for field in extraHeaders where isWritable(field) { headers.add(field.name, field.value) }
        headers.set("Content-Type", "application/json")
        headers.set("Cache-Control", "no-store")
        if !keepAlive { headers.set("Connection", "close") }
        let head = HTTPResponseHead(status: error.status, headers: headers)
        // Every field was checked above and the status comes from the table: this cannot throw.
        return (try? response(head, body: error.jsonBody)) ?? []
    }

    static func isWritable(_ field: (name: String, value: String)) -> Bool {
        !field.name.isEmpty && field.name.utf8.allSatisfy(HTTPSyntax.isTchar)
            && field.value.utf8.allSatisfy(HTTPSyntax.isFieldValueOctet)
    }

    static func appendFields(_ headers: HTTPHeaders, to out: inout [UInt8]) throws(HTTPError) {
        for field in headers {
            guard isWritable(field) else {
                throw HTTPError(.internalError, "The header field \(field.name.debugDescription) cannot be written")
            }
            out += Array("\(field.name): \(field.value)\r\n".utf8)
        }
        out += [0x0D, 0x0A]
    }
}

/// The chunked transfer coding, sender side (RFC 9112 §7.1).
public enum HTTPChunkEncoder {
    /// One chunk: hex size, CRLF, data, CRLF. An empty input yields nothing, because an
    /// empty chunk would end the body.
    public static func chunk(_ bytes: some Collection<UInt8>) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out = Array(String(bytes.count, radix: 16).utf8) + [0x0D, 0x0A]
        out.append(contentsOf: bytes)
        out += [0x0D, 0x0A]
        return out
    }

    /// The last chunk, optional trailer fields and the final CRLF.
    public static func end(trailers: HTTPHeaders = HTTPHeaders()) throws(HTTPError) -> [UInt8] {
        var out = Array("0\r\n".utf8)
        try HTTPSerializer.appendFields(trailers, to: &out)
        return out
    }
}
