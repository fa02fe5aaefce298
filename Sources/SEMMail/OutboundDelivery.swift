// Outbound delivery: a worker takes due queue items and delivers each to the destination
// domain's registered mail server from the trust list — never from DNS — over SMTP with
// STARTTLS required, presenting the server's certificate and checking the peer's against
// the trust list. Each transfer carries a fresh transfer assertion.
//
// Per recipient (RFC 5321 §4.2.1 via SMTPRecipientDisposition): delivered is done; a
// transient failure is retried after the next delay of `MailSettings.retrySchedule`; a
// permanent failure, or the end of the schedule, gives up and puts a signed non-delivery
// notification in the sender's mailbox. The queue is in the database, so a restart picks
// up where it stopped; a message delivered but not yet marked is sent again and the
// receiver, which keys mailboxes by message id, stores it once.
public import Foundation
public import SEMLogging
import SEMFederation
import SEMTransport

public final class OutboundDelivery: @unchecked Sendable {
    // @unchecked Sendable: `stopped` is only touched while holding `lock`; the rest is
    // immutable and Sendable.
    let service: MailService
    let interval: TimeInterval
    let logger: Logger
    private let lock = NSLock()
    private var stopped = false

    public init(service: MailService, interval: TimeInterval = 0.5, logger: Logger = .disabled) {
        self.service = service
        self.interval = interval
        self.logger = logger
    }

    public func start() {
        let thread = Thread { [self] in
            while !lock.withLock({ stopped }) {
                _ = runOnce()
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "outbound-delivery"
        thread.start()
    }

    public func stop() { lock.withLock { stopped = true } }

    /// Delivers every item due at `time`; returns how many were attempted.
    @discardableResult
    public func runOnce(at time: Date = Date()) -> Int {
        let due: [QueueItem]
        do { due = try service.storage.dueQueueItems(at: time, limit: 50) } catch {
            logger.error("queue.read-failed", ["error": "\(error)"])
            return 0
        }
        for item in due { attempt(item, at: time) }
        return due.count
    }

    private func attempt(_ item: QueueItem, at time: Date) {
        do {
            guard let message = try service.storage.message(id: item.messageID) else {
                try service.storage.markFailed(item, error: "the message is no longer stored")
                return
            }
            let report = try transfer(message, recipients: item.recipients, domain: item.domain, at: time)
            var retry: [String] = [], bounced: [(String, String)] = []
            var lastError = ""
            for (mailbox, disposition) in report.dispositions {
                switch disposition {
                case .delivered: continue
                case .retry(let reason):
                    retry.append(mailbox.description)
                    lastError = reason
                case .bounce(let reason): bounced.append((mailbox.description, reason))
                }
            }
            try settle(item, message: message, retry: retry, bounced: bounced, error: lastError, at: time)
        } catch {
            // No connection, no trust list, no route: every recipient waits for a retry.
            do {
                guard let message = try service.storage.message(id: item.messageID) else { return }
                try settle(item, message: message, retry: item.recipients, bounced: [], error: "\(error)", at: time)
            } catch {
                logger.error("queue.update-failed", ["item": item.id, "error": "\(error)"])
            }
        }
    }

    private func settle(_ item: QueueItem, message: StoredMessage, retry: [String], bounced: [(String, String)],
                        error: String, at time: Date) throws {
        var bounced = bounced
        let schedule = service.settings.retrySchedule
        if !retry.isEmpty, item.attempts < schedule.count {
            let next = time.addingTimeInterval(schedule[item.attempts])
            try service.storage.reschedule(item, recipients: retry, to: next, error: error)
            logger.warning("queue.retry", ["id": message.id, "domain": item.domain, "attempt": item.attempts + 1,
                                           "next": RFC3339.string(from: next), "error": error])
        } else {
            bounced += retry.map { ($0, "still undeliverable after \(item.attempts + 1) attempts: \(error)") }
            if bounced.isEmpty {
                try service.storage.markDelivered(item)
                logger.info("queue.delivered", ["id": message.id, "domain": item.domain, "recipients": item.recipients.count])
            } else {
                try service.storage.markFailed(item, error: bounced.map { "\($0.0): \($0.1)" }.joined(separator: "; "))
            }
        }
        // Notifications about notifications would loop; only letters bounce.
        guard message.kind == .message else { return }
        for (recipient, reason) in bounced {
            try service.notify(DeliveryNotification(status: .failed, messageId: message.id, recipient: recipient,
                                                    server: service.identity.hostName, time: time, reason: reason),
                               sender: message.sender, at: time)
            logger.warning("queue.bounced", ["id": message.id, "recipient": recipient, "reason": reason])
        }
    }

    /// One SMTP transaction to the registered server of `domain`.
    private func transfer(_ message: StoredMessage, recipients: [String], domain: String, at time: Date) throws
        -> SMTPDeliveryReport {
        let list = try service.currentTrustList()
        guard let destination = list.domain(named: domain),
              let server = destination.servers.first(where: { $0.role == "mail" }) else {
            throw MailError(.unknownDomain, "\(domain) has no registered mail server in the trust list.")
        }
        let content = try service.storage.content(of: message)
        let identity = service.identity
        let assertion = try TransferAssertion(messageId: message.id, sender: message.sender, recipients: recipients,
                                              content: content, attachments: message.attachments, server: identity.hostName,
                                              time: time).signed(by: try identity.signer())
        let wire = try TransferMessage(messageID: message.id, kind: message.kind, sender: message.sender,
                                       recipients: recipients, content: content, attachments: message.attachments,
                                       assertion: assertion).serialized()
        guard let sender = SMTPMailbox(message.sender) else {
            throw MailError(.invalidRequest, "\(message.sender) is not an SMTP mailbox.")
        }
        let mailboxes = try recipients.map { text in
            guard let mailbox = SMTPMailbox(text) else { throw MailError(.invalidRequest, "\(text) is not an SMTP mailbox.") }
            return mailbox
        }
        let (host, port) = try MailService.hostPort(server.smtp)
        let client = try SMTPClient(options: SMTPClientOptions(
            session: SMTPClientConfiguration(heloName: identity.hostName, requireTLS: true),
            tls: try service.federationClientTLS(expectedDomain: domain), timeouts: .uniform(.seconds(60)),
            maximumMessageSize: TransferMessage.maximumBytes), logger: logger)
        return client.deliver(wire, from: .mailbox(sender), to: mailboxes, host: host, port: port, serverName: server.hostName)
    }
}
