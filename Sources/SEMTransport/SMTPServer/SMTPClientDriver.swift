// The socket side of one SMTP delivery: connect, read replies into a fixed buffer, feed
// `SMTPClientSession`, write what it asks for, upgrade to TLS on its request.
//
// After "220" to STARTTLS the session ignores the rest of the read that carried it, and
// the driver keeps no input between reads, so no reply sent before the handshake can be
// taken as an answer after it.
import Foundation
import SEMCrypto
import SEMLogging

struct SMTPClientDriver {
    let options: SMTPClientOptions
    var session: SMTPClientSession
    let log: Logger

    init(options: SMTPClientOptions, session: SMTPClientSession, log: Logger) {
        self.options = options
        self.session = session
        self.log = log
    }

    mutating func run(host: String, port: UInt16, serverName: String) -> SMTPDeliveryReport {
        let timeouts = options.timeouts
        let plain: SocketStream
        do {
            plain = try TCPClient.connect(host: host, port: port, timeout: timeouts.connect,
                                          ioTimeout: timeouts.greeting)
        } catch {
            let timedOut = (error as? NetworkError)?.code == .timedOut
            return Self.fail(&session, timedOut ? .timedOut : .connectFailed, Self.reason(error), log)
        }
        var stream: any ByteStream = plain
        defer { stream.close() }

        var buffer = [UInt8](repeating: 0, count: options.readChunkSize)
        while true {
            stream.readTimeout = readTimeout()
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
            } catch {
                return Self.fail(&session, Self.kind(of: error), Self.reason(error), log)
            }
            guard count > 0 else { return finished(session.connectionClosed()) }

            var actions = session.receive(buffer[0..<count])[...]
            while let action = actions.popFirst() {
                switch action {
                case .send(let bytes):
                    // The message itself is one write; a stall beyond the data block timeout ends it.
                    stream.writeTimeout = session.step == .message ? timeouts.dataBlock : timeouts.command
                    do {
                        try bytes.withUnsafeBytes { try stream.write($0) }
                    } catch {
                        return Self.fail(&session, Self.kind(of: error), Self.reason(error), log)
                    }
                case .startTLS:
                    guard let context = options.tls else {
                        return Self.fail(&session, .tlsFailed, "STARTTLS was started without a TLS context.", log)
                    }
                    do {
                        let upgraded = try plain.startTLS(context: context, serverName: serverName)
                        stream = upgraded
                        log.info("smtp.client.tls", ["tls.version": upgraded.tlsVersion ?? "",
                                                     "tls.cipher": upgraded.tlsCipher ?? "",
                                                     "tls.server": upgraded.tlsPeerChain.first?.subject.description
                                                         ?? "none"])
                    } catch {
                        return Self.fail(&session, .tlsFailed, Self.reason(error), log)
                    }
                    actions = session.tlsEstablished()[...] + actions
                case .finished(let report):
                    return finished(report)
                }
            }
        }
    }

    /// The wait that fits what the session expects next (RFC 5321 §4.5.3.2).
    func readTimeout() -> Duration {
        let timeouts = options.timeouts
        switch session.step {
        case .greeting: return timeouts.greeting
        case .message: return timeouts.dataTermination
        case .transaction:
            switch session.pending.first {
            case .mail?: return timeouts.mail
            case .recipient?: return timeouts.recipient
            case .data?: return timeouts.dataInitiation
            case nil: return timeouts.command
            }
        case .ehlo, .helo, .startTLS, .awaitingTLS, .quit, .done: return timeouts.command
        }
    }

    /// Logs the outcome of a delivery in one line and returns it.
    func finished(_ report: SMTPDeliveryReport) -> SMTPDeliveryReport {
        Self.logOutcome(report, log)
        return report
    }

    /// Ends the session with a local failure, unless the message was already accepted (a
    /// lost QUIT reply must not turn a delivered message into a retry and a duplicate).
    static func fail(_ session: inout SMTPClientSession, _ kind: SMTPClientFailure.Kind, _ reason: String,
                     _ log: Logger) -> SMTPDeliveryReport {
        let delivered = session.report.failure == nil && session.report.messageReply?.isCompletion == true
        if !delivered { session.fail(kind, reply: nil, reason: reason) }
        let report = session.connectionClosed()
        logOutcome(report, log)
        return report
    }

    static func logOutcome(_ report: SMTPDeliveryReport, _ log: Logger) {
        var accepted = 0, rejected = 0
        for entry in report.recipients {
            switch entry.status {
            case .accepted: accepted += 1
            case .rejected: rejected += 1
            case .notAttempted: break
            }
        }
        let reply = report.messageReply?.description ?? "none"
        if let failure = report.failure {
            log.notice("smtp.delivery", ["delivered": report.delivered, "accepted": accepted, "rejected": rejected,
                                         "failure": failure.kind.rawValue, "transient": failure.isTransient,
                                         "reason": failure.description, "reply": reply])
        } else {
            log.info("smtp.delivery", ["delivered": report.delivered, "accepted": accepted, "rejected": rejected,
                                       "reply": reply])
        }
    }

    static func kind(of error: any Error) -> SMTPClientFailure.Kind {
        guard let error = error as? NetworkError else { return .connectionLost }
        switch error.code {
        case .timedOut, .lifetimeExceeded: return .timedOut
        case .tlsHandshakeFailed, .tlsPeerRejected: return .tlsFailed
        default: return .connectionLost
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? NetworkError { return error.description }
        return String(describing: error)
    }
}
