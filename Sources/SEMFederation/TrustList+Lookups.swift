// Questions relying parties ask the trust list: which domain is this, which server,
// whose certificate is this, and how to validate a domain's users.
//
// Server certificates are matched by EQUALITY with a listed certificate, not by chaining
// to the domain's root with a matching DNS name. Equality lets a domain's CA issue no
// certificate that another federation member accepts without the SMI's say, and makes a
// registered server's identity one exact key. The cost: a server that renews its
// certificate must be re-registered before peers accept the new one.
import Foundation
public import SEMCrypto

extension TrustList {
    /// The active domain called `name`, or nil when it is unlisted or suspended.
    public func domain(named name: String) -> TrustedDomain? {
        domains.first { $0.name == name.lowercased() && $0.status == .active }
    }

    /// The active domain called `name`; throws `.unknownDomain` saying whether it is
    /// suspended or unlisted.
    public func requireDomain(named name: String) throws -> TrustedDomain {
        let name = name.lowercased()
        guard let entry = domains.first(where: { $0.name == name }) else {
            throw FederationError(.unknownDomain, "The trust list names no domain \(name).")
        }
        guard entry.status == .active else { throw FederationError(.unknownDomain, "The domain \(name) is suspended.") }
        return entry
    }

    /// The server with host name `hostName` and its (active) domain.
    public func server(hostName: String) -> (domain: TrustedDomain, server: TrustedServer)? {
        let hostName = hostName.lowercased()
        for domain in domains where domain.status == .active {
            if let server = domain.servers.first(where: { $0.hostName == hostName }) { return (domain, server) }
        }
        return nil
    }

    /// The domain and server whose registered certificate equals `certificate` (the one a
    /// peer presented in TLS). Throws `.unknownCertificate` when none does.
    public func owner(ofServerCertificate certificate: Certificate) throws -> (domain: TrustedDomain, server: TrustedServer) {
        for domain in domains where domain.status == .active {
            if let server = domain.servers.first(where: { $0.certificate == certificate }) { return (domain, server) }
        }
        throw FederationError(.unknownCertificate,
                              "The certificate of \(certificate.subject) is not the registered certificate of any active server.")
    }

    /// A path validator that trusts `domain`'s root alone, for its users' certificates.
    public func userValidator(for domain: String, knownIntermediates: [Certificate] = [],
                              revocationChecker: any RevocationChecker) throws -> PathValidator {
        let entry = try requireDomain(named: domain)
        return PathValidator(trustAnchors: [entry.rootCertificate], knownIntermediates: knownIntermediates,
                             revocationChecker: revocationChecker)
    }

    /// Roots of all active domains by name (for agreement signatures).
    public var roots: [String: Certificate] {
        Dictionary(uniqueKeysWithValues: domains.filter { $0.status == .active }.map { ($0.name, $0.rootCertificate) })
    }
}
