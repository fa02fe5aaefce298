// Choosing the algorithms for one message from sender domain to recipient (architecture
// §4): the strongest choice in each category that both profiles allow, that the
// recipient's advertised SMIMECapabilities allow (RFC 8551 §2.7.1: a sender uses what
// the recipient announced), and that the agreement's required algorithms allow.
//
// Order of strength:
//   content encryption  AES-256-GCM > AES-256-CBC > AES-192-GCM > AES-192-CBC > AES-128-GCM > AES-128-CBC
//   key management      fixed by the recipient's key: RSA-OAEP-SHA256 for RSA,
//                       ECDH-P256-SHA256-KDF for P-256, ECDH-P384-SHA384-KDF for P-384
//   digest              SHA-512 > SHA-384 > SHA-256
//   signature           the sender profile's order among those the recipient accepts,
//                       restricted to what the sender's key can make
public import SEMCrypto

/// The algorithms chosen for one message.
public struct NegotiatedSuite: Sendable, Equatable, CustomStringConvertible {
    public let contentEncryption: ContentEncryptionAlgorithm
    public let keyManagement: KeyManagementAlgorithm
    public let digest: DigestAlgorithm
    public let signature: SignatureAlgorithm

    public var description: String { "\(contentEncryption), \(keyManagement), \(digest.rawValue), \(signature)" }
}

/// Negotiation between two domain profiles.
public enum AlgorithmNegotiation {
    /// The strongest common suite, or `FederationError(.noCommonAlgorithm)` naming the
    /// category and both sides' lists.
    ///
    /// - Parameters:
    ///   - recipientCapabilities: content-encryption algorithms the recipient advertised
    ///     (from its last signed message); empty means unknown, and then the profiles decide.
    ///   - recipientKey: the recipient's encryption key type.
    ///   - senderKey: the sender's signing key type, when known.
    ///   - agreementRequirements: algorithm names the agreement requires; each category
    ///     named there is restricted to the names given.
    public static func negotiate(sender: DomainProfile, recipient: DomainProfile,
                                 recipientCapabilities: [ContentEncryptionAlgorithm] = [],
                                 recipientKey: KeyAlgorithm, senderKey: KeyAlgorithm? = nil,
                                 agreementRequirements: [String] = []) throws -> NegotiatedSuite {
        let required = Set(agreementRequirements)
        func restrict<T: RawRepresentable & CaseIterable>(_ list: [T]) -> [T] where T.RawValue == String {
            let named = T.allCases.filter { required.contains($0.rawValue) }.map(\.rawValue)
            return named.isEmpty ? list : list.filter { named.contains($0.rawValue) }
        }
        func names<T: RawRepresentable>(_ list: [T]) -> String where T.RawValue == String {
            list.isEmpty ? "nothing" : list.map(\.rawValue).joined(separator: ", ")
        }
        func none(_ category: String, _ senderList: String, _ recipientList: String, _ extra: String = "") -> FederationError {
            FederationError(.noCommonAlgorithm, "No common algorithm for \(category): the sender offers \(senderList); "
                            + "the recipient offers \(recipientList)\(extra).")
        }
        let requirementNote = required.isEmpty ? "" : "; the agreement requires \(required.sorted().joined(separator: ", "))"

        // Content encryption.
        var offered = recipient.contentEncryption
        if !recipientCapabilities.isEmpty { offered = offered.filter(recipientCapabilities.contains) }
        let contentCommon = restrict(sender.contentEncryption).filter(offered.contains)
        guard let content = contentCommon.min(by: {
            Strength.rank($0, in: Strength.contentEncryption) < Strength.rank($1, in: Strength.contentEncryption)
        }) else {
            let capabilityNote = recipientCapabilities.isEmpty ? "" : " (capabilities: \(names(recipientCapabilities)))"
            throw none("content encryption", names(sender.contentEncryption),
                       names(recipient.contentEncryption) + capabilityNote, requirementNote)
        }

        // Key management follows the recipient's key.
        let keyManagement = KeyManagementAlgorithm.matching(recipientKey)
        let senderKM = restrict(sender.keyManagement)
        guard senderKM.contains(keyManagement), recipient.keyManagement.contains(keyManagement) else {
            throw none("key management with a \(recipientKey) recipient key", names(sender.keyManagement),
                       names(recipient.keyManagement), requirementNote)
        }
        if case .rsa(let bits) = recipientKey {
            let minimum = max(sender.minimumRSABits, recipient.minimumRSABits)
            guard bits >= minimum else {
                throw FederationError(.noCommonAlgorithm, "No common algorithm for key management: the recipient's "
                                      + "RSA key has \(bits) bits; both profiles together require at least \(minimum).")
            }
        }

        // Digest.
        let digestCommon = restrict(sender.digests).filter(recipient.digests.contains)
        guard let digest = digestCommon.min(by: {
            Strength.rank($0, in: Strength.digests) < Strength.rank($1, in: Strength.digests)
        }) else {
            throw none("digests", names(sender.digests), names(recipient.digests), requirementNote)
        }

        // Signature: the sender's preference among what the recipient accepts.
        var signatureCommon = restrict(sender.signatures).filter(recipient.signatures.contains)
        if let senderKey {
            signatureCommon = signatureCommon.filter { $0.fits(senderKey) }
            if case .rsa(let bits) = senderKey, bits < max(sender.minimumRSABits, recipient.minimumRSABits) {
                signatureCommon = signatureCommon.filter { !$0.isRSA }
            }
        }
        guard let signature = signatureCommon.first else {
            let keyNote = senderKey.map { " for a \($0) signing key" } ?? ""
            throw none("signatures\(keyNote)", names(sender.signatures), names(recipient.signatures), requirementNote)
        }
        return NegotiatedSuite(contentEncryption: content, keyManagement: keyManagement, digest: digest, signature: signature)
    }

    /// The same, with the recipient's capabilities as its signed message carried them.
    public static func negotiate(sender: DomainProfile, recipient: DomainProfile,
                                 recipientCapabilities: [SMIMECapability], recipientKey: KeyAlgorithm,
                                 senderKey: KeyAlgorithm? = nil, agreementRequirements: [String] = []) throws
        -> NegotiatedSuite {
        try negotiate(sender: sender, recipient: recipient,
                      recipientCapabilities: recipientCapabilities.compactMap(\.contentEncryption),
                      recipientKey: recipientKey, senderKey: senderKey, agreementRequirements: agreementRequirements)
    }
}
