// JSON bodies for the API on both sides.
//
// Server: `HTTPResponse.json` (keys sorted, so equal values give equal octets),
// `HTTPRequest.decodeJSON` (415 when the body is not declared as JSON, 413 over the
// limit, 400 `bad-request` with a sentence naming the offending field when it does not
// decode). Client: `HTTPClientRequest.json`, `HTTPClientResponse.decodeJSON`, and the
// mapping of a JSON error body back to `HTTPRemoteError`.
//
// Media types (RFC 9110 §8.3.1): "application/json" or any "application/<x>+json"
// (RFC 6839), compared case-insensitively, parameters such as charset ignored.
import Foundation

/// Encoding and decoding shared by the JSON helpers.
public enum HTTPJSON {
    /// Largest JSON body read by default.
    public static let defaultLimit = 1024 * 1024

    /// Encodes with sorted keys, unescaped slashes, and times as RFC 3339 strings.
    public static func encode(_ value: some Encodable) throws(HTTPError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw HTTPError(.internalError, "A value could not be encoded as JSON")
        }
    }

    /// Whether a Content-Type field value names JSON.
    public static func isJSON(contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingOWS().lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    /// Decodes `data`; a failure is a 400 whose sentence says what was wrong, naming
    /// fields only by the names of our own types (never echoing received text).
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws(HTTPError) -> T {
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw HTTPError(.badRequest, describe(error, what: what))
        } catch {
            throw HTTPError(.badRequest, "The \(what) is not valid JSON")
        }
    }

    private static func describe(_ error: DecodingError, what: String) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "The \(what) lacks the field \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.codingPath.isEmpty ? "The \(what) has the wrong shape"
                : "The field \"\(path(context.codingPath))\" of the \(what) has the wrong type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The \(what) is not valid JSON"
                : "The field \"\(path(context.codingPath))\" of the \(what) has an invalid value"
        @unknown default:
            return "The \(what) is not valid JSON"
        }
    }
}

extension HTTPResponse {
    /// A JSON response of `value`, keys sorted.
    public static func json(_ value: some Encodable, status: Int = 200,
                            headers: HTTPHeaders = HTTPHeaders()) throws(HTTPError) -> HTTPResponse {
        var fields = headers
        fields.set("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: fields, body: .bytes(try HTTPJSON.encode(value)))
    }
}

extension HTTPRequest {
    /// Refuses a request whose body is not declared as JSON (415).
    public func requireJSONContentType() throws(HTTPError) {
        guard HTTPJSON.isJSON(contentType: headers.first("Content-Type")) else {
            throw HTTPError(.unsupportedMediaType, "The request body must be JSON (Content-Type: application/json)")
        }
    }

    /// Reads the body (at most `limit` octets, else 413) and decodes it (400 when it is
    /// not valid JSON of the expected shape). Requires a JSON Content-Type (415).
    public func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int = HTTPJSON.defaultLimit) throws -> T {
        try requireJSONContentType()
        let data = try body.readAll(limit: limit)
        return try HTTPJSON.decode(type, from: data, what: "request body")
    }
}

extension HTTPClientRequest {
    /// A request whose body is `value` as JSON, asking for JSON back.
    public static func json(_ method: String, _ target: String, _ value: some Encodable,
                            headers: HTTPHeaders = HTTPHeaders()) throws(HTTPError) -> HTTPClientRequest {
        var fields = headers
        fields.set("Content-Type", "application/json")
        fields.set("Accept", "application/json")
        return HTTPClientRequest(method: method, target: target, headers: fields, body: .bytes(try HTTPJSON.encode(value)))
    }
}

extension HTTPClientResponse {
    /// Decodes a 2xx JSON body of at most `limit` octets. Any other status throws the
    /// server's error as `HTTPRemoteError`; a body that is not JSON throws 502.
    public func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int = HTTPJSON.defaultLimit) throws -> T {
        guard (200..<300).contains(status) else { throw remoteError() }
        guard HTTPJSON.isJSON(contentType: headers.first("Content-Type")) else {
            throw HTTPError(.badGateway, "The response is not JSON")
        }
        let data = try body.readAll(limit: limit)
        do {
            return try HTTPJSON.decode(type, from: data, what: "response body")
        } catch {
            throw HTTPError(.badGateway, error.message)
        }
    }

    /// The server's error from this response: the code and message of a JSON error
    /// body, or "http-<status>" and the reason phrase when there is none. Reads at most
    /// `limit` octets of the body.
    public func remoteError(limit: Int = 64 * 1024) -> HTTPRemoteError {
        struct ErrorBody: Decodable {
            let error: String
            let message: String
        }
        if HTTPJSON.isJSON(contentType: headers.first("Content-Type")),
           let data = try? body.readAll(limit: limit),
           let decoded = try? JSONDecoder().decode(ErrorBody.self, from: data) {
            return HTTPRemoteError(status: status, code: decoded.error, message: decoded.message)
        }
        return HTTPRemoteError(status: status, code: "http-\(status)", message: head.reason)
    }
}

extension HTTPClient {
    /// Sends `value` as JSON and decodes the JSON response (see `decodeJSON`).
    public func sendJSON<T: Decodable>(_ method: String, _ target: String, _ value: some Encodable, as type: T.Type,
                                       limit: Int = HTTPJSON.defaultLimit) throws -> T {
        try send(.json(method, target, value)).decodeJSON(type, limit: limit)
    }

    /// GETs `target` and decodes the JSON response (see `decodeJSON`).
    public func getJSON<T: Decodable>(_ target: String, as type: T.Type, limit: Int = HTTPJSON.defaultLimit) throws -> T {
        try send(HTTPClientRequest(method: "GET", target: target, headers: ["Accept": "application/json"]))
            .decodeJSON(type, limit: limit)
    }
}
