// The mail transaction of the client session: MAIL, RCPT, DATA, message.
//
// With PIPELINING the three commands go out as one group and the replies are matched to
// them in order (RFC 2920 §3.1); without it each command waits for its reply. If DATA is
// answered 354 although no recipient was accepted (possible when pipelining), the client
// sends a lone "." so that no message is delivered, as RFC 2920 §3.1 describes.

extension SMTPClientSession {
    mutating func beginTransaction(_ actions: inout [SMTPClientAction]) {
        if let limit = extensions.sizeLimit, Int64(messageSize) > limit {
            return failAndQuit(.messageTooLarge, nil,
                               "The message (\(messageSize) octets) exceeds the server's limit of \(limit) octets",
                               &actions)
        }
        if eightBit && !extensions.has("8BITMIME") {
            return failAndQuit(.eightBitUnsupported, nil,
                               "The message contains 8-bit data and the server does not offer 8BITMIME", &actions)
        }
        guard !report.recipients.isEmpty else {
            return failAndQuit(.noRecipientAccepted, nil, "The message has no recipients", &actions)
        }

        var mail = "MAIL FROM:\(sender)"
        if extensions.has("SIZE") { mail += " SIZE=\(messageSize)" }
        if eightBit { mail += " BODY=8BITMIME" }
        step = .transaction
        pipelining = extensions.has("PIPELINING")
        if pipelining {
            var group = line(mail)
            for (index, entry) in report.recipients.enumerated() {
                group += line("RCPT TO:<\(entry.mailbox.address)>")
                pending.append(.recipient(index))
            }
            group += line("DATA")
            pending.insert(.mail, at: 0)
            pending.append(.data)
            actions.append(.send(group))
        } else {
            pending = [.mail]
            actions.append(.send(line(mail)))
        }
    }

    mutating func transactionReply(_ reply: SMTPReply, _ actions: inout [SMTPClientAction]) {
        guard !pending.isEmpty else {
            fail(.protocolError, reply: reply, reason: "The server sent a reply to no command")
            return finish(&actions)
        }
        switch pending.removeFirst() {
        case .mail:
            if !reply.isCompletion {
                fail(.senderRefused, reply: reply, reason: "The server refused the sender")
                if !pipelining { quit(&actions) }
            } else if !pipelining {
                sendRecipient(0, &actions)
            }
        case .recipient(let index):
            if reply.isCompletion {
                report.recipients[index].status = .accepted(reply)
                acceptedCount += 1
            } else {
                report.recipients[index].status = .rejected(reply)
            }
            if !pipelining {
                if index + 1 < report.recipients.count {
                    sendRecipient(index + 1, &actions)
                } else if acceptedCount > 0 {
                    pending = [.data]
                    actions.append(.send(line("DATA")))
                } else {
                    failAndQuit(.noRecipientAccepted, nil, "The server accepted none of the recipients", &actions)
                }
            }
        case .data:
            dataReply(reply, &actions)
        }
    }

    private mutating func sendRecipient(_ index: Int, _ actions: inout [SMTPClientAction]) {
        pending = [.recipient(index)]
        actions.append(.send(line("RCPT TO:<\(report.recipients[index].mailbox.address)>")))
    }

    private mutating func dataReply(_ reply: SMTPReply, _ actions: inout [SMTPClientAction]) {
        if acceptedCount == 0 {
            fail(.noRecipientAccepted, reply: nil, reason: "The server accepted none of the recipients")
        }
        guard reply.code == 354 else {
            fail(.dataRefused, reply: reply, reason: "The server refused DATA")
            return quit(&actions)
        }
        step = .message
        if report.failure == nil {
            actions.append(.send(SMTPDotStuffer.stuff(canonical: canonicalMessage)))
        } else {
            messageWithdrawn = true
            actions.append(.send(line(".")))
        }
    }
}
