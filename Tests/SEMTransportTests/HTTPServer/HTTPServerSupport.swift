// Shared helpers for the HTTP server and client tests: a test application with its
// routes, starting a server, raw-socket exchanges parsed with the response parser, a
// deterministic body generator and SHA-256 over streamed bodies.
import Foundation
import SEMCrypto
import SEMLogging
import SEMTestSupport
import SEMTransport
import Synchronization
import Testing

/// Records what handlers saw, for tests that look at the server side.
final class HTTPServerRecorder: Sendable {
    private let notes = Mutex<[String]>([])

    func note(_ text: String) { notes.withLock { $0.append(text) } }
    var all: [String] { notes.withLock { $0 } }
}

/// A JSON value the echo route takes and returns.
struct GreetingRequest: Codable, Equatable {
    let name: String
    let count: Int
}

struct GreetingReply: Codable, Equatable {
    let greeting: String
    let doubled: Int
}

/// What the upload route answers: the body size and its SHA-256 as the server saw them.
struct UploadReceipt: Codable, Equatable {
    let bytes: Int64
    let sha256: String
}

/// What /whoami answers.
struct WhoAmI: Codable, Equatable {
    let subject: String?
    let tls: String?
}

/// A body of any size made of 64 KiB blocks; each block carries its index in its first
/// eight octets, so that lost, repeated or reordered blocks change the digest.
enum PatternBody {
    static let blockSize = 64 * 1024
    private static let seed: [UInt8] = {
        var generator = SeededGenerator(seed: 0x5EED)
        return (0..<blockSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    /// Block number `index`, cut to `count` octets.
    static func block(_ index: Int64, count: Int = blockSize) -> [UInt8] {
        var block = seed
        withUnsafeBytes(of: index.bigEndian) { block.replaceSubrange(0..<8, with: $0) }
        return Array(block.prefix(count))
    }

    /// Writes `total` octets of the pattern through `write`.
    static func produce(_ total: Int64, _ write: ([UInt8]) throws -> Void) rethrows {
        var sent: Int64 = 0
        var index: Int64 = 0
        while sent < total {
            let count = Int(min(Int64(blockSize), total - sent))
            try write(block(index, count: count))
            sent += Int64(count)
            index += 1
        }
    }

    /// The SHA-256 of `total` octets of the pattern, in hex.
    static func sha256(_ total: Int64) -> String {
        var hasher = Digest.Hasher(.sha256)
        produce(total) { hasher.update($0) }
        return hasher.finish().hexString
    }
}

/// Reads a body reader to its end, hashing as it goes; returns size and hex digest.
func digestBody(_ body: HTTPBodyReader) throws -> (Int64, String) {
    var hasher = Digest.Hasher(.sha256)
    var total: Int64 = 0
    while true {
        let piece = try body.read(maximum: 256 * 1024)
        if piece.isEmpty { break }
        total += Int64(piece.count)
        hasher.update(piece)
    }
    return (total, hasher.finish().hexString)
}

/// The routes of the test application.
func testRouter(recorder: HTTPServerRecorder = HTTPServerRecorder()) -> HTTPRouter<HTTPHandler> {
    var router = HTTPRouter<HTTPHandler>()
    router.add("GET", "/hello") { _ in .text("hello") }
    router.add("POST", "/greet") { request in
        let value = try request.decodeJSON(GreetingRequest.self)
        return try .json(GreetingReply(greeting: "hi \(value.name)", doubled: value.count * 2))
    }
    router.add("POST", "/upload", bodyLimit: Int64.max) { request in
        let (count, digest) = try digestBody(request.body)
        return try .json(UploadReceipt(bytes: count, sha256: digest))
    }
    router.add("POST", "/small", bodyLimit: 16) { request in
        .text(String(decoding: try request.body.readAll(limit: 16), as: UTF8.self))
    }
    router.add("GET", "/download") { request in
        let total = Int64(request.target.queryValue("bytes") ?? "") ?? 0
        let chunked = request.target.queryValue("chunked") == "1"
        return .stream(headers: ["Content-Type": "application/octet-stream"], length: chunked ? nil : total) { writer in
            try PatternBody.produce(total) { try writer.write($0) }
        }
    }
    router.add("GET", "/whoami") { request in
        try .json(WhoAmI(subject: request.peerCertificateSubject, tls: request.connection.tlsVersion))
    }
    router.add("GET", "/items/{id}") { request in
        .text("item \(request.parameters["id"] ?? "?")")
    }
    router.add("DELETE", "/items/{id}") { _ in HTTPResponse(status: 204) }
    router.add("GET", "/conflict") { _ in throw HTTPError(.conflict, "That already exists") }
    router.add("GET", "/crash") { _ in throw CocoaError(.fileNoSuchFile) }
    router.add("POST", "/consume") { request in
        do {
            let (count, _) = try digestBody(request.body)
            recorder.note("complete \(count)")
            return .text("read \(count)")
        } catch {
            recorder.note("failed \(type(of: error))")
            throw error
        }
    }
    router.add("POST", "/ignore") { _ in .text("ignored") }
    return router
}

/// Starts a server for the test application on 127.0.0.1 with an ephemeral port.
func startHTTPServer(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                     recorder: HTTPServerRecorder = HTTPServerRecorder()) throws -> (HTTPServer, InMemoryLogHandler) {
    let memory = InMemoryLogHandler()
    let logger = Logger(component: "http-test", level: .debug, handler: memory)
    let server = try HTTPServer(configuration: configuration, router: testRouter(recorder: recorder), logger: logger)
    server.start()
    return (server, memory)
}

/// A plain client for `server`.
func httpClient(for server: HTTPServer, readTimeout: Duration = .seconds(5)) -> HTTPClient {
    HTTPClient(configuration: HTTPClientConfiguration(host: "127.0.0.1", port: server.port, readTimeout: readTimeout,
                                                      responseHeadTimeout: readTimeout))
}

/// What a raw exchange brought back.
struct RawOutcome {
    /// Responses parsed in order, with their bodies.
    var responses: [(head: HTTPResponseHead, body: [UInt8])] = []
    /// Whether the server closed the connection (end of stream or reset) within the wait.
    var closed = false
    var parseError: HTTPError?

    var statuses: [Int] { responses.map(\.head.status) }

    /// The JSON error code of response `index`.
    func errorCode(_ index: Int = 0) -> String? {
        guard index < responses.count,
              let object = try? JSONSerialization.jsonObject(with: Data(responses[index].body)) as? [String: Any]
        else { return nil }
        return object["error"] as? String
    }
}

/// Sends `request` octets on a new plain connection (optionally in pieces with a pause
/// between them), then reads responses until the server closes or `wait` passes
/// without new input.
func rawExchange(_ port: UInt16, _ request: [UInt8], pieces: Int = 1, pause: Duration = .zero,
                 wait: Duration = .seconds(2), method: String = "GET") throws -> RawOutcome {
    let stream = try TCPClient.connect(host: "127.0.0.1", port: port, timeout: .seconds(5), ioTimeout: wait)
    defer { stream.close() }
    let size = max(1, (request.count + pieces - 1) / pieces)
    var offset = 0
    while offset < request.count {
        let end = min(request.count, offset + size)
        do { try stream.write(request[offset..<end]) } catch { break }
        offset = end
        if pause > .zero && offset < request.count { Thread.sleep(forTimeInterval: seconds(pause)) }
    }
    var parser = HTTPResponseParser(requestMethod: method)
    var outcome = RawOutcome()
    var current: (head: HTTPResponseHead, body: [UInt8])?
    func drain() throws(HTTPError) {
        while let event = try parser.next() {
            switch event {
            case .head(let head): current = (head, [])
            case .body(let bytes): current?.body += bytes
            case .end:
                if let current { outcome.responses.append(current) }
                current = nil
            }
        }
    }
    while true {
        let data: Data
        do {
            data = try stream.read(maximum: 65_536)
        } catch let error as NetworkError {
            outcome.closed = error.code != .timedOut
            break
        }
        if data.isEmpty {
            outcome.closed = true
            parser.endInput()
        } else {
            parser.append(data)
        }
        do { try drain() } catch { outcome.parseError = error }
        if data.isEmpty || outcome.parseError != nil { break }
    }
    return outcome
}

/// A duration in seconds.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}
