// semd smi: the federation registry over HTTPS, as the leader (writes the log, signs trust
// lists) or as a follower (replicates the leader's log and mirrors its trust lists).
import Foundation
import SEMCrypto
import SEMLogging
import SEMRegistry
import SEMTransport

enum SMIRole {
    static func run(_ options: DaemonOptions) throws -> Int32 {
        let logger = options.logger("semd.smi")
        let directory = SMIDirectory(url: options.domainDirectory)
        let configuration = try directory.configuration()
        let keyStore = try configuration.keys.open(relativeTo: directory.url)
        let log = try directory.openLog(configuration, logger: logger)
        let mode: SMIRoleMode
        var follower: SMIFollower?
        if let leader = configuration.leader {
            let replication = SMIFollower(log: log, leader: try SMIClient(url: leader, root: try directory.rootCertificate()),
                                          pinnedSigner: try directory.signerCertificate(),
                                          interval: configuration.pullIntervalSeconds, logger: logger)
            follower = replication
            mode = .follower(leader: leader, replication: replication)
        } else {
            mode = .leader(signer: try directory.signer(keyStore: keyStore))
            // Refuse to serve a log that does not verify against our own signer.
            let verdict = try log.verifyChain(trustedSigners: [try directory.signerCertificate()])
            guard verdict.isValid else {
                throw RegistryError(.storage, "The registry log does not verify: \(verdict).")
            }
        }
        let credential = try directory.tlsCredential(keyStore: keyStore)
        let tls = try TLSContext(.server(chain: [credential.certificate], key: credential.key))
        let service = SMIHTTPService(log: log, mode: mode, configuration: configuration, logger: logger)
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(listener: ListenerConfiguration(
                host: configuration.https.host, port: configuration.https.port, tls: tls, name: "smi-https")),
            router: service.routes(), logger: logger)
        server.start()
        follower?.start()
        let head = try log.head().sequence
        announceReady("semd smi ready role=\(follower == nil ? "leader" : "follower") "
                      + "https=\(configuration.https.host):\(server.port) head=\(head)")
        StopSignal.wait()
        logger.notice("smi.stopping")
        follower?.stop()
        _ = server.shutdown(gracePeriod: .seconds(5))
        return 0
    }
}
