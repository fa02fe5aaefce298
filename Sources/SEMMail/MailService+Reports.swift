// Abuse reports (P7): a user marks a letter in their mailbox as abuse, and the server
// keeps the report with the envelope facts an administrator needs to decide on a
// suspension (`semctl report list`, then `semctl sender suspend`, a PDP group). The
// letter itself stays end-to-end encrypted: the server records who sent it, not what it says.
public import Foundation
import SEMCrypto

/// POST /v1/reports.
public struct ReportRequest: Sendable, Codable, Equatable {
    public var messageId: String
    public var reason: String

    public init(messageId: String, reason: String) {
        self.messageId = messageId
        self.reason = reason
    }
}

extension MailService {
    /// Longest reason kept, in characters.
    public static let maximumReportReason = 1000

    /// Files `reporter`'s report about a message in their own mailbox.
    public func report(_ request: ReportRequest, from reporter: String, at time: Date = Date()) throws -> AbuseReport {
        let reason = request.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= Self.maximumReportReason else {
            throw MailError(.invalidRequest, "A report needs a reason of 1 to \(Self.maximumReportReason) characters.")
        }
        guard try storage.entry(of: reporter, messageID: request.messageId) != nil,
              let message = try storage.message(id: request.messageId) else {
            throw MailError(.notFound, "There is no message \(request.messageId) in the mailbox of \(reporter).")
        }
        guard message.kind == .message, message.sender != reporter else {
            throw MailError(.invalidRequest, "Only a letter someone else sent can be reported.")
        }
        let report = AbuseReport(id: SecureRandom.identifier(bytes: 12), reporter: reporter, sender: message.sender,
                                 messageId: message.id, reason: reason, filedAt: time, authenticated: message.authenticated)
        try storage.fileReport(report)
        logger.warning("mail.abuse-report", ["id": report.id, "reporter": reporter, "sender": message.sender,
                                             "message": message.id])
        return report
    }
}
