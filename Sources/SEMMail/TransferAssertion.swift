// The transfer assertion: the sending server's signed statement about one hop of one
// message — envelope, a digest of the exact ciphertext, the attachments it refers to,
// when, and which server. It travels in the SEM-Transfer-Assertion header field as a
// base64 CMS SignedData (RFC 5652 §5) with the canonical JSON attached, signed with the
// key of the server's TLS certificate, so the receiver can tie it to the certificate the
// peer proved in STARTTLS and to the trust list's registration of that server.
public import Foundation
public import SEMCrypto
import SEMFederation

public struct TransferAssertion: Sendable, Equatable, Codable {
    public var messageId: String
    public var sender: String
    public var recipients: [String]
    /// Hex SHA-256 of the message content (the CMS) as transferred.
    public var contentDigest: String
    public var attachments: [String]
    /// The sending server's host name.
    public var server: String
    public var time: Date

    public init(messageId: String, sender: String, recipients: [String], content: Data, attachments: [String],
                server: String, time: Date) {
        self.messageId = messageId
        self.sender = sender.lowercased()
        self.recipients = recipients.map { $0.lowercased() }
        contentDigest = Digest.sha256(content).hexString
        self.attachments = attachments
        self.server = server
        self.time = time
    }

    /// How far the assertion's time may be from the receiver's clock.
    public static let allowedSkew: TimeInterval = 15 * 60

    public func signed(by signer: CMSSigner) throws -> Data { try signer.sign(try CanonicalJSON.encode(self)) }

    /// Verifies `der` and returns the assertion when it was signed with the key of
    /// `peerCertificate` (the certificate the peer presented in TLS) and agrees with the
    /// envelope and content received.
    public static func verify(_ der: Data, peerCertificate: Certificate, sender: String, recipients: [String],
                              content: Data, at time: Date) throws -> TransferAssertion {
        func refuse(_ text: String) -> MailError { MailError(.forbidden, "The transfer assertion \(text).") }
        let verified: CMSVerifiedContent
        do { verified = try CMSVerifier.verify(der, certificates: [peerCertificate]) } catch let error as CryptoError {
            throw refuse("does not verify: \(error.reason)")
        }
        guard verified.signers.count == 1, verified.signer.certificate.fingerprint == peerCertificate.fingerprint else {
            throw refuse("is not signed with the certificate the server presented in TLS")
        }
        let assertion: TransferAssertion
        do { assertion = try CanonicalJSON.decodeCanonical(TransferAssertion.self, from: verified.content) } catch {
            throw refuse("is not a canonical assertion")
        }
        guard assertion.sender == sender.lowercased() else { throw refuse("names another sender") }
        // The assertion is made before the SMTP transaction and names every recipient the
        // message was sent to; a recipient this server refuses at RCPT (RFC 5321 §4.1.1.3)
        // drops out of the envelope, so the envelope may be fewer, never others.
        let envelope = Set(recipients.map { $0.lowercased() })
        guard !envelope.isEmpty, envelope.isSubset(of: Set(assertion.recipients)) else {
            throw refuse("names other recipients than the envelope")
        }
        guard assertion.contentDigest == Digest.sha256(content).hexString else {
            throw refuse("does not match the content received")
        }
        guard abs(assertion.time.timeIntervalSince(time)) <= allowedSkew else {
            throw refuse("was made at \(assertion.time), too far from now")
        }
        return assertion
    }
}

/// A server-signed statement about a message: delivered to a recipient, or not
/// deliverable. Stored in the sender's mailbox as a notification.
public struct DeliveryNotification: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case delivered, failed }

    public var status: Status
    public var messageId: String
    public var recipient: String
    /// The server that makes the statement.
    public var server: String
    public var time: Date
    /// Why delivery failed; empty when delivered.
    public var reason: String

    public init(status: Status, messageId: String, recipient: String, server: String, time: Date, reason: String = "") {
        self.status = status
        self.messageId = messageId
        self.recipient = recipient.lowercased()
        self.server = server
        self.time = time
        self.reason = reason
    }

    public func signed(by signer: CMSSigner) throws -> Data { try signer.sign(try CanonicalJSON.encode(self)) }

    /// Opens a signed notification (the signature is checked; who signed it is the
    /// caller's to judge against the trust list or the local root).
    public static func open(_ der: Data) throws
        -> (notification: DeliveryNotification, signer: Certificate, certificates: [Certificate]) {
        do {
            let verified = try CMSVerifier.verify(der)
            return (try CanonicalJSON.decodeCanonical(DeliveryNotification.self, from: verified.content),
                    verified.signer.certificate, verified.certificates)
        } catch {
            throw MailError(.invalidRequest, "The notification does not verify: \(error)")
        }
    }
}
