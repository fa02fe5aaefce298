// Registration requests. A domain asks to join by sending a CMS SignedData (RFC 5652 §5)
// whose attached content is the canonical JSON of its registration, signed by its
// administrator. The administrator's certificate must chain to the root certificate in
// the same registration and name admin@<domain>, so the request proves that whoever
// holds the domain's root also stands behind the administrator.
//
// Revocation is soft-fail here: the root is brand new to the registry, which has no CRL
// or OCSP source for the domain yet; a revoked administrator certificate is caught by the
// SMI operator's approval step, which happens out of band before `domainApproved`.
public import Foundation
public import SEMCrypto
public import SEMFederation

/// What a domain registers: its root, its servers and its profile.
public struct DomainRegistration: Sendable, Equatable, Codable {
    public var domain: String
    public var rootCertificate: Certificate
    public var servers: [TrustedServer]
    public var profile: DomainProfile

    /// Bound on a signed request.
    public static let maximumRequestBytes = AdministratorSignature.maximumBytes

    public init(domain: String, rootCertificate: Certificate, servers: [TrustedServer], profile: DomainProfile = DomainProfile()) {
        self.domain = domain.lowercased()
        self.rootCertificate = rootCertificate
        self.servers = servers
        self.profile = profile
    }

    enum CodingKeys: String, CodingKey { case domain, rootCertificate, servers, profile }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        domain = try container.decode(String.self, forKey: .domain)
        let der = try container.decode(Data.self, forKey: .rootCertificate)
        do { rootCertificate = try Certificate(derEncoded: der) } catch {
            throw DecodingError.dataCorruptedError(forKey: .rootCertificate, in: container,
                                                   debugDescription: "the root certificate is not valid DER")
        }
        servers = try container.decode([TrustedServer].self, forKey: .servers)
        profile = try container.decode(DomainProfile.self, forKey: .profile)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(domain, forKey: .domain)
        try container.encode(rootCertificate.derEncoded, forKey: .rootCertificate)
        try container.encode(servers, forKey: .servers)
        try container.encode(profile, forKey: .profile)
    }

    /// The domain as a trust list entry with the given status.
    public func trustedDomain(status: DomainStatus = .active) -> TrustedDomain {
        TrustedDomain(name: domain, status: status, rootCertificate: rootCertificate, servers: servers, profile: profile)
    }

    /// Signs the registration as the domain's administrator: attached CMS SignedData, DER.
    public func signedRequest(by administrator: CMSSigner) throws -> Data {
        try administrator.sign(try CanonicalJSON.encode(self))
    }

    /// Checks a signed request and returns the registration it carries.
    ///
    /// - Throws: `RegistryError(.registrationRefused)` when the CMS does not verify, has
    ///   other than one signer, the content is not a canonical registration, the structure
    ///   would not fit a trust list, or the signer is not admin@<domain> chaining to the
    ///   registration's own root at `time`.
    public static func verify(request der: Data, at time: Date) throws -> DomainRegistration {
        func refuse(_ text: String) -> RegistryError { RegistryError(.registrationRefused, "The registration \(text).") }
        let verified = try AdministratorSignature.open(der, what: "registration request", code: .registrationRefused)
        let registration: DomainRegistration
        do { registration = try CanonicalJSON.decodeCanonical(DomainRegistration.self, from: verified.content) } catch let error as FederationError {
            throw refuse("is not a canonical registration: \(error.reason)")
        }
        // The structural rules of the trust list (names, endpoints, server certificates
        // naming their hosts, profile) apply from the start.
        do {
            try TrustList(sequence: 1, issuedAt: time, nextUpdate: time + 1, issuer: "registration check",
                          domains: [registration.trustedDomain()]).validate()
        } catch let error as FederationError {
            throw refuse("would not fit the trust list: \(error.reason)")
        }
        try AdministratorSignature.checkSigner(of: verified, domain: registration.domain,
                                               root: registration.rootCertificate, at: time,
                                               what: "registration", code: .registrationRefused)
        return registration
    }
}
