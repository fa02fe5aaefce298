// One HTTP/1.1 connection on the server: wait for a request head, route it, run the
// handler with a streaming body reader, send the response, and go on while the
// connection may persist (RFC 9112 §9.3). Writing responses, draining unread bodies and
// the request log line are in HTTPServerConnection+Response.swift.
//
// Time limits while waiting for a head:
//   - between requests, the listener's idle timeout (no octet of a new request yet);
//     this wait is cut into short slices so that a shutdown closes idle connections;
//   - from the first octet of a head to its end, `headTimeout`: a client that dribbles
//     its head gets 408 and the connection is closed.
// While a body is read, each read waits at most the idle timeout.
//
// A malformed head (400, 414, 431, 501, 505) is answered with a JSON error and the
// connection is closed, because the parser cannot find the next message after it.
import Foundation
import SEMLogging

final class HTTPServerConnection {
    let stream: any ByteStream
    let info: ConnectionInfo
    let context: HTTPServerContext
    let input: HTTPMessageInput<HTTPRequestParser>
    let log: Logger
    /// Requests taken from this connection so far.
    private(set) var served = 0

    // State of the request being served.
    var expectsContinue = false
    var continueSent = false
    var headWritten = false

    /// Longest single wait while idle between requests, so that shutdown is noticed.
    private static let idleSlice: Duration = .milliseconds(250)

    init(stream: any ByteStream, info: ConnectionInfo, context: HTTPServerContext) {
        self.stream = stream
        self.info = info
        self.context = context
        input = HTTPMessageInput(stream: stream, parser: HTTPRequestParser(limits: context.configuration.parserLimits),
                                 bufferSize: context.configuration.readBufferSize)
        log = context.logger.with("conn", info.id).with("peer", info.peer?.description ?? "unknown")
    }

    /// Serves requests until the connection ends.
    func run() {
        while true {
            switch awaitHead() {
            case .closed:
                return
            case .failed(let error):
                // The parser cannot resynchronise after a bad head: answer, then close.
                let started = ContinuousClock.now
                let sent = sendError(error, keepAlive: false)
                logRequest(method: "-", path: "-", status: error.status, bytesIn: 0, bytesOut: sent, started: started,
                           failure: error.message)
                lingeringClose()
                return
            case .head(let head):
                guard serve(head) else { return }
            }
        }
    }

    // MARK: - Waiting for a head

    enum HeadOutcome {
        case head(HTTPRequestHead)
        /// The peer closed, went idle for too long, or the server is stopping.
        case closed
        case failed(HTTPError)
    }

    private func awaitHead() -> HeadOutcome {
        let configuration = context.configuration
        // Octets of a pipelined head already received start the head clock at once.
        var headDeadline: ContinuousClock.Instant? = input.parser.bufferedCount > 0
            ? .now + configuration.headTimeout : nil
        let idleDeadline = ContinuousClock.now + input.readTimeout
        while true {
            do {
                if let part = try input.pull() {
                    guard case .head(let head) = part else {
                        return .failed(HTTPError(.internalError, "The request parser lost its place"))
                    }
                    return .head(head)
                }
                if input.streamEnded { return .closed }
                if let deadline = headDeadline {
                    guard ContinuousClock.now < deadline else { return .failed(Self.headTimedOut) }
                    try input.fill(deadline: deadline)
                } else {
                    guard !context.stopping.isRaised, ContinuousClock.now < idleDeadline else { return .closed }
                    let slice = min(idleDeadline, .now + Self.idleSlice)
                    if try input.fill(deadline: slice) > 0 { headDeadline = .now + configuration.headTimeout }
                }
            } catch let error as HTTPError {
                return .failed(error)
            } catch let error as NetworkError where error.code == .timedOut && input.isUsable {
                // While idle, only a slice ran out: go on. Within a head, the client is too slow.
                if headDeadline != nil { return .failed(Self.headTimedOut) }
            } catch {
                return .closed
            }
        }
    }

    private static let headTimedOut = HTTPError(.timeout, "The request head did not arrive in time")

    // MARK: - Serving one request

    /// Serves the request whose head was read; returns whether the connection goes on.
    private func serve(_ head: HTTPRequestHead) -> Bool {
        let started = ContinuousClock.now
        let configuration = context.configuration
        served += 1
        expectsContinue = head.version == .http11 && head.headers.tokens("Expect").contains("100-continue")
            && (head.headers.contains("Content-Length") || head.headers.contains("Transfer-Encoding"))
        continueSent = false
        headWritten = false
        var keepAlive = head.keepAlive && served < configuration.maximumRequestsPerConnection
            && !context.stopping.isRaised
        let body = HTTPBodyReader { [weak self] in
            guard let self else { throw HTTPError(.internalError, "The connection is gone") }
            return try nextBodyPiece()
        }
        // A handler may keep the request; its body must not read the next request.
        defer { body.detach() }

        var response: HTTPResponse
        var failure: String?
        do {
            response = try route(head, body: body)
        } catch {
            (response, failure) = errorResponse(for: error)
        }
        if !input.isUsable { keepAlive = false }

        let outcome = respond(response, to: head, keepAlive: keepAlive, body: body)
        let path = String(head.target.prefix(while: { $0 != "?" }))
        logRequest(method: head.method, path: path, status: outcome.status, bytesIn: body.bytesRead,
                   bytesOut: outcome.bytesOut, started: started, failure: outcome.failure ?? failure)
        if !outcome.keepAlive && !outcome.cleanEnd { lingeringClose() }
        return outcome.keepAlive
    }

    /// Routes the request and runs its handler.
    private func route(_ head: HTTPRequestHead, body: HTTPBodyReader) throws -> HTTPResponse {
        let configuration = context.configuration
        let target = try HTTPTarget(head.target, limits: configuration.targetLimits)
        switch context.router.match(method: head.method, target: target) {
        case .found(let handler, let parameters, let routeLimit):
            if let routeLimit { input.parser.bodyLimit = routeLimit }
            // A declared length over the limit is refused before the handler runs.
            let limit = input.parser.bodyLimit
            if let declared = head.headers.first("Content-Length").flatMap({ Int64($0) }), declared > limit {
                throw HTTPError(.payloadTooLarge, "The body of \(declared) octets is larger than the limit of \(limit)")
            }
            return try handler(HTTPRequest(head: head, target: target, parameters: parameters, connection: info,
                                           body: body))
        case let other:
            let (error, headers) = other.error ?? (HTTPError(.notFound, "There is nothing at this path"), [:])
            return HTTPResponse.error(error, headers: headers)
        }
    }

    /// The body reader's source: the next piece of the current request's body.
    private func nextBodyPiece() throws -> [UInt8]? {
        if expectsContinue && !continueSent {
            // RFC 9110 §10.1.1: the client waits for this before it sends the body.
            continueSent = true
            try stream.write("HTTP/1.1 100 Continue\r\n\r\n")
        }
        switch try input.next() {
        case .body(let bytes): return bytes
        case .end: return nil
        case .head, nil: throw HTTPError(.internalError, "The request body ended without its end")
        }
    }

    /// The response for a failure of routing or of the handler, and a note for the log.
    private func errorResponse(for error: any Error) -> (HTTPResponse, String) {
        switch error {
        case let error as HTTPError:
            return (.error(error), error.message)
        case let error as NetworkError where error.code == .timedOut:
            return (.error(HTTPError(.timeout, "The request body did not arrive in time")), error.description)
        case let error as NetworkError:
            return (.error(HTTPError(.badRequest, "The request could not be read")), error.description)
        default:
            // Only the type: the text of an unknown error might carry request data.
            return (.error(HTTPError(.internalError, "The server could not complete the request")),
                    "handler failed with \(type(of: error))")
        }
    }
}
