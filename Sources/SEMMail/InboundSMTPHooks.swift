// The inbound side of SMTP (architecture P4): only registered servers deliver. After
// STARTTLS the peer's certificate must be the registered certificate of a server of the
// MAIL FROM domain; each recipient must be local and the PDP must permit `receive`; the
// message must carry a transfer assertion that verifies. Refusals are 5.7.x with a
// sentence (RFC 3463 §3.8 "security or policy status"); a PDP or store that cannot answer
// is a 451 4.3.0, so the sender retries.
//
// Shortcoming: the per-domain setting to accept unregistered (legacy) peers into an
// encrypted quarantine is not built; every unregistered peer is refused, which is the
// default the architecture asks for.
import Foundation
import SEMCrypto
public import SEMTransport

struct InboundSMTPHooks: SMTPServerHooks {
    let service: MailService
    let context: SMTPConnectionContext
    private var peer: (domain: String, host: String)?
    private var data = Data()

    init(service: MailService, context: SMTPConnectionContext) {
        self.service = service
        self.context = context
    }

    mutating func mail(from sender: SMTPReversePath, parameters: SMTPMailParameters, session: SMTPSessionInfo) -> SMTPDecision {
        guard let certificate = context.peerCertificateChain.first else {
            return .reject(code: 530, enhanced: "5.7.0", text: "Only registered servers deliver here: use STARTTLS "
                           + "with the certificate registered for your domain.")
        }
        guard case .mailbox(let mailbox) = sender else {
            return .reject(code: 550, enhanced: "5.7.1", text: "A null sender is not accepted between SEM servers.")
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
        guard let peer else { return .reject(code: 503, enhanced: "5.5.1", text: "MAIL first.") }
        let address = recipient.description.lowercased()
        guard MailService.domain(of: address) == service.domain else {
            return .reject(code: 550, enhanced: "5.7.1", text: "This server does not relay; \(address) is not in \(service.domain).")
        }
        do {
            let decision = try service.mayReceive(from: peer.host, peerDomain: peer.domain, to: address)
            guard decision.isPermit else {
                return .reject(code: 550, enhanced: "5.7.1", text: "Policy refuses mail from \(peer.domain) to \(address): "
                               + decision.reason)
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
