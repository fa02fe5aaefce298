// What two (or more) domains agree on: who may write to whom in each direction and under
// which conditions. These are the signed parts of an agreement; signatures and state are
// kept beside them (BilateralAgreement, MultilateralAgreement).
public import Foundation
import SEMCrypto
public import SEMPolicy

/// Limits on attachments carried under an agreement.
public struct AttachmentTerms: Sendable, Equatable, Codable {
    /// Largest attachment, bytes.
    public var maximumBytes: Int
    /// When not empty, only these media types (patterns such as `application/pdf`, `image/*`).
    public var allowedTypes: [String]
    public var forbiddenTypes: [String]

    public init(maximumBytes: Int, allowedTypes: [String] = [], forbiddenTypes: [String] = []) {
        self.maximumBytes = maximumBytes
        self.allowedTypes = allowedTypes
        self.forbiddenTypes = forbiddenTypes
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case maximumBytes, allowedTypes, forbiddenTypes }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maximumBytes = try container.decode(Int.self, forKey: .maximumBytes)
        allowedTypes = try container.decode([String].self, forKey: .allowedTypes)
        forbiddenTypes = try container.decode([String].self, forKey: .forbiddenTypes)
    }
}

/// Conditions on mail carried under an agreement.
public struct AgreementConditions: Sendable, Equatable, Codable {
    /// Least identity-proofing assurance of senders.
    public var minimumAssurance: AssuranceLevel
    /// Algorithm names (from the profiles' vocabularies) that mail must use; negotiation
    /// restricts each category that appears here to the names listed.
    public var requiredAlgorithms: [String]
    public var attachments: AttachmentTerms?
    public var receiptsRequired: Bool

    public init(minimumAssurance: AssuranceLevel = .low, requiredAlgorithms: [String] = [],
                attachments: AttachmentTerms? = nil, receiptsRequired: Bool = false) {
        self.minimumAssurance = minimumAssurance
        self.requiredAlgorithms = requiredAlgorithms
        self.attachments = attachments
        self.receiptsRequired = receiptsRequired
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minimumAssurance, requiredAlgorithms, attachments, receiptsRequired
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let level = try container.decode(String.self, forKey: .minimumAssurance)
        guard let assurance = AssuranceLevel(rawValue: level) else {
            throw FederationError(.invalidAgreement, "Unknown assurance level \"\(level)\" (low, substantial, high).")
        }
        minimumAssurance = assurance
        requiredAlgorithms = try container.decode([String].self, forKey: .requiredAlgorithms)
        attachments = try container.decodeIfPresent(AttachmentTerms.self, forKey: .attachments)
        receiptsRequired = try container.decode(Bool.self, forKey: .receiptsRequired)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(minimumAssurance.rawValue, forKey: .minimumAssurance)
        try container.encode(requiredAlgorithms, forKey: .requiredAlgorithms)
        try container.encodeIfPresent(attachments, forKey: .attachments)
        try container.encode(receiptsRequired, forKey: .receiptsRequired)
    }

    func validate(_ owner: String) throws {
        for name in requiredAlgorithms where !AlgorithmNames.isKnown(name) {
            throw FederationError(.invalidAgreement, "\(owner) requires the unknown algorithm \"\(name)\".")
        }
        if let attachments, !(0...DomainProfile.largestAttachment).contains(attachments.maximumBytes) {
            throw FederationError(.invalidAgreement, "\(owner) limits attachments to \(attachments.maximumBytes) bytes; "
                                  + "the limit must lie between 0 and \(DomainProfile.largestAttachment).")
        }
    }
}

/// Mail in one direction: which senders of `from` may write to which recipients of `to`.
/// Senders and recipients are address patterns (`*@alpha.test`, `alice@alpha.test`) or
/// group names of the respective domain's policy; empty patterns and groups mean the whole domain.
public struct AgreementDirection: Sendable, Equatable, Codable {
    public var from: String
    public var to: String
    public var senders: [AddressPattern]
    public var senderGroups: [String]
    public var recipients: [AddressPattern]
    public var recipientGroups: [String]
    public var conditions: AgreementConditions

    public init(from: String, to: String, senders: [AddressPattern] = [], senderGroups: [String] = [],
                recipients: [AddressPattern] = [], recipientGroups: [String] = [],
                conditions: AgreementConditions = AgreementConditions()) {
        self.from = from
        self.to = to
        self.senders = senders
        self.senderGroups = senderGroups
        self.recipients = recipients
        self.recipientGroups = recipientGroups
        self.conditions = conditions
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case from, to, senders, senderGroups, recipients, recipientGroups, conditions
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        from = try container.decode(String.self, forKey: .from)
        to = try container.decode(String.self, forKey: .to)
        senders = try container.decode([AddressPattern].self, forKey: .senders)
        senderGroups = try container.decode([String].self, forKey: .senderGroups)
        recipients = try container.decode([AddressPattern].self, forKey: .recipients)
        recipientGroups = try container.decode([String].self, forKey: .recipientGroups)
        conditions = try container.decode(AgreementConditions.self, forKey: .conditions)
    }
}

/// The signed terms of a bilateral agreement between `proposingDomain` and `acceptingDomain`.
public struct BilateralTerms: Sendable, Equatable, Codable {
    /// A policy name: 1-64 letters, digits, '.', '_' or '-'.
    public var id: String
    public var proposingDomain: String
    public var acceptingDomain: String
    /// The proposing administrator's e-mail address; the proposal signer's certificate names it.
    public var proposer: String
    /// One or two directions, at most one per (from, to).
    public var directions: [AgreementDirection]
    public var notBefore: Date
    public var notAfter: Date

    public init(id: String, proposingDomain: String, acceptingDomain: String, proposer: String,
                directions: [AgreementDirection], notBefore: Date, notAfter: Date) {
        self.id = id
        self.proposingDomain = proposingDomain.lowercased()
        self.acceptingDomain = acceptingDomain.lowercased()
        self.proposer = proposer.lowercased()
        self.directions = directions
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, proposingDomain, acceptingDomain, proposer, directions, notBefore, notAfter
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        proposingDomain = try container.decode(String.self, forKey: .proposingDomain)
        acceptingDomain = try container.decode(String.self, forKey: .acceptingDomain)
        proposer = try container.decode(String.self, forKey: .proposer)
        directions = try container.decode([AgreementDirection].self, forKey: .directions)
        notBefore = try container.decode(Date.self, forKey: .notBefore)
        notAfter = try container.decode(Date.self, forKey: .notAfter)
        try validate()
    }

    /// Checks names, directions and the validity window.
    public func validate() throws {
        func fault(_ text: String) -> FederationError { FederationError(.invalidAgreement, "Agreement \"\(id)\": \(text).") }
        guard AlgorithmNames.isPolicyName(id) else {
            throw FederationError(.invalidAgreement, "\"\(id)\" is not an agreement id: use 1-64 letters, digits, "
                                  + "'.', '_' or '-', starting with a letter or digit.")
        }
        try DomainName.check(proposingDomain)
        try DomainName.check(acceptingDomain)
        guard proposingDomain != acceptingDomain else { throw fault("a domain cannot agree with itself") }
        guard proposer.hasSuffix("@" + proposingDomain) else {
            throw fault("the proposer \(proposer) is not an address of \(proposingDomain)")
        }
        guard notBefore < notAfter else { throw fault("notAfter must be later than notBefore") }
        guard (1...2).contains(directions.count) else { throw fault("it needs one or two directions") }
        let parties = Set([proposingDomain, acceptingDomain])
        var seen = Set<String>()
        for direction in directions {
            guard parties.contains(direction.from), parties.contains(direction.to), direction.from != direction.to else {
                throw fault("a direction must go from one party to the other (\(direction.from) → \(direction.to))")
            }
            guard seen.insert(direction.from).inserted else { throw fault("two directions start at \(direction.from)") }
            try direction.conditions.validate("Agreement \"\(id)\"")
        }
    }

    /// The domain on the other side from `domain`, if `domain` is a party.
    public func partner(of domain: String) -> String? {
        let domain = domain.lowercased()
        if domain == proposingDomain { return acceptingDomain }
        if domain == acceptingDomain { return proposingDomain }
        return nil
    }
}

/// Names used in several places: algorithm vocabularies and domain-name checks.
enum AlgorithmNames {
    static func isKnown(_ name: String) -> Bool {
        ContentEncryptionAlgorithm(rawValue: name) != nil || KeyManagementAlgorithm(rawValue: name) != nil
            || SignatureAlgorithm(rawValue: name) != nil || DigestAlgorithm(rawValue: name) != nil
    }

    static func isPolicyName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func alnum(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = bytes.first, alnum(first), bytes.count <= 64 else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// Domain names in signed documents: lower case, no wildcard, a valid host name.
enum DomainName {
    static func check(_ name: String, code: FederationError.Code = .invalidAgreement) throws {
        guard name == name.lowercased(), !name.contains("*"), (try? DomainPattern(name)) != nil else {
            throw FederationError(code, "\"\(name)\" is not a lower-case domain name.")
        }
    }
}
