// Helpers for the SMTP driver tests: a PKI made in process (root, receiving server,
// sending server, user), hooks that record what the server was told, starting a server
// on 127.0.0.1, and a raw SMTP client for hostile input.
import Foundation
import SEMCrypto
import SEMLogging
import SEMTestSupport
@testable import SEMTransport
import Synchronization
import Testing

/// Root CA, the receiving server (DNS:localhost), the sending server as a TLS client
/// (DNS:sender.test) and a user (alice@sender.test), all EC P-256, with an empty CRL so
/// that path validation with hard-fail revocation accepts them.
struct SMTPTestPKI: Sendable {
    let root: Certificate
    let rootKey: PrivateKey
    let server: Certificate
    let serverKey: PrivateKey
    let relay: Certificate
    let relayKey: PrivateKey
    let user: Certificate
    let userKey: PrivateKey
    let crl: CertificateRevocationList

    static let relayDomain = "sender.test"
    static let userAddress = "alice@sender.test"

    static func shared() throws -> SMTPTestPKI { try cached.get() }
    private static let cached: Result<SMTPTestPKI, any Error> = Result { try make() }

    private static func make() throws -> SMTPTestPKI {
        let now = Date()
        let start = now.addingTimeInterval(-3600), end = now.addingTimeInterval(2 * 86_400)
        let rootKey = try PrivateKey.generate(.ecP256)
        let issuer = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("O", "SEM SMTP Tests"), ("CN", "SMTP Test Root")]), key: rootKey,
            notBefore: start, notAfter: end)
        func leaf(_ profile: CertificateProfile, _ cn: String, dns: [String] = [], email: [String] = [])
            throws -> (Certificate, PrivateKey) {
            let key = try PrivateKey.generate(.ecP256)
            let parameters = CertificateParameters(
                subject: DistinguishedName([("O", "SEM SMTP Tests"), ("CN", cn)]), publicKey: key.publicKey,
                notBefore: start, notAfter: end, emailAddresses: email, dnsNames: dns)
            return (try issuer.issue(profile, parameters), key)
        }
        let (server, serverKey) = try leaf(.tlsServer, "localhost", dns: ["localhost"])
        let (relay, relayKey) = try leaf(.tlsClient, "mx.\(relayDomain)", dns: [relayDomain, "mx.\(relayDomain)"])
        let (user, userKey) = try leaf(.userSigning, "Alice", email: [userAddress])
        let crl = try CertificateRevocationList.issue(issuer: issuer.certificate, key: rootKey, thisUpdate: start,
                                                      nextUpdate: end, crlNumber: 1, revoked: [])
        return SMTPTestPKI(root: issuer.certificate, rootKey: rootKey, server: server, serverKey: serverKey,
                           relay: relay, relayKey: relayKey, user: user, userKey: userKey, crl: crl)
    }

    func verifier(_ purpose: CertificatePurpose) -> PathValidatingPeerVerifier {
        let validator = PathValidator(trustAnchors: [root], revocationChecker: RevocationEvidence(crls: [crl]))
        return PathValidatingPeerVerifier(validator: validator, purpose: purpose)
    }

    /// The receiving server's STARTTLS context; client certificates checked by path validation.
    func serverContext(requireClientCertificate: Bool = true) throws -> TLSContext {
        var configuration = TLSConfiguration.server(
            chain: [server], key: serverKey, clientAuthentication: requireClientCertificate ? .required : .none,
            peerVerifier: verifier(.tlsClient))
        configuration.handshakeTimeout = .seconds(5)
        return try TLSContext(configuration)
    }

    /// The sending server's context: presents the relay certificate, validates the server.
    func relayContext(withCertificate: Bool = true) throws -> TLSContext {
        var configuration = withCertificate
            ? TLSConfiguration.client(peerVerifier: verifier(.tlsServer), chain: [relay], key: relayKey)
            : TLSConfiguration.client(peerVerifier: verifier(.tlsServer))
        configuration.handshakeTimeout = .seconds(5)
        return try TLSContext(configuration)
    }

    /// Writes ca.pem, server.pem/.key, relay.pem/.key and user.pem/.key (keys mode 0600).
    func writeFiles(to scratch: ScratchDirectory) throws {
        try scratch.write("ca.pem", root.pemEncoded)
        for (name, certificate, key) in [("server", server, serverKey), ("relay", relay, relayKey),
                                         ("user", user, userKey)] {
            try scratch.write("\(name).pem", certificate.pemEncoded)
            try scratch.write("\(name).key", try key.pkcs8PEM(), secret: true)
        }
    }
}

/// One message as the server's hooks received it.
struct ReceivedMessage: Sendable, Equatable {
    var sender: String
    var recipients: [String]
    var data: [UInt8]
}

/// What one connection's hooks saw at MAIL FROM.
struct SeenSender: Sendable, Equatable {
    var sender: String
    var tlsActive: Bool
    var peerIdentity: String?
    var sessionID: String
}

/// Collects what every connection's hooks were told; shared across worker threads.
final class SMTPHookRecorder: Sendable {
    private struct Store {
        var senders: [SeenSender] = []
        var messages: [ReceivedMessage] = []
        var aborts: [SMTPMessageFault] = []
    }
    private let store = Mutex(Store())

    var senders: [SeenSender] { store.withLock { $0.senders } }
    var messages: [ReceivedMessage] { store.withLock { $0.messages } }
    var aborts: [SMTPMessageFault] { store.withLock { $0.aborts } }

    func sawSender(_ seen: SeenSender) { store.withLock { $0.senders.append(seen) } }
    func delivered(_ message: ReceivedMessage) { store.withLock { $0.messages.append(message) } }
    func aborted(_ fault: SMTPMessageFault) { store.withLock { $0.aborts.append(fault) } }
}

/// Hooks that accept nearly everything: with `checkSenderDomain` a sender whose domain
/// the client certificate does not name is refused with 550 5.7.1, and two recipient
/// names are refused (see `recipient`).
struct RecordingDriverHooks: SMTPServerHooks {
    let recorder: SMTPHookRecorder
    let context: SMTPConnectionContext
    let checkSenderDomain: Bool
    var buffer: [UInt8] = []

    mutating func mail(from sender: SMTPReversePath, parameters: SMTPMailParameters,
                       session: SMTPSessionInfo) -> SMTPDecision {
        recorder.sawSender(SeenSender(sender: sender.description, tlsActive: session.tlsActive,
                                      peerIdentity: session.peerIdentity, sessionID: context.sessionID))
        if checkSenderDomain {
            guard case .mailbox(let mailbox) = sender, let identity = context.peerIdentity,
                  identity.authorises(domain: mailbox.domain) else {
                return .reject(code: 550, enhanced: "5.7.1", text: "Sender domain not authorised for this client")
            }
        }
        return .accept
    }

    /// Local part "busy" is refused for now (450 4.2.1), "unknown" for good (550 5.1.1).
    mutating func recipient(_ recipient: SMTPMailbox, envelope: SMTPEnvelope,
                            session: SMTPSessionInfo) -> SMTPDecision {
        switch recipient.localPart {
        case "busy": .reject(code: 450, enhanced: "4.2.1", text: "Mailbox busy, try again later")
        case "unknown": .reject(code: 550, enhanced: "5.1.1", text: "No such mailbox")
        default: .accept
        }
    }

    mutating func messageBegin(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        buffer = []
        return .accept
    }

    mutating func messageData(_ chunk: ArraySlice<UInt8>) { buffer.append(contentsOf: chunk) }

    mutating func messageEnd(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        recorder.delivered(ReceivedMessage(sender: envelope.sender.description,
                                           recipients: envelope.recipients.map(\.address), data: buffer))
        buffer = []
        return .accept(text: "queued as \(context.sessionID)")
    }

    mutating func messageAbort(envelope: SMTPEnvelope, fault: SMTPMessageFault) {
        buffer = []
        recorder.aborted(fault)
    }
}

/// A running test server with what it records and logs.
struct SMTPTestServer: Sendable {
    let server: SMTPServer
    let recorder: SMTPHookRecorder
    let log: InMemoryLogHandler
    /// The listener's name, short and unique, so that its threads can be counted.
    let name: String

    var port: UInt16 { server.port }

    /// Log records of one event.
    func records(_ event: String) -> [LogRecord] { log.records.filter { $0.event == event } }
}

/// Starts an SMTP server on 127.0.0.1 with an ephemeral port.
func startSMTPServer(tls: TLSContext?, requireTLS: Bool = false, checkSenderDomain: Bool = false,
                     maxMessageSize: Int64 = 1_000_000, commandTimeout: Duration = .seconds(5),
                     dataTimeout: Duration = .seconds(5), sessionLifetime: Duration? = .seconds(30)) throws
    -> SMTPTestServer {
    let recorder = SMTPHookRecorder()
    let memory = InMemoryLogHandler()
    let session = SMTPServerConfiguration(hostname: "mx.receiver.test", maxMessageSize: maxMessageSize,
                                          requireTLS: requireTLS)
    let name = "s" + UUID().uuidString.prefix(6)
    var configuration = SMTPListenerConfiguration(
        session: session, tls: tls, port: 0, maximumConnections: 8, commandTimeout: commandTimeout,
        dataTimeout: dataTimeout, writeTimeout: .seconds(5), sessionLifetime: sessionLifetime)
    configuration.name = name
    let server = try SMTPServer(configuration: configuration,
                                logger: Logger(component: "smtp-test", level: .debug, handler: memory)) { context in
        RecordingDriverHooks(recorder: recorder, context: context, checkSenderDomain: checkSenderDomain)
    }
    server.start()
    return SMTPTestServer(server: server, recorder: recorder, log: memory, name: name)
}

/// A reply as a raw client reads it: the code and the text lines.
struct RawReply: Equatable, CustomStringConvertible {
    var code: Int
    var lines: [String]
    var description: String { "\(code) " + lines.joined(separator: " | ") }
}

/// A plain-socket SMTP client that writes exactly the bytes a test gives it.
final class RawSMTPClient {
    var reader: BufferedReader
    var stream: any ByteStream { reader.stream }

    init(port: UInt16, timeout: Duration = .seconds(5)) throws {
        reader = BufferedReader(try TCPClient.connect(host: "127.0.0.1", port: port, timeout: timeout,
                                                      ioTimeout: timeout))
    }

    func send(_ text: String) throws { try stream.write(Data(text.utf8)) }
    func send(_ bytes: [UInt8]) throws { try stream.write(Data(bytes)) }

    /// Reads one reply, following "250-" continuation lines; nil at end of stream.
    func reply() throws -> RawReply? {
        var lines: [String] = []
        while true {
            guard case .line(let data, _) = try reader.readLine(maxLength: 2048) else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            guard text.count >= 3, let code = Int(text.prefix(3)) else { return nil }
            lines.append(String(text.dropFirst(4)))
            if text.count == 3 || text[text.index(text.startIndex, offsetBy: 3)] == " " {
                return RawReply(code: code, lines: lines)
            }
        }
    }

    /// Sends `command` with CRLF and returns the reply code (0 at end of stream).
    func command(_ command: String) throws -> Int {
        try send(command + "\r\n")
        return try reply()?.code ?? 0
    }

    func startTLS(_ context: TLSContext) throws {
        try reader.startTLS(context: context, serverName: "localhost")
    }

    /// Sends `line` with CRLF and reads the reply.
    func reply(after line: String) throws -> RawReply? {
        try send(line + "\r\n")
        return try reply()
    }

    func close() { stream.close() }
}

/// Runs `body` against a fresh server, then checks what every test must leave behind: a
/// normal session still works, no session stays active, and after shutdown the process
/// holds exactly the sockets it held before and none of the listener's threads.
func withCheckedServer(followUpTLS: TLSContext? = nil, _ make: () throws -> SMTPTestServer,
                       _ body: (SMTPTestServer) throws -> Void) throws {
    try startProcessMachinery()
    let socketsBefore = openSocketCount()
    let server = try make()
    do {
        try body(server)
        #expect(try normalTransaction(port: server.port, tls: followUpTLS) == normalCodes,
                "a normal session after the test")
        #expect(eventually(timeout: .seconds(3)) { server.server.activeSessions == 0 })
    } catch {
        server.server.shutdown(gracePeriod: .milliseconds(100))
        throw error
    }
    #expect(threadCount(namedPrefix: "accept \(server.name)") == 1, "the listener's threads are visible")
    let report = server.server.shutdown(gracePeriod: .seconds(1))
    #expect(report.forcedConnections == 0)
    #expect(eventually { openSocketCount() == socketsBefore }, "no descriptor leak")
    #expect(eventually {
        threadCount(namedPrefix: "accept \(server.name)") + threadCount(namedPrefix: "worker \(server.name)") == 0
    }, "no thread leak")
}

/// A whole transaction from alice@sender.test to bob@receiver.test, after STARTTLS when
/// `tls` is given; returns the reply codes in order, without those of STARTTLS.
func normalTransaction(port: UInt16, tls: TLSContext? = nil,
                       body: String = "Subject: check\r\n\r\nstill working\r\n") throws -> [Int] {
    let client = try RawSMTPClient(port: port)
    defer { client.close() }
    var codes = [try client.reply()?.code ?? 0]
    if let tls {
        guard try client.command("EHLO client.test") == 250, try client.command("STARTTLS") == 220 else {
            return codes + [0]
        }
        try client.startTLS(tls)
    }
    for line in ["EHLO client.test", "MAIL FROM:<alice@sender.test>", "RCPT TO:<bob@receiver.test>", "DATA"] {
        codes.append(try client.command(line))
    }
    codes.append(try client.command(body + "."))
    codes.append(try client.command("QUIT"))
    return codes
}

let normalCodes = [220, 250, 250, 250, 354, 250, 221]

/// Foundation's `Process` opens a socket pair (and event descriptors) on first use and
/// keeps it for the life of the process. Starting one trivial process before counting
/// sockets keeps that from looking like a leak of the code under test.
func startProcessMachinery() throws {
    try processMachinery.get()
}

private let processMachinery: Result<Void, any Error> = Result {
    _ = try ExternalTool.run("true", [])
}
