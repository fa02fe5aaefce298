// An HTTP/1.1 client for one server over one persistent connection (RFC 9112 §9.3):
// plain or TLS (with a client certificate when the context carries one), request
// bodies at hand or streamed, responses whose bodies are read on demand.
//
// Reuse: after a response that allows it, the connection carries the next request.
// An unread rest of the previous body is drained (up to `drainLimit`) or the
// connection is replaced. Before reusing an idle connection the client checks that
// the server has not closed it; if it closes anyway before any response octet arrives,
// an idempotent request with its body at hand is sent once more on a new connection
// (RFC 9110 §9.2.2); any other request fails with the connection error.
//
// Time limits: connecting (`connectTimeout`), each read and write stall
// (`readTimeout`), and the whole response head (`responseHeadTimeout`).
//
// Blocking: use from one thread at a time, never from the cooperative pool.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A client connection to one HTTP server.
public final class HTTPClient {
    public let configuration: HTTPClientConfiguration
    private var input: HTTPMessageInput<HTTPResponseParser>?
    /// The body of the last response, possibly not read to its end.
    private var pendingBody: HTTPBodyReader?
    private var reusable = false
    /// Octets the connection had received when the current exchange began.
    private var receivedBefore: Int64 = 0
    /// TCP connections opened so far (a new one after each close).
    public private(set) var connectionsOpened = 0

    public init(configuration: HTTPClientConfiguration) {
        self.configuration = configuration
    }

    deinit { input?.stream.close() }

    /// Whether a connection is open now.
    public var isConnected: Bool { input.map { !$0.stream.isClosed } ?? false }

    /// The TLS version of the open connection, nil without TLS or connection.
    public var tlsVersion: String? { input?.stream.tlsVersion }

    /// Closes the connection; the next request opens a new one.
    public func close() {
        input?.stream.close()
        input = nil
        pendingBody?.detach()
        pendingBody = nil
        reusable = false
    }

    /// Sends `request` and returns the response once its head arrived; the body is
    /// read from `response.body`. Throws `NetworkError` for connection failures and
    /// timeouts, and `HTTPError` (502 `bad-gateway` and kin) for malformed responses.
    public func send(_ request: HTTPClientRequest) throws -> HTTPClientResponse {
        let reused = try prepareConnection()
        do {
            return try exchange(request)
        } catch let error as NetworkError where error.code == .connectionClosed && reused && request.isReplayable
                    && input?.bytesReceived == receivedBefore {
            // The server closed the idle connection while the request was on its way
            // (never after a timeout: the server may still be working on the request).
            close()
            _ = try prepareConnection()
            do {
                return try exchange(request)
            } catch {
                close()
                throw error
            }
        } catch {
            close()
            throw error
        }
    }

    /// Sends all `requests` at once, then reads their responses in order (pipelining,
    /// RFC 9112 §9.3.2), each body read completely up to its limit. Meant for a few
    /// small requests: their bodies must be at hand, and all of them are written before
    /// any response is read.
    public func sendPipelined(_ requests: [HTTPClientRequest]) throws -> [HTTPBufferedResponse] {
        guard !requests.isEmpty else { return [] }
        var message: [UInt8] = []
        for request in requests {
            guard case .bytes(let body) = request.body else {
                throw HTTPError(.internalError, "Pipelined requests need their bodies at hand")
            }
            message += try HTTPSerializer.request(requestHead(request), body: body)
        }
        _ = try prepareConnection()
        guard let input else { throw NetworkError(.streamClosed, "No connection is open.") }
        do {
            try input.stream.write(message)
            var responses: [HTTPBufferedResponse] = []
            for (index, request) in requests.enumerated() {
                input.parser.requestMethod = request.method
                let head = try readHead(input)
                let limit = request.responseBodyLimit ?? configuration.parserLimits.bodySize
                input.parser.bodyLimit = limit
                guard head.keepAlive || index == requests.count - 1 else {
                    throw NetworkError(.connectionClosed,
                                       "The server closed the connection after \(index + 1) of \(requests.count) responses.")
                }
                let body = HTTPBodyReader { [weak self] in
                    try self?.nextBodyPiece(input, persists: head.keepAlive)
                }
                responses.append(HTTPBufferedResponse(head: head, body: try body.readAll(limit: Int(clamping: limit))))
            }
            return responses
        } catch {
            close()
            throw error
        }
    }

    // MARK: - Connection

    /// Makes sure an open, idle connection is ready; returns whether it was reused.
    private func prepareConnection() throws -> Bool {
        if let body = pendingBody {
            if !body.isComplete && !body.drain(limit: configuration.drainLimit) { reusable = false }
            body.detach()
        }
        pendingBody = nil
        if let input, reusable, input.isUsable, !input.stream.isClosed, !peerHasClosed(input) {
            reusable = false
            return true
        }
        close()
        let stream: any ByteStream = if let tls = configuration.tls {
            try TCPClient.connectTLS(host: configuration.host, port: configuration.port, context: tls,
                                     serverName: configuration.serverName, timeout: configuration.connectTimeout,
                                     ioTimeout: configuration.readTimeout)
        } else {
            try TCPClient.connect(host: configuration.host, port: configuration.port,
                                  timeout: configuration.connectTimeout, ioTimeout: configuration.readTimeout)
        }
        connectionsOpened += 1
        input = HTTPMessageInput(stream: stream, parser: HTTPResponseParser(limits: configuration.parserLimits),
                                 bufferSize: configuration.readBufferSize)
        return false
    }

    /// Whether an idle connection was closed by the server (or sent something unasked).
    private func peerHasClosed(_ input: HTTPMessageInput<HTTPResponseParser>) -> Bool {
        let descriptor = (input.stream as? SocketStream)?.descriptor ?? (input.stream as? TLSStream)?.descriptor
        guard let number = descriptor?.rawValue else { return true }
        var entry = pollfd(fd: number, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return false }
        // Readable: the end of the stream, stray octets, or TLS session tickets, which
        // the TLS layer consumes without returning anything.
        do {
            try input.fill(deadline: .now + .milliseconds(5))
            return true
        } catch let error as NetworkError where error.code == .timedOut && input.isUsable {
            return false
        } catch {
            return true
        }
    }

    // MARK: - One exchange

    private func exchange(_ request: HTTPClientRequest) throws -> HTTPClientResponse {
        guard let input else { throw NetworkError(.streamClosed, "No connection is open.") }
        receivedBefore = input.bytesReceived
        input.parser.requestMethod = request.method
        var writeFailure: (any Error)?
        do {
            try write(request, to: input.stream)
        } catch let error as NetworkError {
            // The server may have answered early (413, 401) and closed: read that answer.
            writeFailure = error
        }
        let head: HTTPResponseHead
        do {
            head = try readHead(input)
        } catch {
            throw writeFailure ?? error
        }
        if let routeLimit = request.responseBodyLimit { input.parser.bodyLimit = routeLimit }
        let persists = writeFailure == nil && head.keepAlive && !request.headers.tokens("Connection").contains("close")
        let body = HTTPBodyReader { [weak self] in
            guard let self else { throw NetworkError(.streamClosed, "The client was closed.") }
            return try nextBodyPiece(input, persists: persists)
        }
        pendingBody = body
        return HTTPClientResponse(head: head, body: body)
    }

    private func write(_ request: HTTPClientRequest, to stream: any ByteStream) throws {
        var head = requestHead(request)
        switch request.body {
        case .bytes(let bytes):
            try stream.write(HTTPSerializer.request(head, body: bytes))
        case .stream(let length, let producer):
            head.headers.remove("Content-Length")
            head.headers.remove("Transfer-Encoding")
            if let length {
                head.headers.set("Content-Length", String(length))
            } else {
                head.headers.set("Transfer-Encoding", "chunked")
            }
            try stream.write(HTTPSerializer.head(head))
            let writer = HTTPBodyWriter(stream: stream, framing: length.map { .length($0) } ?? .chunked)
            try producer(writer)
            try writer.finish()
        }
    }

    private func requestHead(_ request: HTTPClientRequest) -> HTTPRequestHead {
        var head = HTTPRequestHead(method: request.method, target: request.target, headers: request.headers)
        if !head.headers.contains("Host") { head.headers.set("Host", hostField) }
        return head
    }

    /// Host = uri-host [ ":" port ] (RFC 9110 §7.2); IPv6 literals in brackets.
    private var hostField: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let defaultPort: UInt16 = configuration.tls == nil ? 80 : 443
        return configuration.port == defaultPort ? host : "\(host):\(configuration.port)"
    }

    /// The final response head, skipping interim 1xx responses (RFC 9110 §15.2).
    private func readHead(_ input: HTTPMessageInput<HTTPResponseParser>) throws -> HTTPResponseHead {
        let deadline = ContinuousClock.now + configuration.responseHeadTimeout
        while true {
            let part: HTTPMessagePart<HTTPResponseHead>?
            do {
                part = try input.next(deadline: deadline)
            } catch let error as NetworkError where error.code == .timedOut {
                input.invalidate(error)
                throw NetworkError(.timedOut, "The response head did not arrive in time.")
            }
            switch part {
            case .head(let head) where (100..<200).contains(head.status) && head.status != 101:
                guard case .end = try input.next(deadline: deadline) else {
                    throw HTTPError(.badGateway, "An interim response carried a body")
                }
            case .head(let head):
                return head
            case .body, .end:
                throw HTTPError(.badGateway, "The response parser lost its place")
            case nil:
                throw NetworkError(.connectionClosed, "The server closed the connection without a response.")
            }
        }
    }

    /// The body reader's source; at the end of the body the connection becomes
    /// reusable or is closed.
    private func nextBodyPiece(_ input: HTTPMessageInput<HTTPResponseParser>, persists: Bool) throws -> [UInt8]? {
        switch try input.next() {
        case .body(let bytes):
            return bytes
        case .end:
            if persists && self.input === input { reusable = true } else { input.stream.close() }
            return nil
        case .head, nil:
            throw HTTPError(.badGateway, "The response body ended without its end")
        }
    }
}
