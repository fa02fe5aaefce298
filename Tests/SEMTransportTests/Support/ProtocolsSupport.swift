// Shared helpers for the protocol tests: ways of cutting input into pieces, recording SMTP
// hooks, an SMTP transcript runner and an in-memory wire between the SMTP client and
// server sessions. The seeded generator comes from SEMTestSupport.
@testable import SEMTransport
import SEMTestSupport
import Testing

/// How a test cuts its input before feeding it.
enum Feeding: CustomStringConvertible, Sendable {
    case whole
    case byteByByte
    case random(seed: UInt64)

    static let all: [Feeding] = [.whole, .byteByByte, .random(seed: 1), .random(seed: 42), .random(seed: 2024)]

    func pieces(_ bytes: [UInt8]) -> [[UInt8]] {
        switch self {
        case .whole:
            return [bytes]
        case .byteByByte:
            return bytes.map { [$0] }
        case .random(let seed):
            var generator = SeededGenerator(seed: seed)
            var out: [[UInt8]] = []
            var index = 0
            while index < bytes.count {
                let length = Int.random(in: 1...17, using: &generator)
                let end = min(bytes.count, index + length)
                out.append(Array(bytes[index..<end]))
                index = end
            }
            return out
        }
    }

    var description: String {
        switch self {
        case .whole: "whole"
        case .byteByByte: "byte by byte"
        case .random(let seed): "random splits (seed \(seed))"
        }
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Hooks that record every call and decide from simple rules.
struct RecordingHooks: SMTPServerHooks {
    enum Event: Equatable {
        case mail(String, SMTPSessionInfo)
        case recipient(String)
        case begin
        case end([String])
        case abort(SMTPMessageFault)
    }

    var events: [Event] = []
    var chunks: [[UInt8]] = []
    var rejectSenders: Set<String> = []
    var rejectRecipients: Set<String> = []
    var mailDecision: SMTPDecision?
    var beginDecision: SMTPDecision = .accept
    var endDecision: SMTPDecision = .accept(text: "queued as T1")

    /// All message pieces joined: the message as the application received it.
    var message: [UInt8] { chunks.flatMap { $0 } }

    mutating func mail(from sender: SMTPReversePath, parameters: SMTPMailParameters,
                       session: SMTPSessionInfo) -> SMTPDecision {
        events.append(.mail(sender.description, session))
        if let mailDecision { return mailDecision }
        if rejectSenders.contains(sender.description) {
            return .reject(code: 550, enhanced: "5.7.1", text: "Sender not authorised")
        }
        return .accept
    }

    mutating func recipient(_ recipient: SMTPMailbox, envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        events.append(.recipient(recipient.address))
        if rejectRecipients.contains(recipient.address) {
            return .reject(code: 550, enhanced: "5.1.1", text: "No such user here")
        }
        return .accept
    }

    mutating func messageBegin(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        events.append(.begin)
        chunks = []
        return beginDecision
    }

    mutating func messageData(_ chunk: ArraySlice<UInt8>) {
        chunks.append(Array(chunk))
    }

    mutating func messageEnd(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        events.append(.end(envelope.recipients.map(\.address)))
        return endDecision
    }

    mutating func messageAbort(envelope: SMTPEnvelope, fault: SMTPMessageFault) {
        events.append(.abort(fault))
    }
}

/// One client turn of a transcript: what the client sends and the reply prefixes it must
/// get back, in order (e.g. "250 2.1.0", "354", "250-").
struct Turn {
    let client: String
    let expect: [String]

    init(_ client: String, _ expect: [String]) {
        self.client = client
        self.expect = expect
    }
}

/// The wire text of the replies in `actions` (one string per reply) and whether they
/// include `.close` or `.startTLS`.
func replies(_ actions: [SMTPServerAction]) -> [String] {
    actions.compactMap { action in
        if case .send(let reply) = action { return String(decoding: reply.encoded, as: UTF8.self) }
        return nil
    }
}

/// Runs a transcript turn by turn and checks every reply prefix; returns the actions of
/// every turn, so that tests can look further.
@discardableResult
func runTranscript(_ turns: [Turn], session: inout SMTPServerSession, hooks: inout RecordingHooks,
                   sourceLocation: SourceLocation = #_sourceLocation) -> [[SMTPServerAction]] {
    var all: [[SMTPServerAction]] = []
    for (index, turn) in turns.enumerated() {
        let actions = session.receive(bytes(turn.client), hooks: &hooks)
        all.append(actions)
        let got = replies(actions)
        #expect(got.count == turn.expect.count,
                "turn \(index) \(turn.client.debugDescription): got \(got) want \(turn.expect)",
                sourceLocation: sourceLocation)
        for (reply, prefix) in zip(got, turn.expect) {
            #expect(reply.hasPrefix(prefix), "turn \(index): got \(reply.debugDescription) want prefix \(prefix)",
                    sourceLocation: sourceLocation)
        }
    }
    return all
}

/// Connects a client session and a server session in memory and runs them to the end.
/// Both sides' `startTLS` actions are answered by declaring the handshake done.
struct SMTPWire {
    var server: SMTPServerSession
    var client: SMTPClientSession
    var hooks: RecordingHooks
    /// Every `send` of the client, as written.
    var clientWrites: [[UInt8]] = []
    var peerIdentity = "CN=mx.client.example"

    mutating func run() -> SMTPDeliveryReport {
        var toClient = server.greeting().flatMap(encodedReply)
        var toServer: [UInt8] = []
        var clientWantsTLS = false
        var serverWantsTLS = false
        var serverClosed = false
        for _ in 0..<1000 {
            if !toClient.isEmpty {
                let actions = client.receive(toClient)
                toClient = []
                for action in actions {
                    switch action {
                    case .send(let data):
                        clientWrites.append(data)
                        toServer += data
                    case .startTLS: clientWantsTLS = true
                    case .finished(let report): return report
                    }
                }
            }
            if !toServer.isEmpty && !serverClosed {
                let actions = server.receive(toServer, hooks: &hooks)
                toServer = []
                for action in actions {
                    switch action {
                    case .send(let reply): toClient += reply.encoded
                    case .startTLS: serverWantsTLS = true
                    case .close: serverClosed = true
                    }
                }
            }
            if clientWantsTLS && serverWantsTLS {
                clientWantsTLS = false
                serverWantsTLS = false
                server.tlsEstablished(peerIdentity: peerIdentity)
                for case .send(let data) in client.tlsEstablished() {
                    clientWrites.append(data)
                    toServer += data
                }
            }
            if serverClosed && toClient.isEmpty { return client.connectionClosed() }
        }
        Issue.record("the SMTP wire did not settle")
        return client.report
    }

    private func encodedReply(_ action: SMTPServerAction) -> [UInt8] {
        if case .send(let reply) = action { return reply.encoded }
        return []
    }
}
