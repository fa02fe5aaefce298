// A multilateral agreement: a named group of domains under a common policy. Each member's
// administrator signs the canonical terms on joining; a member counts only once its
// signature verifies against its root. Mail flows both ways between joined members.
public import Foundation
public import SEMCrypto

/// The signed terms of a multilateral agreement.
public struct MultilateralTerms: Sendable, Equatable, Codable {
    public var id: String
    /// The group's name; the PDP sees joined partners as members of a policy group of this name.
    public var name: String
    /// Domains invited to the group.
    public var members: [String]
    public var conditions: AgreementConditions
    public var notBefore: Date
    public var notAfter: Date

    public init(id: String, name: String, members: [String], conditions: AgreementConditions = AgreementConditions(),
                notBefore: Date, notAfter: Date) {
        self.id = id
        self.name = name
        self.members = members.map { $0.lowercased() }
        self.conditions = conditions
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, name, members, conditions, notBefore, notAfter }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        members = try container.decode([String].self, forKey: .members)
        conditions = try container.decode(AgreementConditions.self, forKey: .conditions)
        notBefore = try container.decode(Date.self, forKey: .notBefore)
        notAfter = try container.decode(Date.self, forKey: .notAfter)
        try validate()
    }

    public func validate() throws {
        guard AlgorithmNames.isPolicyName(id), AlgorithmNames.isPolicyName(name) else {
            throw FederationError(.invalidAgreement, "\"\(id)\" / \"\(name)\": ids and group names use 1-64 letters, "
                                  + "digits, '.', '_' or '-', starting with a letter or digit.")
        }
        for member in members { try DomainName.check(member) }
        guard members.count >= 2, Set(members).count == members.count else {
            throw FederationError(.invalidAgreement, "Agreement \"\(id)\" needs at least two different member domains.")
        }
        guard notBefore < notAfter else {
            throw FederationError(.invalidAgreement, "Agreement \"\(id)\": notAfter must be later than notBefore.")
        }
        try conditions.validate("Agreement \"\(id)\"")
    }
}

/// One member's signature on joining.
public struct MemberSignature: Sendable, Equatable, Codable {
    public var domain: String
    /// Detached CMS SignedData (DER) over the canonical terms.
    public var signature: Data

    enum CodingKeys: String, CodingKey, CaseIterable { case domain, signature }

    public init(domain: String, signature: Data) {
        self.domain = domain
        self.signature = signature
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        domain = try container.decode(String.self, forKey: .domain)
        signature = try container.decode(Data.self, forKey: .signature)
    }
}

/// A multilateral agreement with the signatures of the members that have joined.
public struct MultilateralAgreement: Sendable, Equatable, Codable {
    public private(set) var terms: MultilateralTerms
    public private(set) var joined: [MemberSignature]

    public init(terms: MultilateralTerms) throws {
        try terms.validate()
        self.terms = terms
        joined = []
    }

    /// The domains that have joined, in joining order.
    public var joinedDomains: [String] { joined.map(\.domain) }

    /// `domain` joins, its administrator signing the terms; the signature is checked at once.
    public mutating func join(_ domain: String, signer: CMSSigner, verification: AgreementVerification,
                              at time: Date) throws {
        let domain = domain.lowercased()
        guard terms.members.contains(domain) else {
            throw FederationError(.invalidAgreement, "\(domain) is not invited to agreement \"\(terms.id)\".")
        }
        guard !joinedDomains.contains(domain) else {
            throw FederationError(.invalidAgreement, "\(domain) has already joined agreement \"\(terms.id)\".")
        }
        let content = try CanonicalJSON.encode(terms)
        let signature = try AgreementSigning.sign(content, with: signer)
        try verification.verify(signature, over: content, by: domain, at: time)
        joined.append(MemberSignature(domain: domain, signature: signature))
    }

    /// Checks every member signature against its domain's root.
    public func verifySignatures(_ verification: AgreementVerification, at time: Date) throws {
        let content = try CanonicalJSON.encode(terms)
        for member in joined {
            guard terms.members.contains(member.domain) else {
                throw FederationError(.agreementSignature, "\(member.domain) signed agreement \"\(terms.id)\" uninvited.")
            }
            try verification.verify(member.signature, over: content, by: member.domain, at: time)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case terms, joined }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        terms = try container.decode(MultilateralTerms.self, forKey: .terms)
        joined = try container.decode([MemberSignature].self, forKey: .joined)
        guard Set(joinedDomains).count == joined.count else {
            throw FederationError(.invalidAgreement, "Agreement \"\(terms.id)\" lists a member's signature twice.")
        }
    }
}
