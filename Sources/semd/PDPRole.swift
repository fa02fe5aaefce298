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
    static func run(_ options: DaemonOptions) throws -> Int32 {
        let logger = options.logger("semd.pdp")
        let directory = DomainDirectory(url: options.domainDirectory)
        let configuration = try directory.pdpConfiguration()
        let keyStore = try configuration.keys.open(relativeTo: directory.url)
        let policy = try DomainPolicy(directory: directory, configuration: configuration, logger: logger)
        let engine = policy.engine
        // A first list before the PDP answers anyone; the cached one stands if the SMI is down.
        let subscription = try directory.federationSettings().map {
            try TrustListSubscription(directory: directory, settings: $0, logger: logger, onUpdate: policy.adopt)
        }
        subscription?.refresh()
        subscription?.start()
        // Suspensions and officers are added to the facts file while the PDP runs.
        policy.watchFacts()

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
}
