// A domain's policy engine, loaded the one way both of its users load it: `semd pdp`,
// which answers over HTTPS, and a mail server that decides in its own process. The
// engine reads the policy file and the local facts file named in the configuration;
// with federation.json it also takes what the SMI's trust list says about the domain
// (registered servers, partners, agreements), replaced whenever a newer list is accepted.
public import Foundation
public import SEMCredentials
public import SEMFederation
public import SEMLogging
public import SEMPolicy

/// The compiled policy of a domain and the facts it decides with.
public final class DomainPolicy: Sendable {
    /// How long a decision may be reused; short, so a policy change or a new trust list
    /// takes effect quickly (rate-limited decisions are never cached).
    public static let cacheTimeToLive: TimeInterval = 30

    public let engine: PolicyEngine
    public let domain: String
    /// The facts from the local file, which stay when the trust list goes stale.
    let localFacts: ExternalFacts
    let logger: Logger

    /// Reads `policy` and, when it exists, `facts` (both relative to the domain
    /// directory) and compiles the engine. Throws `CredentialsError` for a file that
    /// cannot be read and `PolicyError` for one that does not follow docs/POLICY.md.
    public init(directory: DomainDirectory, domain: String, policy: String, facts: String?,
                cacheTimeToLive: TimeInterval? = DomainPolicy.cacheTimeToLive, logger: Logger = .disabled) throws {
        let document: Data
        do { document = try Data(contentsOf: directory.path(policy)) } catch {
            throw CredentialsError(.configurationInvalid, "Cannot read the policy \(policy): \(error)")
        }
        var localFacts = ExternalFacts()
        if let facts, FileManager.default.fileExists(atPath: directory.path(facts).path) {
            let data: Data
            do { data = try Data(contentsOf: directory.path(facts)) } catch {
                throw CredentialsError(.configurationInvalid, "Cannot read the facts \(facts): \(error)")
            }
            localFacts = try ExternalFacts.parse(data)
        }
        engine = try PolicyEngine(json: document, facts: localFacts,
                                  options: PolicyEngineOptions(cacheTimeToLive: cacheTimeToLive), logger: logger)
        self.domain = domain
        self.localFacts = localFacts
        self.logger = logger
    }

    /// The policy and facts named in the domain's pdp.json.
    public convenience init(directory: DomainDirectory, configuration: PDPConfiguration,
                            cacheTimeToLive: TimeInterval? = DomainPolicy.cacheTimeToLive, logger: Logger = .disabled) throws {
        try self.init(directory: directory, domain: configuration.domain, policy: configuration.policy,
                      facts: configuration.facts, cacheTimeToLive: cacheTimeToLive, logger: logger)
    }

    /// Takes a trust list into the facts: the local ones plus the list's, or only the
    /// local ones when `list` is nil (stale: no partner or registered server is vouched
    /// for any more). Meant as the `onUpdate` of a `TrustListSubscription`.
    public func adopt(_ list: TrustList?) {
        guard let list else {
            _ = engine.updateFacts(localFacts)
            logger.error("policy.trust-list.withdrawn", [:])
            return
        }
        do {
            _ = engine.updateFacts(localFacts.merging(try list.externalFacts(for: domain)))
            logger.notice("policy.trust-list", ["sequence": list.sequence, "agreements": list.agreements.count])
        } catch {
            logger.error("policy.trust-list.unusable", ["sequence": list.sequence, "error": "\(error)"])
        }
    }
}
