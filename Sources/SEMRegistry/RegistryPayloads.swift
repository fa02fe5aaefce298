// The payload of each entry kind. Each is a JSON object in the entry; federation data
// inside them uses the SEMFederation models, so the state folded from the log becomes a
// trust list without translation.
public import Foundation
public import SEMCrypto
public import SEMFederation

/// Payload of `domainRegistered`: the registration and the signed request it came in.
public struct RegistrationPayload: Sendable, Equatable, Codable {
    public var registration: DomainRegistration
    /// The administrator's CMS SignedData (DER) over the registration's canonical JSON,
    /// kept as evidence of who asked.
    public var request: Data

    public init(registration: DomainRegistration, request: Data) {
        self.registration = registration
        self.request = request
    }
}

/// Payload of `domainApproved` and `domainSuspended`: why, in words.
public struct StatusPayload: Sendable, Equatable, Codable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

// The four domain changes below keep the administrator's signed `DomainUpdate` (DER) as
// `request`; it is absent only when the SMI operator made the change on its own authority
// (the entry's signature is then the only evidence).

/// Payload of `profileUpdated`.
public struct ProfilePayload: Sendable, Equatable, Codable {
    public var profile: DomainProfile
    public var request: Data?

    public init(profile: DomainProfile, request: Data? = nil) {
        self.profile = profile
        self.request = request
    }
}

/// Payload of `serverAdded`.
public struct ServerPayload: Sendable, Equatable, Codable {
    public var server: TrustedServer
    public var request: Data?

    public init(server: TrustedServer, request: Data? = nil) {
        self.server = server
        self.request = request
    }
}

/// Payload of `serverRemoved`.
public struct ServerRemovalPayload: Sendable, Equatable, Codable {
    public var hostName: String
    public var request: Data?

    public init(hostName: String, request: Data? = nil) {
        self.hostName = hostName.lowercased()
        self.request = request
    }
}

/// Payload of `keyRolled`: the domain's new root CA certificate.
public struct KeyRollPayload: Sendable, Equatable, Codable {
    public var rootCertificate: Data
    public var request: Data?

    public init(rootCertificate: Certificate, request: Data? = nil) {
        self.rootCertificate = rootCertificate.derEncoded
        self.request = request
    }
}

/// Payload of `agreementProposed` and `agreementAccepted`: the agreement with the
/// administrators' signatures exactly as SEMFederation made them.
public struct AgreementPayload: Sendable, Equatable, Codable {
    public var agreement: BilateralAgreement

    public init(agreement: BilateralAgreement) { self.agreement = agreement }
}

/// Payload of `agreementTerminated`.
public struct TerminationPayload: Sendable, Equatable, Codable {
    public var agreementId: String
    /// The party's signed `TerminationRequest`, DER; absent when the SMI operator ends the
    /// agreement on its own authority (the entry's signature is then the only evidence).
    public var request: Data?

    public init(agreementId: String, request: Data? = nil) {
        self.agreementId = agreementId
        self.request = request
    }
}

/// Payload of `groupFormed` and `groupJoined`: the multilateral agreement with its member
/// signatures so far.
public struct GroupPayload: Sendable, Equatable, Codable {
    public var agreement: MultilateralAgreement

    public init(agreement: MultilateralAgreement) { self.agreement = agreement }
}
