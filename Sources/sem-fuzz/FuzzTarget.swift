// The parsers sem-fuzz exercises. Each target takes one input, runs it through a parser
// that faces the network or a file a stranger wrote, and traps when an invariant breaks,
// which is what libFuzzer (and the replay mode) report as a crash:
// - nothing may trap inside the parser;
// - every thrown error is the parser's own typed error, never a stray DecodingError or
//   a Foundation error, so a caller can always answer with a stable code;
// - the streaming parsers (SMTP, HTTP) give the same outcome however the input is cut,
//   so a target also feeds the input in two pieces at a point the input itself chooses.
import Foundation
import SEMFederation
import SEMMessage
import SEMPolicy
import SEMTransport

enum FuzzTarget: String, CaseIterable, Sendable {
    case smtp, http, mime, policy, trustlist

    var summary: String {
        switch self {
        case .smtp: "SMTP server session: command lines, DATA, dot-stuffing (SMTPServerSession)"
        case .http: "HTTP/1.1 request parser: heads, chunked and sized bodies (HTTPRequestParser)"
        case .mime: "MIME parser: header fields, multiparts, encodings (MIMEParser)"
        case .policy: "policy JSON (PolicyDocument.parse)"
        case .trustlist: "trust-list canonical JSON (CanonicalJSON.decodeCanonical of TrustList)"
        }
    }

    func run(_ input: [UInt8]) {
        switch self {
        case .smtp: Self.smtp(input)
        case .http: Self.http(input)
        case .mime: Self.mime(input)
        case .policy: Self.policy(input)
        case .trustlist: Self.trustList(input)
        }
    }

    /// Where to cut a streamed input in two: chosen by its first byte, so the fuzzer can
    /// steer the cut like any other part of the input.
    static func cut(_ input: [UInt8]) -> Int { input.isEmpty ? 0 : Int(input[0]) % (input.count + 1) }

    static func smtp(_ input: [UInt8]) {
        // Small limits so that the limit paths are reachable with short inputs.
        let configuration = SMTPServerConfiguration(hostname: "mx.example.org", maxMessageSize: 2048, maxRecipients: 4,
                                                    maxErrors: 30, messageChunkSize: 16)
        var whole = SMTPServerSession(configuration: configuration, peer: "fuzz")
        var wholeHooks = AcceptingHooks()
        var want = whole.receive(input, hooks: &wholeHooks)
        whole.connectionClosed(hooks: &wholeHooks)
        want += whole.receive([0x0D, 0x0A], hooks: &wholeHooks)

        let cut = cut(input)
        var split = SMTPServerSession(configuration: configuration, peer: "fuzz")
        var splitHooks = AcceptingHooks()
        var got = split.receive(input[..<cut], hooks: &splitHooks)
        got += split.receive(input[cut...], hooks: &splitHooks)
        split.connectionClosed(hooks: &splitHooks)
        got += split.receive([0x0D, 0x0A], hooks: &splitHooks)
        guard got == want, splitHooks == wholeHooks else {
            fatalError("the SMTP session answers differently when the input is cut at \(cut)")
        }
    }

    static func http(_ input: [UInt8]) {
        let limits = HTTPParserLimits(startLineLength: 256, headerSectionSize: 1024, headerCount: 16, bodySize: 2048,
                                      chunkLineLength: 64, trailerSectionSize: 256, bodyPieceSize: 64)
        let whole = HTTPOutcome(parsing: [input[...]], limits: limits)
        let cut = cut(input)
        let split = HTTPOutcome(parsing: [input[..<cut], input[cut...]], limits: limits)
        guard whole == split else { fatalError("the HTTP parser reads differently when the input is cut at \(cut)") }
    }

    static func mime(_ input: [UInt8]) {
        let parser = MIMEParser(limits: MIMELimits(maximumTotalBytes: 64 << 10, maximumHeaderBytes: 4096,
                                                   maximumHeaderFields: 64, maximumDepth: 4, maximumParts: 64))
        expectOwnError(MessageError.self, "MIMEParser.parse") { _ = try parser.parse(Data(input)) }
        expectOwnError(MessageError.self, "MIMEParser.rawParts") { _ = try parser.rawParts(of: Data(input)) }
    }

    static func policy(_ input: [UInt8]) {
        expectOwnError(PolicyError.self, "PolicyDocument.parse") { _ = try PolicyDocument.parse(Data(input)) }
    }

    static func trustList(_ input: [UInt8]) {
        expectOwnError(FederationError.self, "CanonicalJSON.decodeCanonical") {
            _ = try CanonicalJSON.decodeCanonical(TrustList.self, from: Data(input))
        }
    }

    /// Runs `body`; an error of any type other than `Own` is a finding.
    static func expectOwnError<Own: Error>(_ own: Own.Type, _ name: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch is Own {
            return
        } catch {
            fatalError("\(name) threw \(type(of: error)), not \(Own.self): \(error)")
        }
    }
}

/// Everything an HTTP parse yields: the heads, the body bytes joined (pieces may be cut
/// differently), end marks, and the error code it stopped with.
struct HTTPOutcome: Equatable {
    enum Item: Equatable {
        case head(HTTPRequestHead)
        case body([UInt8])
        case end
    }

    var items: [Item] = []
    var error: HTTPError.Code?

    init(parsing pieces: [ArraySlice<UInt8>], limits: HTTPParserLimits) {
        var parser = HTTPRequestParser(limits: limits)
        do throws(HTTPError) {
            for piece in pieces {
                parser.append(piece)
                while let event = try parser.next() { add(event) }
            }
            parser.endInput()
            while let event = try parser.next() { add(event) }
        } catch {
            self.error = error.code
        }
    }

    private mutating func add(_ event: HTTPRequestEvent) {
        switch event {
        case .head(let head): items.append(.head(head))
        case .end: items.append(.end)
        case .body(let bytes):
            if case .body(let earlier) = items.last {
                items[items.count - 1] = .body(earlier + bytes)
            } else {
                items.append(.body(bytes))
            }
        }
    }
}

/// Hooks that accept every sender, recipient and message and remember what they saw, so
/// that two runs can be compared.
struct AcceptingHooks: SMTPServerHooks, Equatable {
    var events: [String] = []
    var message: [UInt8] = []

    mutating func mail(from sender: SMTPReversePath, parameters: SMTPMailParameters,
                       session: SMTPSessionInfo) -> SMTPDecision {
        events.append("mail \(sender)")
        return .accept
    }

    mutating func recipient(_ recipient: SMTPMailbox, envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        events.append("rcpt \(recipient)")
        return .accept
    }

    mutating func messageData(_ chunk: ArraySlice<UInt8>) { message += chunk }

    mutating func messageEnd(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        events.append("end \(message.count)")
        message = []
        return .accept(text: "queued")
    }

    mutating func messageAbort(envelope: SMTPEnvelope, fault: SMTPMessageFault) {
        events.append("abort \(fault)")
        message = []
    }
}
