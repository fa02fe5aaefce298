// semd ca: the certificate authority's HTTPS (EST, directory) and HTTP (CRL, OCSP) servers.
import Foundation
import SEMCredentials
import SEMCrypto
import SEMLogging
import SEMTransport

enum CARole {
    static func run(_ options: DaemonOptions) throws -> Int32 {
        let logger = options.logger("semd.ca")
        let directory = DomainDirectory(url: options.domainDirectory)
        let configuration = try directory.caConfiguration()
        let keyStore = try configuration.keys.open(relativeTo: directory.url)
        let ca = CertificateAuthority(
            identity: try directory.loadCAIdentity(keyStore: keyStore),
            store: try CAStore(path: directory.path(configuration.database).path),
            crlURL: configuration.crlURL, ocspURL: configuration.ocspURL,
            certificateLifetime: TimeInterval(configuration.certificateLifetimeDays) * 86400, logger: logger)
        let service = CAHTTPService(ca: ca, directoryRequestsPerMinute: configuration.directoryRequestsPerMinute)

        // HTTPS: client certificates are asked for (the directory needs them) and, when
        // sent, checked against the domain's root with the CA's own revocation records.
        let credential = try directory.loadServerCredential(role: "ca", keyStore: keyStore)
        let tls = try TLSContext(.server(
            chain: credential.chain, key: credential.key.key, clientAuthentication: .optional,
            peerVerifier: PathValidatingPeerVerifier(validator: ca.localValidator, purpose: .tlsClient)))
        let secure = try HTTPServer(
            configuration: HTTPServerConfiguration(listener: ListenerConfiguration(
                host: configuration.https.host, port: configuration.https.port, tls: tls, name: "ca-https")),
            router: service.secureRoutes(), logger: logger)
        let plain = try HTTPServer(
            configuration: HTTPServerConfiguration(
                listener: ListenerConfiguration(host: configuration.http.host, port: configuration.http.port,
                                                name: "ca-http"),
                targetLimits: HTTPTargetLimits(allowsEncodedSlash: true)),
            router: service.revocationRoutes(), logger: logger)
        secure.start()
        plain.start()
        announceReady("semd ca ready domain=\(configuration.domain) https=\(configuration.https.host):\(secure.port) "
                      + "http=\(configuration.http.host):\(plain.port)")
        StopSignal.wait()
        logger.notice("ca.stopping")
        _ = secure.shutdown(gracePeriod: .seconds(5))
        _ = plain.shutdown(gracePeriod: .seconds(5))
        return 0
    }
}
