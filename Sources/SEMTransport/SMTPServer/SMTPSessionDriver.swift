// One SMTP conversation over a socket: reads into a fixed buffer, feeds the pure
// `SMTPServerSession`, and performs its actions (write replies, STARTTLS, close).
//
// STARTTLS: the session ignores everything after the STARTTLS line in the read that
// carried it (RFC 3207 §4.2, the CVE-2011-0411 class of injection), and the driver keeps
// no input of its own between reads, so nothing sent in plaintext before the handshake
// is ever read as a command after it. Plaintext the client sent later than that read is
// handed to OpenSSL as handshake bytes and makes the handshake fail.
//
// Log lines carry the session id and the peer address, and after STARTTLS the TLS
// version, cipher and client certificate identity. Each ending is logged once as
// `smtp.close` with its reason: the session closed (QUIT, 421 after too many errors),
// the peer closed, a timeout or the session lifetime (421 4.4.2), server shutdown (421
// 4.3.2), a failed TLS handshake, an I/O error. Failures also get one `smtp.error` or
// `smtp.tls_failed` line.
import Foundation
import SEMLogging
import SEMCrypto

/// Why a session ended; the raw value appears in the `smtp.close` log line.
enum SMTPSessionEnding: String {
    case quit
    case closedBySession = "closed-by-session"
    case peerClosed = "peer-closed"
    case commandTimeout = "command-timeout"
    case dataTimeout = "data-timeout"
    case lifetime = "lifetime-exceeded"
    case shutdown
    case tlsFailed = "tls-failed"
    case ioError = "io-error"
}

final class SMTPSessionDriver {
    private let core: SMTPServerCore
    private let configuration: SMTPListenerConfiguration
    private let plain: SocketStream
    private var stream: any ByteStream
    private let info: ConnectionInfo
    private let context: SMTPConnectionContext
    private var session: SMTPServerSession
    private var hooks: SMTPObservedHooks
    private var log: Logger
    private let startedAt: ContinuousClock.Instant
    private let lifetimeDeadline: ContinuousClock.Instant?
    /// When the current wait gives up: the next complete command, or the next data.
    private var deadline: ContinuousClock.Instant
    private var ending: SMTPSessionEnding?

    init(core: SMTPServerCore, stream: SocketStream, info: ConnectionInfo) {
        self.core = core
        configuration = core.configuration
        plain = stream
        self.stream = stream
        self.info = info
        let sessionID = SecureRandom.identifier(bytes: 6)
        context = SMTPConnectionContext(sessionID: sessionID, connectionID: info.id, peer: info.peer,
                                        local: info.local)
        log = core.logger.with("smtp.session", sessionID).with("peer", info.peer?.description ?? "unknown")
        session = SMTPServerSession(configuration: configuration.effectiveSession,
                                    peer: info.peer?.description ?? "unknown")
        hooks = SMTPObservedHooks(inner: core.hooks(context))
        let start = ContinuousClock.now
        startedAt = start
        lifetimeDeadline = configuration.sessionLifetime.map { start + $0 }
        deadline = start + configuration.commandTimeout
        stream.writeTimeout = configuration.writeTimeout
    }

    func run() {
        guard core.register(info.id, plain.descriptor) else {
            // Shutdown reached its deadline while this connection waited for a worker.
            ending = .shutdown
            sendFinal(SMTPReply(code: 421, enhanced: "4.3.2", text: "\(session.configuration.hostname) "
                                + "Service shutting down, closing connection"))
            finish()
            return
        }
        perform(session.greeting())
        var buffer = [UInt8](repeating: 0, count: configuration.readChunkSize)
        while ending == nil {
            readOnce(into: &buffer)
        }
        finish()
    }

    // MARK: Reading

    private func readOnce(into buffer: inout [UInt8]) {
        if core.isClosing { return shutDown() }
        let limit = lifetimeDeadline.map { min($0, deadline) } ?? deadline
        let remaining = limit - ContinuousClock.now
        guard remaining > .zero else { return timedOut() }
        stream.readTimeout = remaining

        let count: Int
        do {
            count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
        } catch let error as NetworkError where error.code == .timedOut {
            return core.isClosing ? shutDown() : timedOut()
        } catch {
            if core.isClosing { return shutDown() }
            log.warning("smtp.error", ["reason": Self.reason(error), "tls": context.tlsActive])
            ending = .ioError
            return
        }
        guard count > 0 else {
            if core.isClosing { return shutDown() }
            ending = .peerClosed
            return
        }

        let actions = session.receive(buffer[0..<count], hooks: &hooks)
        // Partial command lines never extend the wait; message data does, per read.
        if session.isReceivingMessage {
            deadline = .now + configuration.dataTimeout
        } else if !actions.isEmpty {
            deadline = .now + configuration.commandTimeout
        }
        perform(actions)
    }

    private func timedOut() {
        let lifetimeOver = lifetimeDeadline.map { ContinuousClock.now >= $0 } ?? false
        let reason: SMTPSessionEnding = lifetimeOver
            ? .lifetime : (session.isReceivingMessage ? .dataTimeout : .commandTimeout)
        ending = reason
        let text = lifetimeOver ? "Session time limit reached" : "Timeout waiting for input"
        log.notice("smtp.error", ["reason": reason.rawValue, "tls": context.tlsActive])
        sendFinal(SMTPReply(code: 421, enhanced: "4.4.2",
                            text: "\(session.configuration.hostname) \(text), closing connection"))
    }

    private func shutDown() {
        ending = .shutdown
        sendFinal(SMTPReply(code: 421, enhanced: "4.3.2",
                            text: "\(session.configuration.hostname) Service shutting down, closing connection"))
    }

    // MARK: Actions

    private func perform(_ actions: [SMTPServerAction]) {
        var output: [UInt8] = []
        for action in actions {
            switch action {
            case .send(let reply):
                output += reply.encoded
            case .startTLS:
                guard write(output) else { return }
                output = []
                startTLS()
                if ending != nil { return }
            case .close:
                _ = write(output)
                output = []
                let last = actions.last(where: { if case .send = $0 { true } else { false } })
                ending = if case .send(let reply)? = last, reply.code == 221 { .quit } else { .closedBySession }
                return
            }
        }
        _ = write(output)
    }

    /// Writes replies; on failure the session ends with an I/O error.
    private func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        do {
            try bytes.withUnsafeBytes { try stream.write($0) }
            return true
        } catch {
            if ending == nil {
                log.warning("smtp.error", ["reason": Self.reason(error), "tls": context.tlsActive])
                ending = .ioError
            }
            return false
        }
    }

    /// A last reply before closing; failures are not worth another log line.
    private func sendFinal(_ reply: SMTPReply) {
        stream.writeTimeout = min(configuration.writeTimeout, .seconds(5))
        _ = try? reply.encoded.withUnsafeBytes { try stream.write($0) }
    }

    private func startTLS() {
        guard let tls = configuration.tls else {
            // The session offers STARTTLS only when a context exists.
            log.critical("smtp.internal", ["reason": "STARTTLS without a TLS context"])
            ending = .ioError
            return
        }
        let upgraded: TLSStream
        do {
            upgraded = try plain.startTLS(context: tls)
        } catch {
            log.warning("smtp.tls_failed", ["reason": Self.reason(error)])
            ending = .tlsFailed
            return
        }
        stream = upgraded
        upgraded.writeTimeout = configuration.writeTimeout
        context.tlsVersion = upgraded.tlsVersion
        context.tlsCipher = upgraded.tlsCipher
        context.peerCertificateChain = upgraded.tlsPeerChain
        context.peerIdentity = upgraded.tlsPeerChain.first.map { SMTPPeerIdentity(certificate: $0) }
        session.tlsEstablished(peerIdentity: context.peerIdentity?.description)
        deadline = .now + configuration.commandTimeout
        // From here on every line about the session carries the TLS facts.
        log = log.with("tls.version", context.tlsVersion ?? "").with("tls.cipher", context.tlsCipher ?? "")
            .with("tls.peer", context.peerIdentity?.description ?? "none")
        log.info("smtp.tls")
    }

    // MARK: Ending

    private func finish() {
        session.connectionClosed(hooks: &hooks)
        core.unregister(info.id)
        stream.close()
        let elapsed = ContinuousClock.now - startedAt
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        log.info("smtp.close", [
            "reason": (ending ?? .ioError).rawValue, "tls": context.tlsActive, "duration_ms": milliseconds,
            "messages_accepted": hooks.accepted, "messages_refused": hooks.refused,
            "messages_aborted": hooks.aborted,
        ])
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? NetworkError { return error.description }
        return String(describing: error)
    }
}

extension SMTPServerSession {
    /// Whether the message after 354 is being received.
    var isReceivingMessage: Bool { message != nil }
}
