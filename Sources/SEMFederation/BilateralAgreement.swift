// The life of a bilateral agreement: proposed (signed by the proposing domain's
// administrator) → accepted (signed by the accepting domain's administrator) →
// terminated. Both signatures cover the same bytes, the canonical JSON of the terms, and
// both are kept, so anyone holding the trust list can check each against its domain's root.
//
// Shortcoming: termination is recorded by the registry (time only) and carries no
// administrator signature of its own; the registry's log is the evidence for it.
public import Foundation
public import SEMCrypto

/// Where an agreement stands.
public enum AgreementState: String, Sendable, Codable, CaseIterable {
    case proposed, accepted, terminated
}

/// A bilateral agreement with its signatures and state.
public struct BilateralAgreement: Sendable, Equatable, Codable {
    public private(set) var terms: BilateralTerms
    public private(set) var state: AgreementState
    /// Detached CMS SignedData (DER) by the proposing administrator over `terms`.
    public private(set) var proposal: Data
    /// Detached CMS SignedData (DER) by the accepting administrator over `terms`.
    public private(set) var acceptance: Data?
    public private(set) var terminatedAt: Date?

    /// Proposes `terms`, signed by the proposing administrator (`signer`'s certificate must
    /// name `terms.proposer`).
    public static func propose(_ terms: BilateralTerms, signer: CMSSigner) throws -> BilateralAgreement {
        try terms.validate()
        guard signer.certificate.emailAddresses.map({ $0.lowercased() }).contains(terms.proposer) else {
            throw FederationError(.agreementSignature,
                                  "The proposal must be signed by \(terms.proposer), whose certificate this is not.")
        }
        let signature = try AgreementSigning.sign(try CanonicalJSON.encode(terms), with: signer)
        return BilateralAgreement(terms: terms, state: .proposed, proposal: signature, acceptance: nil, terminatedAt: nil)
    }

    /// The bytes both administrators sign.
    public var signedContent: Data {
        get throws { try CanonicalJSON.encode(terms) }
    }

    /// Accepts the proposal: checks the proposer's signature first, then signs as the
    /// accepting administrator. Throws `.invalidAgreement` unless the state is `proposed`.
    public mutating func accept(signer: CMSSigner, verification: AgreementVerification, at time: Date) throws {
        guard state == .proposed else {
            throw FederationError(.invalidAgreement, "Agreement \"\(terms.id)\" is \(state.rawValue); only a proposal can be accepted.")
        }
        let content = try signedContent
        try verification.verify(proposal, over: content, by: terms.proposingDomain, at: time, expectedAddress: terms.proposer)
        let signature = try AgreementSigning.sign(content, with: signer)
        try verification.verify(signature, over: content, by: terms.acceptingDomain, at: time)
        acceptance = signature
        state = .accepted
    }

    /// Ends the agreement. Throws `.invalidAgreement` when it is already terminated.
    public mutating func terminate(at time: Date) throws {
        guard state != .terminated else {
            throw FederationError(.invalidAgreement, "Agreement \"\(terms.id)\" is already terminated.")
        }
        state = .terminated
        terminatedAt = time
    }

    /// Checks every signature the state calls for against the domains' roots.
    public func verifySignatures(_ verification: AgreementVerification, at time: Date) throws {
        let content = try signedContent
        try verification.verify(proposal, over: content, by: terms.proposingDomain, at: time, expectedAddress: terms.proposer)
        if state != .proposed {
            guard let acceptance else {
                throw FederationError(.agreementSignature, "Agreement \"\(terms.id)\" is \(state.rawValue) but has no acceptance.")
            }
            try verification.verify(acceptance, over: content, by: terms.acceptingDomain, at: time)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case terms, state, proposal, acceptance, terminatedAt }

    private init(terms: BilateralTerms, state: AgreementState, proposal: Data, acceptance: Data?, terminatedAt: Date?) {
        self.terms = terms
        self.state = state
        self.proposal = proposal
        self.acceptance = acceptance
        self.terminatedAt = terminatedAt
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        terms = try container.decode(BilateralTerms.self, forKey: .terms)
        state = try container.decode(AgreementState.self, forKey: .state)
        proposal = try container.decode(Data.self, forKey: .proposal)
        acceptance = try container.decodeIfPresent(Data.self, forKey: .acceptance)
        terminatedAt = try container.decodeIfPresent(Date.self, forKey: .terminatedAt)
        guard (state == .proposed) == (acceptance == nil), (state == .terminated) == (terminatedAt != nil) else {
            throw FederationError(.invalidAgreement, "Agreement \"\(terms.id)\": its state and signatures do not fit together.")
        }
    }
}
