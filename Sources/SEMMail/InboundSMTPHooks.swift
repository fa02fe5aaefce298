// The inbound side of SMTP (architecture P4): only registered servers deliver. After
// STARTTLS the peer's certificate must be the registered certificate of a server of the
// MAIL FROM domain; each recipient must be local and the PDP must permit `receive`; the
// message must carry a transfer assertion that verifies. Refusals are 5.7.x with a
// sentence (RFC 3463 §3.8 "security or policy status"); a PDP or store that cannot answer
// is a 451 4.3.0, so the sender retries.
//
// Unregistered (legacy) peers are refused, unless the domain chose `legacyPeers:
// quarantine`: then their mail for local users with an encryption certificate is taken,
// encrypted at rest and marked unauthenticated (MailService+Quarantine.swift). A legacy
// peer may not use this domain's own addresses as sender.
import Foundation
import SEMCrypto
public import SEMTransport

struct InboundSMTPHooks: SMTPServerHooks {
    let service: MailService
    let context: SMTPConnectionContext
    private var peer: (domain: String, host: String)?
    /// Set when an unregistered peer is let in under the quarantine setting.
    private var legacy = false
    private var data = Data()

    init(service: MailService, context: SMTPConnectionContext) {
        self.service = service
        self.context = context
    }

    mutating func mail(from sender: SMTPReversePath, parameters: SMTPMailParameters, session: SMTPSessionInfo) -> SMTPDecision {
        peer = nil
        legacy = false
        guard case .mailbox(let mailbox) = sender else {
            return .reject(code: 550, enhanced: "5.7.1", text: "A null sender is not accepted between SEM servers.")
        }
        let registered = context.peerCertificateChain.first.flatMap { try? service.registeredPeer($0) }
        if registered == nil, service.settings.legacyPeers == .quarantine {
            guard MailService.domain(of: mailbox.description) != service.domain else {
                return .reject(code: 550, enhanced: "5.7.1", text: "Mail from \(service.domain) comes only from its own server.")
            }
            legacy = true
            return .accept
        }
        guard let certificate = context.peerCertificateChain.first else {
            return .reject(code: 530, enhanced: "5.7.0", text: "Only registered servers deliver here: use STARTTLS "
                           + "with the certificate registered for your domain.")
        }
        do {
            let registered = try service.registeredPeer(certificate)
            let senderDomain = MailService.domain(of: mailbox.description)
            guard senderDomain == registered.domain else {
                return .reject(code: 550, enhanced: "5.7.1", text: "\(registered.host) is registered for "
                               + "\(registered.domain) and may not send mail from \(senderDomain).")
            }
            peer = registered
            return .accept
        } catch let error as MailError {
            return Self.reply(error)
        } catch {
            return .reject(code: 451, enhanced: "4.3.0", text: "The sender cannot be checked now; try again later.")
        }
    }

    mutating func recipient(_ recipient: SMTPMailbox, envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        let address = recipient.description.lowercased()
        if legacy {
            do {
                return try service.legacyRecipientAccepted(address) ? .accept
                    : .reject(code: 550, enhanced: "5.1.1", text: "\(address) cannot take mail from unregistered servers.")
            } catch {
                return .reject(code: 451, enhanced: "4.3.0", text: "The directory cannot be asked now; try again later.")
            }
        }
        guard let peer else { return .reject(code: 503, enhanced: "5.5.1", text: "MAIL first.") }
        guard MailService.domain(of: address) == service.domain else {
            return .reject(code: 550, enhanced: "5.7.1", text: "This server does not relay; \(address) is not in \(service.domain).")
        }
        do {
            var sender: String?
            if case .mailbox(let mailbox) = envelope.sender { sender = mailbox.description.lowercased() }
            let decision = try service.mayReceive(from: peer.host, peerDomain: peer.domain, sender: sender, to: address)
            guard decision.isPermit else {
                return .reject(code: 550, enhanced: "5.7.1", text: "Policy refuses mail from \(peer.domain) to \(address): "
                               + decision.reason)
            }
            // Of the obligations a `receive` permit may carry, the server can discharge none
            // that would block delivery: it has no review hold (quarantine), and attachment
            // sizes and types are not known before the message and its foreign attachments
            // arrive. A quarantine it cannot give is a refusal, never a silent permit.
            if decision.obligations.contains(.quarantine) {
                return .reject(code: 550, enhanced: "5.7.1", text: "Policy wants mail from \(peer.domain) to \(address) "
                               + "held for review, which this server does not offer.")
            }
            return .accept
        } catch let error as MailError {
            return Self.reply(error)
        } catch {
            return .reject(code: 451, enhanced: "4.3.0", text: "The policy cannot be asked now; try again later.")
        }
    }

    mutating func messageData(_ chunk: ArraySlice<UInt8>) { data.append(contentsOf: chunk) }

    mutating func messageEnd(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision {
        defer { data = Data() }
        if legacy, case .mailbox(let sender) = envelope.sender {
            do {
                try service.quarantine(data, sender: sender.description.lowercased(),
                                       recipients: envelope.recipients.map { $0.description.lowercased() },
                                       peer: session.clientName ?? session.peer)
                return .accept(text: "stored in quarantine, unauthenticated")
            } catch let error as MailError {
                return Self.reply(error)
            } catch {
                return .reject(code: 451, enhanced: "4.3.0", text: "The message could not be stored; try again later.")
            }
        }
        guard case .mailbox(let sender) = envelope.sender, let certificate = context.peerCertificateChain.first else {
            return .reject(code: 554, enhanced: "5.7.1", text: "The transaction has no authenticated sender.")
        }
        do {
            try service.receive(data, sender: sender.description.lowercased(),
                                recipients: envelope.recipients.map { $0.description.lowercased() },
                                peerCertificate: certificate)
            return .accept(text: "stored")
        } catch let error as MailError {
            return Self.reply(error)
        } catch {
            return .reject(code: 451, enhanced: "4.3.0", text: "The message could not be stored; try again later.")
        }
    }

    mutating func messageAbort(envelope: SMTPEnvelope, fault: SMTPMessageFault) { data = Data() }

    static func reply(_ error: MailError) -> SMTPDecision {
        switch error.code {
        case .forbidden, .unauthenticated: .reject(code: 554, enhanced: "5.7.1", text: error.reason)
        case .invalidRequest, .notFound, .versionConflict, .unknownDomain: .reject(code: 554, enhanced: "5.6.0", text: error.reason)
        case .tooLarge: .reject(code: 552, enhanced: "5.3.4", text: error.reason)
        case .unavailable, .storage: .reject(code: 451, enhanced: "4.3.0", text: error.reason)
        }
    }
}

extension MailService {
    /// Makes the hooks for one inbound SMTP connection.
    public func smtpHooks() -> SMTPHooksFactory {
        { context in InboundSMTPHooks(service: self, context: context) }
    }
}
