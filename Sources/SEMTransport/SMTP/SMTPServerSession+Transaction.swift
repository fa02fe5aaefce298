// The mail transaction of the server session: MAIL, RCPT, DATA and the message itself.
//
// The message arrives as lines (at most `maxDataLineLength` octets with CRLF). A leading
// dot is removed (RFC 5321 §4.5.2) and the result goes to the hooks in fixed-size pieces.
// The data ends only at a line holding a single "." that ends in CRLF and follows a line
// that ended in CRLF, i.e. at CRLF "." CRLF (RFC 5321 §4.1.1.4). A lone LF never ends a
// line for that purpose, so "<LF>.<LF>" or "<LF>.<CRLF>" cannot end the message early and
// smuggle the following text in as commands.
//
// Choices where the RFC leaves room (each ends the message with a refusal, after reading
// up to the end-of-data line so that the client and the server stay in step):
//   - message over `maxMessageSize`: 552 5.3.4 (RFC 1870 §6.3); the excess is not kept;
//   - a bare LF or bare CR in a line: 550 5.6.0;
//   - a NUL octet: 550 5.6.0;
//   - a line over `maxDataLineLength`: 550 5.6.0 (the line is not kept).
// Nothing of a refused message reaches the hooks after the fault, and `messageAbort`
// tells them to drop what they already received.

extension SMTPServerSession {
    mutating func mail(_ sender: SMTPReversePath, _ parameters: SMTPMailParameters,
                       actions: inout [SMTPServerAction], hooks: inout some SMTPServerHooks) {
        guard phase == .ready else {
            reply(SMTPReply(code: 503, enhanced: "5.5.1", text: "Send EHLO or HELO first"), &actions)
            return
        }
        guard envelope == nil else {
            reply(SMTPReply(code: 503, enhanced: "5.5.1", text: "Sender already given; send RSET first"), &actions)
            return
        }
        if configuration.requireTLS && !info.tlsActive {
            reply(SMTPReply(code: 530, enhanced: "5.7.0", text: "Must issue a STARTTLS command first"), &actions)
            return
        }
        if let size = parameters.declaredSize, size > configuration.maxMessageSize {
            reply(SMTPReply(code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed maximum message size"),
                  &actions)
            return
        }
        let decision = hooks.mail(from: sender, parameters: parameters, session: info)
        if decision.isAccept {
            envelope = SMTPEnvelope(sender: sender, parameters: parameters)
        }
        reply(decision.reply(acceptCode: 250, acceptEnhanced: "2.1.0", standardText: "Sender OK"), &actions)
    }

    mutating func recipient(_ recipient: SMTPMailbox, actions: inout [SMTPServerAction],
                            hooks: inout some SMTPServerHooks) {
        guard phase == .ready, let current = envelope else {
            reply(SMTPReply(code: 503, enhanced: "5.5.1", text: "Need MAIL before RCPT"), &actions)
            return
        }
        guard current.recipients.count < configuration.maxRecipients else {
            // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client retries the rest later.
            reply(SMTPReply(code: 452, enhanced: "4.5.3", text: "Too many recipients"), &actions)
            return
        }
        let decision = hooks.recipient(recipient, envelope: current, session: info)
        if decision.isAccept {
            envelope?.recipients.append(recipient)
        }
        reply(decision.reply(acceptCode: 250, acceptEnhanced: "2.1.5", standardText: "Recipient OK"), &actions)
    }

    mutating func data(actions: inout [SMTPServerAction], hooks: inout some SMTPServerHooks) {
        guard phase == .ready, let current = envelope else {
            reply(SMTPReply(code: 503, enhanced: "5.5.1", text: "Need MAIL and RCPT before DATA"), &actions)
            return
        }
        guard !current.recipients.isEmpty else {
            // RFC 2920 §3.1: DATA after only refused recipients is answered 554 (or 503).
            reply(SMTPReply(code: 554, enhanced: "5.5.1", text: "No valid recipients"), &actions)
            return
        }
        let decision = hooks.messageBegin(envelope: current, session: info)
        guard decision.isAccept else {
            reply(decision.reply(acceptCode: 354, acceptEnhanced: "", standardText: ""), &actions)
            return
        }
        // 354 is an intermediate reply: RFC 2034 gives it no enhanced code.
        actions.append(.send(SMTPReply(code: 354, text: "End data with <CR><LF>.<CR><LF>")))
        message = MessageState()
        reader.limit = configuration.maxDataLineLength
    }

    mutating func dataLine(_ line: SMTPLine, actions: inout [SMTPServerAction], hooks: inout some SMTPServerHooks) {
        guard var state = message, let current = envelope else { return }
        if line.fault == nil && line.content == [UInt8(ascii: ".")] && state.previousEndedWithCRLF {
            finishMessage(state, envelope: current, actions: &actions, hooks: &hooks)
            return
        }
        state.previousEndedWithCRLF = line.endedWithCRLF
        if state.fault == nil, let fault = line.fault {
            state.fault = switch fault {
            case .tooLong: .lineTooLong
            case .bareLineFeed, .bareCarriageReturn: .bareLineEnding
            case .nul: .nul
            }
        }
        if state.fault == nil {
            var content = line.content[...]
            if content.first == UInt8(ascii: ".") { content = content.dropFirst() }
            let added = Int64(content.count + 2)
            if state.size + added > configuration.maxMessageSize {
                state.fault = .tooLarge
            } else {
                state.size += added
                state.pending.append(contentsOf: content)
                state.pending.append(contentsOf: [0x0D, 0x0A])
                let chunk = configuration.messageChunkSize
                if state.pending.count >= chunk {
                    var start = 0
                    while state.pending.count - start >= chunk {
                        hooks.messageData(state.pending[start..<(start + chunk)])
                        start += chunk
                    }
                    state.pending.removeFirst(start)
                }
            }
        }
        if state.fault != nil { state.pending = [] }
        message = state
    }

    private mutating func finishMessage(_ state: MessageState, envelope current: SMTPEnvelope,
                                        actions: inout [SMTPServerAction], hooks: inout some SMTPServerHooks) {
        message = nil
        envelope = nil
        reader.limit = configuration.maxCommandLineLength
        if let fault = state.fault {
            hooks.messageAbort(envelope: current, fault: fault)
            reply(Self.faultReply(fault, lineLimit: configuration.maxDataLineLength), &actions)
            return
        }
        if !state.pending.isEmpty { hooks.messageData(state.pending[...]) }
        let decision = hooks.messageEnd(envelope: current, session: info)
        reply(decision.reply(acceptCode: 250, acceptEnhanced: "2.0.0", standardText: "Message accepted"), &actions)
    }

    static func faultReply(_ fault: SMTPMessageFault, lineLimit: Int) -> SMTPReply {
        switch fault {
        case .tooLarge:
            SMTPReply(code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed maximum message size")
        case .lineTooLong:
            SMTPReply(code: 550, enhanced: "5.6.0", text: "Message refused: a line is longer than \(lineLimit) octets")
        case .bareLineEnding:
            SMTPReply(code: 550, enhanced: "5.6.0", text: "Message refused: bare CR or LF; lines must end with CRLF")
        case .nul:
            SMTPReply(code: 550, enhanced: "5.6.0", text: "Message refused: it contains a NUL octet")
        case .connectionClosed:
            SMTPReply(code: 451, enhanced: "4.3.0", text: "Connection closed during DATA")
        }
    }
}
