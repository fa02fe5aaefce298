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
import Synchronization

/// The compiled policy of a domain and the facts it decides with.
public final class DomainPolicy: Sendable {
    /// How long a decision may be reused; short, so a policy change or a new trust list
    /// takes effect quickly (rate-limited decisions are never cached).
    public static let cacheTimeToLive: TimeInterval = 30

    public let engine: PolicyEngine
    public let domain: String
    /// The facts from the local file, which stay when the trust list goes stale, and
    /// what the last accepted trust list added (nil when there is none or it went stale).
    private let facts: Mutex<(local: ExternalFacts, fromList: ExternalFacts?, modified: Date?)>
    /// The local facts file, read again when it changes (`reloadFactsIfChanged`).
    let factsURL: URL?
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
        factsURL = facts.map { directory.path($0) }
        let (localFacts, modified) = try Self.readFacts(factsURL)
        engine = try PolicyEngine(json: document, facts: localFacts,
                                  options: PolicyEngineOptions(cacheTimeToLive: cacheTimeToLive), logger: logger)
        self.domain = domain
        self.facts = Mutex((localFacts, nil, modified))
        self.logger = logger
    }

    /// The facts in `url` and when the file was last changed; empty facts when it does not exist.
    private static func readFacts(_ url: URL?) throws -> (ExternalFacts, Date?) {
        guard let url, let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else {
            return (ExternalFacts(), nil)
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CredentialsError(.configurationInvalid, "Cannot read the facts \(url.lastPathComponent): \(error)")
        }
        return (try ExternalFacts.parse(data), attributes[.modificationDate] as? Date)
    }

    /// Reads the local facts file again when it changed since it was last read (an
    /// administrator added a recovery officer or suspended a sender) and decides with the
    /// new facts from then on. A file that no longer parses is logged and the old facts stay.
    @discardableResult
    public func reloadFactsIfChanged() -> Bool {
        guard let factsURL else { return false }
        let modified = (try? FileManager.default.attributesOfItem(atPath: factsURL.path))?[.modificationDate] as? Date
        guard modified != facts.withLock({ $0.modified }) else { return false }
        do {
            let (local, modified) = try Self.readFacts(factsURL)
            let fromList = facts.withLock { state in
                state.local = local
                state.modified = modified
                return state.fromList
            }
            _ = engine.updateFacts(fromList.map { local.merging($0) } ?? local)
            logger.notice("policy.facts.reloaded", ["file": factsURL.lastPathComponent])
            return true
        } catch {
            facts.withLock { $0.modified = modified }
            logger.error("policy.facts.unusable", ["file": factsURL.lastPathComponent, "error": "\(error)"])
            return false
        }
    }

    /// Checks the facts file every `interval` on a thread of its own, for the life of the process.
    public func watchFacts(every interval: TimeInterval = 2) {
        guard factsURL != nil else { return }
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: interval)
                reloadFactsIfChanged()
            }
        }
        thread.name = "facts \(domain)"
        thread.start()
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
            let local = facts.withLock { state in
                state.fromList = nil
                return state.local
            }
            _ = engine.updateFacts(local)
            logger.error("policy.trust-list.withdrawn", [:])
            return
        }
        do {
            let fromList = try list.externalFacts(for: domain)
            let local = facts.withLock { state in
                state.fromList = fromList
                return state.local
            }
            _ = engine.updateFacts(local.merging(fromList))
            logger.notice("policy.trust-list", ["sequence": list.sequence, "agreements": list.agreements.count])
        } catch {
            logger.error("policy.trust-list.unusable", ["sequence": list.sequence, "error": "\(error)"])
        }
    }
}
