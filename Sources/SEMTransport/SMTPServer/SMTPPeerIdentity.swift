// The identity a client proved with its TLS certificate, in the terms SMTP policy needs:
// the subject, the DNS names and the mailboxes of the subject alternative name, and the
// certificate's fingerprint.
//
// Matching a sender domain is deliberately strict: a dNSName must equal the domain
// exactly, or an rfc822Name must be a mailbox in it. Wildcards, parent domains and the
// common name are not considered (RFC 6125 §6.4.4 keeps the CN for legacy only), so a
// certificate authorises exactly the domains it names.
public import SEMCrypto

/// The names of a peer's certificate.
public struct SMTPPeerIdentity: Sendable, Equatable, CustomStringConvertible {
    /// The subject distinguished name as text ("CN=mx.example.org, O=Example").
    public let subject: String
    /// dNSName entries of the subject alternative name, in lower case.
    public let dnsNames: [String]
    /// rfc822Name entries of the subject alternative name.
    public let emailAddresses: [String]
    /// SHA-256 of the certificate's DER encoding, in hex.
    public let fingerprint: String

    /// Reads the names of `certificate`.
    public init(certificate: Certificate) {
        subject = certificate.subject.description
        dnsNames = certificate.dnsNames.map { $0.lowercased() }
        emailAddresses = certificate.emailAddresses
        fingerprint = certificate.fingerprint
    }

    /// Builds an identity from its parts (for tests and for identities kept in a store).
    public init(subject: String, dnsNames: [String] = [], emailAddresses: [String] = [], fingerprint: String = "") {
        self.subject = subject
        self.dnsNames = dnsNames.map { $0.lowercased() }
        self.emailAddresses = emailAddresses
        self.fingerprint = fingerprint
    }

    /// Whether the certificate names `domain`: a dNSName equal to it (ASCII case does not
    /// matter, a trailing dot is ignored) or an rfc822Name whose domain equals it.
    public func authorises(domain: String) -> Bool {
        let wanted = Self.normalised(domain)
        guard !wanted.isEmpty else { return false }
        if dnsNames.contains(where: { Self.normalised($0) == wanted }) { return true }
        return emailAddresses.contains { address in
            guard let at = address.lastIndex(of: "@") else { return false }
            return Self.normalised(String(address[address.index(after: at)...])) == wanted
        }
    }

    /// Whether the certificate names the mailbox itself (an rfc822Name equal to it; the
    /// local part compares exactly, the domain without regard to ASCII case).
    public func names(mailbox: SMTPMailbox) -> Bool {
        emailAddresses.contains { address in
            guard let at = address.lastIndex(of: "@") else { return false }
            return String(address[..<at]) == mailbox.localPart
                && Self.normalised(String(address[address.index(after: at)...])) == Self.normalised(mailbox.domain)
        }
    }

    /// One line for logs and for `SMTPSessionInfo.peerIdentity`:
    /// `subject="CN=..." dns=a,b email=c`.
    public var description: String {
        var parts = ["subject=\"\(subject)\""]
        if !dnsNames.isEmpty { parts.append("dns=" + dnsNames.joined(separator: ",")) }
        if !emailAddresses.isEmpty { parts.append("email=" + emailAddresses.joined(separator: ",")) }
        return parts.joined(separator: " ")
    }

    private static func normalised(_ domain: String) -> String {
        var text = domain.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
