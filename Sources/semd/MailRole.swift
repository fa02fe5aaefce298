// semd mail: the domain's mail server. The client API and the federation routes over
// HTTPS, inbound SMTP from registered servers, and the outbound delivery queue.
import Foundation
import SEMCredentials
import SEMCrypto
import SEMLogging
import SEMMail
import SEMRegistry
import SEMTransport

enum MailRole {
    static func run(_ options: DaemonOptions) throws -> Int32 {
        let logger = options.logger("semd.mail")
        let directory = DomainDirectory(url: options.domainDirectory)
        let configuration = try directory.mailConfiguration()
        let keyStore = try configuration.keys.open(relativeTo: directory.url)
        let identity = try loadIdentity(directory, domain: configuration.domain, keyStore: keyStore)

        // Decisions in process, or from the domain's PDP over HTTPS.
        let embedded: DomainPolicy?
        switch configuration.pdpMode ?? "remote" {
        case "remote": embedded = nil
        case "embedded":
            embedded = try DomainPolicy(directory: directory, configuration: try directory.pdpConfiguration(), logger: logger)
            embedded?.watchFacts()
        default:
            throw CredentialsError(.configurationInvalid, "pdpMode in mail.json must be \"remote\" or \"embedded\".")
        }

        // The trust list: without federation.json the server handles local mail only. An
        // embedded policy takes each accepted list as `semd pdp` does.
        let federation = try directory.federationSettings()
        let subscription = try federation.map {
            try TrustListSubscription(directory: directory, settings: $0, logger: logger) { embedded?.adopt($0) }
        }
        subscription?.refresh()
        subscription?.start()
        let trustList: TrustListSource = {
            guard let subscription else { throw MailError(.unknownDomain, "This domain has not joined a federation.") }
            return try subscription.current()
        }
        let cache = federation.map { directory.path($0.trustListCache) }

        var settings = MailSettings()
        if let value = configuration.maximumMessageBytes { settings.maximumMessageBytes = value }
        if let value = configuration.maximumAttachmentBytes { settings.maximumAttachmentBytes = value }
        if let value = configuration.retrySchedule { settings.retrySchedule = value }
        if let value = configuration.scanner {
            _ = try ClamdScanner(endpoint: value)
            settings.scanner = value
        }
        if let value = configuration.legacyPeers {
            guard let policy = MailSettings.LegacyPolicy(rawValue: value) else {
                throw CredentialsError(.configurationInvalid, "legacyPeers in mail.json must be \"refuse\" or \"quarantine\".")
            }
            settings.legacyPeers = policy
        }
        let decisionPoint: any DecisionPoint = try embedded.map { EmbeddedDecisionPoint(engine: $0.engine) }
            ?? PDPClient(endpoint: configuration.pdp, domain: configuration.domain, identity: identity)
        let storage = try SQLiteMailStorage(databasePath: directory.path(configuration.database).path,
                                            blobDirectory: directory.path(configuration.blobs))
        // What a crash during a blob write left behind. A write in progress touches its
        // file with every piece it receives, and a client connection that sends nothing
        // for an hour has long timed out, so an hour-old file belongs to no one.
        let removed = try storage.removeInterruptedWrites(olderThan: 3600)
        if removed > 0 { logger.notice("mail.blobs.cleaned", ["removed": removed]) }
        let service = MailService(
            identity: identity,
            storage: storage,
            pdp: decisionPoint,
            trustList: trustList, settings: settings, caEndpoint: configuration.ca, logger: logger)

        let api = MailHTTPService(service: service, openAPI: try MailHTTPService.bundledOpenAPI()) {
            guard let cache else { throw MailError(.unknownDomain, "This domain has not joined a federation.") }
            return try Data(contentsOf: cache)
        }
        let httpsTLS = try TLSContext(.server(chain: identity.chain, key: identity.credential.key, clientAuthentication: .optional,
                                              peerVerifier: MailClientVerifier(identity: identity, trustList: trustList)))
        let https = try HTTPServer(
            configuration: HTTPServerConfiguration(listener: ListenerConfiguration(
                host: configuration.https.host, port: configuration.https.port, tls: httpsTLS, name: "mail-https")),
            router: api.routes(), logger: logger)

        // STARTTLS takes any client certificate; whether it is a registered server's is
        // decided at MAIL FROM (InboundSMTPHooks), so an unregistered peer hears a 5.7.x
        // sentence instead of a failed handshake.
        let smtpTLS = try TLSContext(.server(chain: identity.chain, key: identity.credential.key, clientAuthentication: .optional,
                                             peerVerifier: AnyCertificateHolder()))
        let smtp = try SMTPServer(
            configuration: SMTPListenerConfiguration(
                session: SMTPServerConfiguration(hostname: identity.hostName,
                                                 maxMessageSize: Int64(settings.maximumMessageBytes) + 1 << 20,
                                                 maxRecipients: 500,
                                                 // Legacy peers may not speak TLS; registered ones always do.
                                                 requireTLS: settings.legacyPeers == .refuse),
                tls: smtpTLS, host: configuration.smtp.host, port: configuration.smtp.port, name: "mail-smtp"),
            logger: logger, hooks: service.smtpHooks())
        let outbound = OutboundDelivery(service: service, interval: configuration.queueIntervalSeconds ?? 0.5, logger: logger)

        https.start()
        smtp.start()
        outbound.start()
        announceReady("semd mail ready domain=\(configuration.domain) https=\(configuration.https.host):\(https.port) "
                      + "smtp=\(configuration.smtp.host):\(smtp.port) pdp=\(embedded == nil ? "\(configuration.pdp)" : "embedded")")
        StopSignal.wait()
        logger.notice("mail.stopping")
        outbound.stop()
        subscription?.stop()
        smtp.shutdown(deadline: .now + .seconds(5))
        _ = https.shutdown(gracePeriod: .seconds(5))
        return 0
    }

    static func loadIdentity(_ directory: DomainDirectory, domain: String, keyStore: any KeyStore) throws -> MailServerIdentity {
        let credential = try directory.loadServerCredential(role: "mail", keyStore: keyStore)
        let root = try directory.certificate(DomainPKI.KeyLabel.root)
        let issuing = try directory.certificate(DomainPKI.KeyLabel.issuing)
        let rootCRL = try CertificateRevocationList(derEncoded: try Data(contentsOf: directory.rootCRLURL))
        let validator = PathValidator(
            trustAnchors: [root], knownIntermediates: [issuing],
            revocationChecker: FirstAnswerRevocationChecker([RevocationEvidence(crls: [rootCRL]), OnlineRevocationChecker()]))
        return MailServerIdentity(domain: domain, credential: credential.key, chain: credential.chain, root: root,
                                  issuing: issuing, localValidator: validator)
    }
}

/// Lets any certificate through the handshake; the SMTP hooks judge it against the trust list.
struct AnyCertificateHolder: TLSPeerVerifier {
    func verifyPeer(chain: [Certificate]) -> TLSPeerVerdict { .accept }
}
