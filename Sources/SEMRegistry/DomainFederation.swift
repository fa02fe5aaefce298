// How a domain reaches its federation: `federation.json` in the domain directory, written
// by `semctl smi register`, names the SMI server, the SMI root (for TLS to the SMI) and
// the registry signer (the pinned federation anchor), and where the last accepted trust
// list is cached. The domain's PDP reads it to import partners and agreements.
public import Foundation
public import SEMCredentials
public import SEMPolicy
import SEMFederation

/// `federation.json` of a domain directory.
public struct FederationSettings: Codable, Sendable, Equatable {
    /// The SMI server, `https://host:port`.
    public var smi: String
    /// The SMI root certificate (PEM), relative to the domain directory.
    public var smiRoot: String
    /// The registry signer certificate (PEM): the only federation trust anchor.
    public var smiSigner: String
    /// Where the last accepted signed trust list is kept, relative to the domain directory.
    public var trustListCache: String
    /// How often servers fetch the trust list, in seconds.
    public var refreshSeconds: Double
    /// How long past its nextUpdate a list is still used when no newer one arrives.
    public var gracePeriodSeconds: Double

    public init(smi: String, smiRoot: String = "pki/smi-root.pem", smiSigner: String = "pki/smi-signer.pem",
                trustListCache: String = "trust-list.der", refreshSeconds: Double = 60,
                gracePeriodSeconds: Double = 24 * 3600) {
        self.smi = smi
        self.smiRoot = smiRoot
        self.smiSigner = smiSigner
        self.trustListCache = trustListCache
        self.refreshSeconds = refreshSeconds
        self.gracePeriodSeconds = gracePeriodSeconds
    }
}

extension DomainDirectory {
    public var federationURL: URL { path("federation.json") }

    /// The domain's federation settings; nil when it has not joined a federation.
    public func federationSettings() throws -> FederationSettings? {
        guard FileManager.default.fileExists(atPath: federationURL.path) else { return nil }
        do {
            return try JSONDecoder().decode(FederationSettings.self, from: try Data(contentsOf: federationURL))
        } catch {
            throw RegistryError(.storage, "Cannot read \(federationURL.path): \(error)")
        }
    }

    public func writeFederationSettings(_ settings: FederationSettings) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(settings).write(to: federationURL, options: .atomic)
    }

    /// A client of the domain's SMI server.
    public func smiClient(_ settings: FederationSettings) throws -> SMIClient {
        try SMIClient(url: settings.smi, root: try SMIDirectory.readCertificate(path(settings.smiRoot)))
    }
}

extension ExternalFacts {
    /// These facts with `other`'s added: members of a group named in both are combined,
    /// agreements are concatenated.
    public func merging(_ other: ExternalFacts) -> ExternalFacts {
        var merged = self
        for (name, members) in other.groups {
            var combined = merged.groups[name] ?? GroupMembers()
            combined.addresses += members.addresses
            combined.domains += members.domains
            combined.servers += members.servers
            merged.groups[name] = combined
        }
        merged.agreements += other.agreements
        return merged
    }
}
