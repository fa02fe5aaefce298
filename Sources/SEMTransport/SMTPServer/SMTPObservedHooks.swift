// Wraps the application's hooks to count what happened to messages, for the one log
// line that closes each session. Every call is passed through unchanged.

struct SMTPObservedHooks: SMTPServerHooks {
    var inner: any SMTPServerHooks
    /// Messages the application accepted at the end of data.
    private(set) var accepted = 0
    /// Messages the application refused at DATA or at the end of data.
    private(set) var refused = 0
    /// Messages the session gave up on (size, bad line endings, connection lost).
    private(set) var aborted = 0

    init(inner: any SMTPServerHooks) {
        self.inner = inner
    }

    mutating func mail(from sender: SMTPReversePath, parameters: SMTPMailParameters,
                       session: SMTPSessionInfo) -> SMTPDecision {
        inner.mail(from: sender, parameters: parameters, session: session)
    }

    mutating func recipient(_ recipient: SMTPMailbox, envelope: SMTPEnvelope,
                            session: SMTPSessionInfo) -> SMTPDecision {
        inner.recipient(recipient, envelope: envelope, session: session)
    }

    mutating func messageBegin(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        let decision = inner.messageBegin(envelope: envelope, session: session)
        if !decision.isAccept { refused += 1 }
        return decision
    }

    mutating func messageData(_ chunk: ArraySlice<UInt8>) {
        inner.messageData(chunk)
    }

    mutating func messageEnd(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        let decision = inner.messageEnd(envelope: envelope, session: session)
        if decision.isAccept { accepted += 1 } else { refused += 1 }
        return decision
    }

    mutating func messageAbort(envelope: SMTPEnvelope, fault: SMTPMessageFault) {
        aborted += 1
        inner.messageAbort(envelope: envelope, fault: fault)
    }
}
