// Sending a response on the server, finishing the request body so that the next request
// parses, closing with a bounded linger, and the one log line per request.
//
// Order: for a response whose body is at hand, the rest of the request body is read
// and dropped first (up to `drainLimit`), so that a client still sending is never left
// blocked while we write. A streamed response goes out first, because its producer may
// read the request body as it writes; the rest is drained afterwards. If the remainder
// is too long, or the client waits for "100 Continue" that was never sent, the response
// says "Connection: close" (or, for a streamed response, the connection just closes).
import Foundation
import SEMLogging

extension HTTPServerConnection {
    /// How a response went.
    struct ResponseOutcome {
        var status: Int
        var bytesOut: Int64
        var keepAlive: Bool
        /// Whether the request was read to its end, so that closing needs no linger.
        var cleanEnd: Bool
        var failure: String?
    }

    func respond(_ response: HTTPResponse, to head: HTTPRequestHead, keepAlive: Bool,
                 body: HTTPBodyReader) -> ResponseOutcome {
        var outcome = ResponseOutcome(status: response.status, bytesOut: 0, keepAlive: keepAlive, cleanEnd: true)
        if response.headers.tokens("Connection").contains("close") { outcome.keepAlive = false }
        do {
            guard (200...999).contains(response.status) else {
                throw HTTPError(.internalError, "The handler returned the status \(response.status)")
            }
            try send(response, to: head, body: body, outcome: &outcome)
        } catch let error as HTTPError where !headWritten {
            // Nothing went out yet (a header that cannot be written, a bad status): 500.
            outcome.status = error.status
            outcome.failure = error.message
            outcome.keepAlive = false
            outcome.bytesOut = sendError(error, keepAlive: false)
        } catch {
            // The head is out, or the connection failed: the message cannot be finished.
            outcome.failure = (error as? HTTPError)?.message ?? (error as? NetworkError)?.description
                ?? "response producer failed with \(type(of: error))"
            outcome.keepAlive = false
        }
        if !input.isUsable || !body.isComplete { outcome.cleanEnd = false }
        return outcome
    }

    private func send(_ response: HTTPResponse, to head: HTTPRequestHead, body: HTTPBodyReader,
                      outcome: inout ResponseOutcome) throws {
        var headers = response.headers
        headers.set("Date", HTTPDate.format(Date()))
        let isHead = head.method == "HEAD"
        switch response.body {
        case .bytes(let bytes):
            if outcome.keepAlive && !finishRequestBody(body) { outcome.keepAlive = false }
            setConnection(&headers, keepAlive: outcome.keepAlive, version: head.version)
            let message = try HTTPSerializer.response(HTTPResponseHead(status: response.status, headers: headers),
                                                      body: bytes, bodyOmitted: isHead)
            headWritten = true
            try stream.write(message)
            outcome.bytesOut = isHead ? 0 : Int64(bytes.count)

        case .stream(let length, let producer):
            let noBody = isHead || response.status == 204 || response.status == 304
            let framing: HTTPBodyWriter.Framing
            if let length {
                framing = .length(length)
                headers.set("Content-Length", String(length))
                headers.remove("Transfer-Encoding")
            } else if head.version == .http11 {
                framing = .chunked
            } else {
                // An HTTP/1.0 client knows no chunked coding: the close ends the body.
                framing = .untilClose
                outcome.keepAlive = false
                headers.remove("Content-Length")
                headers.remove("Transfer-Encoding")
            }
            setConnection(&headers, keepAlive: outcome.keepAlive, version: head.version)
            let responseHead = HTTPResponseHead(status: response.status, headers: headers)
            let encoded = if case .chunked = framing, !noBody {
                try HTTPSerializer.chunkedHead(responseHead)
            } else {
                try HTTPSerializer.head(responseHead)
            }
            headWritten = true
            try stream.write(encoded)
            if !noBody {
                let writer = HTTPBodyWriter(stream: stream, framing: framing)
                defer { outcome.bytesOut = writer.bytesWritten }
                try producer(writer)
                try writer.finish()
            }
            if outcome.keepAlive && !finishRequestBody(body) { outcome.keepAlive = false }
        }
    }

    private func setConnection(_ headers: inout HTTPHeaders, keepAlive: Bool, version: HTTPVersion) {
        headers.remove("Connection")
        if !keepAlive {
            headers.set("Connection", "close")
        } else if version == .http10 {
            headers.set("Connection", "keep-alive")
        }
    }

    /// Reads what is left of the request body so that the next request parses. False
    /// when the connection cannot go on.
    func finishRequestBody(_ body: HTTPBodyReader) -> Bool {
        guard input.isUsable else { return false }
        if body.isComplete { return true }
        // The client waits for "100 Continue" (or gives up waiting and sends); either way
        // the body is not ours to guess at.
        if expectsContinue && !continueSent { return false }
        return body.drain(limit: context.configuration.drainLimit)
    }

    /// Writes a JSON error response; returns the body octets sent (0 when writing failed).
    func sendError(_ error: HTTPError, keepAlive: Bool) -> Int64 {
        var headers: HTTPHeaders = ["Date": HTTPDate.format(Date())]
        if !keepAlive { headers.set("Connection", "close") }
        let response = HTTPResponse.error(error, headers: headers)
        guard case .bytes(let bytes) = response.body,
              let message = try? HTTPSerializer.response(HTTPResponseHead(status: error.status,
                                                                          headers: response.headers), body: bytes),
              (try? stream.write(message)) != nil else { return 0 }
        return Int64(bytes.count)
    }

    /// Before closing a connection whose client may still be sending, reads and drops
    /// its input for a moment: closing with unread input makes the system send a reset,
    /// which can destroy the response before the client has read it.
    func lingeringClose() {
        guard !stream.isClosed else { return }
        let end = ContinuousClock.now + .seconds(1)
        stream.readTimeout = .milliseconds(100)
        var scratch = [UInt8](repeating: 0, count: 16_384)
        var dropped = 0
        while ContinuousClock.now < end && dropped < 1024 * 1024 {
            guard let count = try? scratch.withUnsafeMutableBytes({ try stream.read(into: $0) }), count > 0 else { break }
            dropped += count
        }
        stream.close()
    }

    /// The one line per request: method, path (without the query, which may carry
    /// tokens), status, body octets in and out, duration and the client certificate's
    /// subject. Bodies are never logged.
    func logRequest(method: String, path: String, status: Int, bytesIn: Int64, bytesOut: Int64,
                    started: ContinuousClock.Instant, failure: String?) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let level: LogLevel = status >= 500 ? .error : .info
        let subject = info.peerCertificateSubject ?? "none"
        if let failure {
            log.log(level, "http.request", ["method": method, "path": path, "status": status, "bytes_in": bytesIn,
                                            "bytes_out": bytesOut, "duration_ms": milliseconds,
                                            "peer_subject": subject, "reason": failure])
        } else {
            log.log(level, "http.request", ["method": method, "path": path, "status": status, "bytes_in": bytesIn,
                                            "bytes_out": bytesOut, "duration_ms": milliseconds,
                                            "peer_subject": subject])
        }
    }
}
