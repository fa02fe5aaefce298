// A domain's profile: the algorithms it supports (each list in order of preference),
// the identity-proofing assurance of its users, its size limits and receipt policy.
// Published in the trust list; negotiation (AlgorithmNegotiation) reads two of them.
public import SEMCrypto
public import SEMPolicy

/// What a domain supports and requires, as published in the trust list.
public struct DomainProfile: Sendable, Equatable {
    /// Content encryption, most preferred first.
    public var contentEncryption: [ContentEncryptionAlgorithm]
    /// Key transport and key agreement, most preferred first.
    public var keyManagement: [KeyManagementAlgorithm]
    public var digests: [DigestAlgorithm]
    public var signatures: [SignatureAlgorithm]
    /// Smallest RSA modulus accepted for signatures and key transport.
    public var minimumRSABits: Int
    /// How strongly the domain establishes its users' identities.
    public var assurance: AssuranceLevel
    /// Largest message (signed and encrypted body, without referenced attachments), bytes.
    public var maximumMessageBytes: Int
    /// Largest single attachment, bytes.
    public var maximumAttachmentBytes: Int
    public var receipts: ReceiptPolicy

    /// Bounds on sizes: a message must fit the CMS input limit; an attachment travels
    /// separately and is bounded at 64 GiB.
    public static let largestAttachment = 64 << 30

    public init(contentEncryption: [ContentEncryptionAlgorithm] = [.aes256GCM, .aes256CBC, .aes128GCM],
                keyManagement: [KeyManagementAlgorithm] = KeyManagementAlgorithm.allCases,
                digests: [DigestAlgorithm] = [.sha256, .sha384, .sha512],
                signatures: [SignatureAlgorithm] = [.ecdsaP256SHA256, .ecdsaP384SHA384, .rsaPKCS1SHA256],
                minimumRSABits: Int = KeyAlgorithm.minimumRSABits, assurance: AssuranceLevel = .substantial,
                maximumMessageBytes: Int = 25 << 20, maximumAttachmentBytes: Int = 1 << 30,
                receipts: ReceiptPolicy = .onRequest) {
        self.contentEncryption = contentEncryption
        self.keyManagement = keyManagement
        self.digests = digests
        self.signatures = signatures
        self.minimumRSABits = minimumRSABits
        self.assurance = assurance
        self.maximumMessageBytes = maximumMessageBytes
        self.maximumAttachmentBytes = maximumAttachmentBytes
        self.receipts = receipts
    }

    /// Checks the profile; throws `FederationError(.invalidProfile)` naming the first fault.
    public func validate() throws {
        func fault(_ text: String) -> FederationError { FederationError(.invalidProfile, "The domain profile \(text).") }
        func checkList<T: Hashable>(_ list: [T], _ name: String) throws {
            guard !list.isEmpty else { throw fault("lists no \(name)") }
            guard Set(list).count == list.count else { throw fault("lists a \(name) more than once") }
        }
        try checkList(contentEncryption, "content-encryption algorithm")
        try checkList(keyManagement, "key-management algorithm")
        try checkList(digests, "digest algorithm")
        try checkList(signatures, "signature algorithm")
        guard (KeyAlgorithm.minimumRSABits...16384).contains(minimumRSABits) else {
            throw fault("asks for RSA keys of at least \(minimumRSABits) bits; "
                        + "the minimum must lie between \(KeyAlgorithm.minimumRSABits) and 16384")
        }
        guard (1...CMS.maximumInputBytes).contains(maximumMessageBytes) else {
            throw fault("allows messages of \(maximumMessageBytes) bytes; "
                        + "the limit must lie between 1 and \(CMS.maximumInputBytes)")
        }
        guard (0...Self.largestAttachment).contains(maximumAttachmentBytes) else {
            throw fault("allows attachments of \(maximumAttachmentBytes) bytes; "
                        + "the limit must lie between 0 and \(Self.largestAttachment)")
        }
    }
}

extension DomainProfile: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case contentEncryption, keyManagement, digests, signatures, minimumRSABits, assurance
        case maximumMessageBytes, maximumAttachmentBytes, receipts
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func names<T>(_ key: CodingKeys, _ make: (String) -> T?, _ noun: String) throws -> [T] {
            try container.decode([String].self, forKey: key).map { name in
                guard let value = make(name) else {
                    throw FederationError(.invalidProfile, "The domain profile names an unknown \(noun) \"\(name)\".")
                }
                return value
            }
        }
        contentEncryption = try names(.contentEncryption, ContentEncryptionAlgorithm.init(rawValue:),
                                      "content-encryption algorithm")
        keyManagement = try names(.keyManagement, KeyManagementAlgorithm.init(rawValue:), "key-management algorithm")
        digests = try names(.digests, DigestAlgorithm.init(rawValue:), "digest algorithm")
        signatures = try names(.signatures, SignatureAlgorithm.init(rawValue:), "signature algorithm")
        minimumRSABits = try container.decode(Int.self, forKey: .minimumRSABits)
        let level = try container.decode(String.self, forKey: .assurance)
        guard let assurance = AssuranceLevel(rawValue: level) else {
            throw FederationError(.invalidProfile,
                                  "The domain profile names an unknown assurance level \"\(level)\" (low, substantial, high).")
        }
        self.assurance = assurance
        maximumMessageBytes = try container.decode(Int.self, forKey: .maximumMessageBytes)
        maximumAttachmentBytes = try container.decode(Int.self, forKey: .maximumAttachmentBytes)
        let receipt = try container.decode(String.self, forKey: .receipts)
        guard let receipts = ReceiptPolicy(rawValue: receipt) else {
            throw FederationError(.invalidProfile,
                                  "The domain profile names an unknown receipt policy \"\(receipt)\" (never, on-request, always).")
        }
        self.receipts = receipts
        try validate()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(contentEncryption.map(\.rawValue), forKey: .contentEncryption)
        try container.encode(keyManagement.map(\.rawValue), forKey: .keyManagement)
        try container.encode(digests.map(\.rawValue), forKey: .digests)
        try container.encode(signatures.map(\.rawValue), forKey: .signatures)
        try container.encode(minimumRSABits, forKey: .minimumRSABits)
        try container.encode(assurance.rawValue, forKey: .assurance)
        try container.encode(maximumMessageBytes, forKey: .maximumMessageBytes)
        try container.encode(maximumAttachmentBytes, forKey: .maximumAttachmentBytes)
        try container.encode(receipts.rawValue, forKey: .receipts)
    }
}
