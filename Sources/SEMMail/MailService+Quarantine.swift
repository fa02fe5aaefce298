// Mail from peers that are not registered servers (legacy SMTP), when the domain chooses
// to take it (`legacyPeers: quarantine` in mail.json) instead of refusing it (the default).
// Such mail is neither signed by a registered server nor end-to-end encrypted, so it is
// encrypted at rest at once — to each recipient's encryption certificate from the domain
// CA (CMS AuthEnvelopedData, AES-256-GCM) — and stored marked unauthenticated and
// flagged "quarantine": the plaintext never reaches the disk, and the client shows it as
// mail nobody vouched for.
public import Foundation
import SEMCrypto
import SEMTransport

extension MailService {
    /// Whether a legacy peer may deliver to `recipient`: a local user with an encryption
    /// certificate in the directory.
    public func legacyRecipientAccepted(_ recipient: String) throws -> Bool {
        guard settings.legacyPeers == .quarantine, Self.domain(of: recipient) == domain else { return false }
        do {
            _ = try encryptionCertificate(of: recipient)
            return true
        } catch let error as MailError where error.code == .notFound {
            return false
        }
    }

    /// Encrypts a legacy message to each recipient and stores one quarantined copy per
    /// recipient (each copy is readable only by its recipient). Returns the message ids.
    @discardableResult
    public func quarantine(_ data: Data, sender: String, recipients: [String], peer: String,
                           at time: Date = Date()) throws -> [String] {
        guard data.count <= settings.maximumMessageBytes else {
            throw MailError(.tooLarge, "The message has \(data.count) bytes; \(domain) accepts at most \(settings.maximumMessageBytes).")
        }
        try scanLegacy(data, sender: sender)
        var ids: [String] = []
        for recipient in recipients {
            let certificate = try encryptionCertificate(of: recipient)
            let sealed: Data
            do { sealed = try CMSEnvelope.encrypt(data, for: [certificate]) } catch {
                throw MailError(.storage, "The message for \(recipient) could not be encrypted: \(error)")
            }
            let message = StoredMessage(id: newMessageID(), sender: sender, recipients: [recipient], receivedAt: time,
                                        size: Int64(sealed.count), blob: .of(sealed), authenticated: false)
            try storage.deliver(message, content: sealed, to: [recipient])
            _ = try storage.update(owner: recipient, messageID: message.id, flags: ["quarantine"], deleted: false)
            ids.append(message.id)
        }
        logger.warning("mail.quarantined", ["from": sender, "peer": peer, "recipients": recipients.count])
        return ids
    }

    /// Legacy mail is the one place the server holds plaintext, so it is scanned there
    /// when a scanner is configured: a detection refuses the message (5.7.1), a scanner
    /// that cannot answer defers it (4.3.0), and nothing is stored in either case.
    private func scanLegacy(_ data: Data, sender: String) throws {
        guard let endpoint = settings.scanner else { return }
        let verdict: ScanVerdict
        do { verdict = try ClamdScanner(endpoint: endpoint).scan(data) } catch {
            logger.error("mail.scan.failed", ["from": sender, "error": "\(error)"])
            throw MailError(.unavailable, "The message could not be scanned for malware; try again later.")
        }
        if case .infected(let signature) = verdict {
            logger.warning("mail.scan.detected", ["from": sender, "signature": signature])
            throw MailError(.forbidden, "The message carries malware (\(signature)) and was refused.")
        }
    }

    private func encryptionCertificate(of address: String) throws -> Certificate {
        let entry = try lookup(address)
        do { return try Certificate(pemEncoded: entry.encryption) } catch {
            throw MailError(.unavailable, "The directory returned an unreadable certificate for \(address).")
        }
    }
}
