// What a queue should do with each recipient after a delivery attempt.
//
// Rules (RFC 5321 §4.2.1: 4yz is a transient failure, 5yz a permanent one):
//   - accepted at RCPT and the message accepted: delivered;
//   - refused at RCPT: retry after a 4xx, bounce after a 5xx;
//   - otherwise (not attempted, or accepted but the message failed): retry when the
//     delivery's failure is transient, bounce when it is permanent.

/// The fate of one recipient after a delivery attempt.
public enum SMTPRecipientDisposition: Sendable, Equatable {
    /// The server took responsibility for the message for this recipient.
    case delivered
    /// Try again later; the reply or failure that caused it.
    case retry(String)
    /// Give up and notify the sender; the reply or failure that caused it.
    case bounce(String)
}

extension SMTPDeliveryReport {
    /// Each recipient with what a queue should do next, in envelope order.
    public var dispositions: [(mailbox: SMTPMailbox, disposition: SMTPRecipientDisposition)] {
        recipients.map { entry in (entry.mailbox, disposition(for: entry.status)) }
    }

    private func disposition(for status: SMTPRecipientStatus) -> SMTPRecipientDisposition {
        if case .rejected(let reply) = status {
            return reply.isTransientFailure ? .retry(reply.description) : .bounce(reply.description)
        }
        if case .accepted = status, delivered { return .delivered }
        guard let failure else {
            // Not delivered and no failure recorded cannot come out of a finished
            // session; retrying is the safe answer.
            return .retry("The delivery did not complete.")
        }
        return failure.isTransient ? .retry(failure.description) : .bounce(failure.description)
    }
}
