// semd pdp: the policy decision point over HTTPS with mutual TLS.
import Foundation
import SEMCredentials
import SEMCrypto
import SEMLogging
import SEMFederation
import SEMPolicy
import SEMRegistry
import SEMTransport

enum PDPRole {
    /// How long a decision may be reused; short, so a policy change or a rate limit
    /// takes effect quickly (rate-limited decisions are never cached).
    static let cacheTimeToLive: TimeInterval = 30

    static func run(_ options: DaemonOptions) throws -> Int32 {
        let logger = options.logger("semd.pdp")
        let directory = DomainDirectory(url: options.domainDirectory)
        let configuration = try directory.pdpConfiguration()
        let keyStore = try configuration.keys.open(relativeTo: directory.url)
        let policy: Data
        do { policy = try Data(contentsOf: directory.path(configuration.policy)) } catch {
            throw CredentialsError(.configurationInvalid, "Cannot read the policy \(configuration.policy): \(error)")
        }
        var facts = ExternalFacts()
        if let factsFile = configuration.facts, FileManager.default.fileExists(atPath: directory.path(factsFile).path) {
            facts = try ExternalFacts.parse(try Data(contentsOf: directory.path(factsFile)))
        }
        let engine = try PolicyEngine(json: policy, facts: facts,
                                      options: PolicyEngineOptions(cacheTimeToLive: cacheTimeToLive), logger: logger)
        let subscription = try subscribe(directory, domain: configuration.domain, localFacts: facts, engine: engine,
                                         logger: logger)

        // Callers are the domain's servers: their certificates must chain to the domain
        // root and be unrevoked according to the CA's OCSP responder (CRL as fallback).
        let root = try directory.certificate(DomainPKI.KeyLabel.root)
        let issuing = try directory.certificate(DomainPKI.KeyLabel.issuing)
        let rootCRL = try CertificateRevocationList(derEncoded: try Data(contentsOf: directory.rootCRLURL))
        let validator = PathValidator(
            trustAnchors: [root], knownIntermediates: [issuing],
            revocationChecker: FirstAnswerRevocationChecker([RevocationEvidence(crls: [rootCRL]),
                                                             OnlineRevocationChecker()]))
        let credential = try directory.loadServerCredential(role: "pdp", keyStore: keyStore)
        let tls = try TLSContext(.server(chain: credential.chain, key: credential.key.key, clientAuthentication: .required,
                                         peerVerifier: PathValidatingPeerVerifier(validator: validator,
                                                                                  purpose: .tlsClient)))
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(listener: ListenerConfiguration(
                host: configuration.https.host, port: configuration.https.port, tls: tls, name: "pdp-https")),
            router: PDPHTTPService(engine: engine).routes(), logger: logger)
        server.start()
        announceReady("semd pdp ready domain=\(configuration.domain) https=\(configuration.https.host):\(server.port) "
                      + "rules=\(engine.document.rules.count)")
        StopSignal.wait()
        logger.notice("pdp.stopping")
        subscription?.stop()
        _ = server.shutdown(gracePeriod: .seconds(5))
        return 0
    }

    /// With federation.json, the facts become the local ones plus what the SMI's trust
    /// list says about this domain (registered servers, partners, agreements), replaced
    /// whenever a newer list is accepted, and only the local ones once it goes stale.
    static func subscribe(_ directory: DomainDirectory, domain: String, localFacts: ExternalFacts, engine: PolicyEngine,
                          logger: Logger) throws -> TrustListSubscription? {
        guard let settings = try directory.federationSettings() else { return nil }
        let subscription = try TrustListSubscription(directory: directory, settings: settings, logger: logger) { list in
            guard let list else {
                // Stale: no partner or registered server is vouched for any more.
                _ = engine.updateFacts(localFacts)
                logger.error("pdp.trust-list.withdrawn", [:])
                return
            }
            do {
                _ = engine.updateFacts(localFacts.merging(try list.externalFacts(for: domain)))
                logger.notice("pdp.trust-list", ["sequence": list.sequence, "agreements": list.agreements.count])
            } catch {
                logger.error("pdp.trust-list.unusable", ["sequence": list.sequence, "error": "\(error)"])
            }
        }
        // A first list before the PDP answers anyone; the cached one stands if the SMI is down.
        subscription.refresh()
        subscription.start()
        return subscription
    }
}
