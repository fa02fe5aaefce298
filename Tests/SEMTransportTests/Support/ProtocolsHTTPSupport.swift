// Helpers for the HTTP parser tests: feed input in pieces, collect the events with body
// pieces joined, and keep the error that ended the stream.
@testable import SEMTransport
import Testing

/// Parser events with adjacent body pieces joined, so that differently split inputs can
/// be compared.
enum Normalised<Head: Equatable>: Equatable {
    case head(Head)
    case body([UInt8])
    case end
}

struct ParseOutcome<Head: Equatable>: Equatable {
    var events: [Normalised<Head>] = []
    var error: HTTPError?
    /// The largest body piece seen before joining.
    var largestPiece = 0

    mutating func add(_ event: Normalised<Head>) {
        if case .body(let more) = event {
            largestPiece = max(largestPiece, more.count)
            if case .body(let earlier) = events.last {
                events[events.count - 1] = .body(earlier + more)
                return
            }
        }
        events.append(event)
    }

    /// The error and its message, for comparisons where the code alone is not enough.
    var errorCode: HTTPError.Code? { error?.code }
}

func parseRequests(_ input: [UInt8], feeding: Feeding, limits: HTTPParserLimits = HTTPParserLimits(),
                   endInput: Bool = false) -> ParseOutcome<HTTPRequestHead> {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome<HTTPRequestHead>()
    do throws(HTTPError) {
        for piece in feeding.pieces(input) {
            parser.append(piece)
            while let event = try parser.next() { outcome.add(normalise(event)) }
        }
        if endInput {
            parser.endInput()
            while let event = try parser.next() { outcome.add(normalise(event)) }
        }
    } catch {
        outcome.error = error
    }
    return outcome
}

func parseResponses(_ input: [UInt8], feeding: Feeding, limits: HTTPParserLimits = HTTPParserLimits(),
                    requestMethod: String = "GET", endInput: Bool = false) -> ParseOutcome<HTTPResponseHead> {
    var parser = HTTPResponseParser(limits: limits, requestMethod: requestMethod)
    var outcome = ParseOutcome<HTTPResponseHead>()
    do throws(HTTPError) {
        for piece in feeding.pieces(input) {
            parser.append(piece)
            while let event = try parser.next() { outcome.add(normalise(event)) }
        }
        if endInput {
            parser.endInput()
            while let event = try parser.next() { outcome.add(normalise(event)) }
        }
    } catch {
        outcome.error = error
    }
    return outcome
}

private func normalise(_ event: HTTPRequestEvent) -> Normalised<HTTPRequestHead> {
    switch event {
    case .head(let head): .head(head)
    case .body(let bytes): .body(bytes)
    case .end: .end
    }
}

private func normalise(_ event: HTTPResponseEvent) -> Normalised<HTTPResponseHead> {
    switch event {
    case .head(let head): .head(head)
    case .body(let bytes): .body(bytes)
    case .end: .end
    }
}

/// Parses `input` with every feeding and checks that all of them agree; returns the
/// outcome of feeding it whole.
func parseRequestsAllWays(_ input: [UInt8], limits: HTTPParserLimits = HTTPParserLimits(), endInput: Bool = false,
                          sourceLocation: SourceLocation = #_sourceLocation) -> ParseOutcome<HTTPRequestHead> {
    let reference = parseRequests(input, feeding: .whole, limits: limits, endInput: endInput)
    for feeding in Feeding.all.dropFirst() {
        let other = parseRequests(input, feeding: feeding, limits: limits, endInput: endInput)
        #expect(other.events == reference.events, "\(feeding) differs", sourceLocation: sourceLocation)
        #expect(other.error?.code == reference.error?.code, "\(feeding): \(String(describing: other.error))",
                sourceLocation: sourceLocation)
    }
    return reference
}

func parseResponsesAllWays(_ input: [UInt8], requestMethod: String = "GET", endInput: Bool = false,
                           sourceLocation: SourceLocation = #_sourceLocation) -> ParseOutcome<HTTPResponseHead> {
    let reference = parseResponses(input, feeding: .whole, requestMethod: requestMethod, endInput: endInput)
    for feeding in Feeding.all.dropFirst() {
        let other = parseResponses(input, feeding: feeding, requestMethod: requestMethod, endInput: endInput)
        #expect(other.events == reference.events, "\(feeding) differs", sourceLocation: sourceLocation)
        #expect(other.error?.code == reference.error?.code, "\(feeding): \(String(describing: other.error))",
                sourceLocation: sourceLocation)
    }
    return reference
}
