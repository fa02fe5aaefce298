// The demo's federation on loopback: domains created in a directory, and each domain's
// servers started as separate `semd` processes on free ports.
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto
import SEMRegistry
import SEMTransport
import Synchronization

/// One domain of the demo with its running servers.
struct DemoDomain {
    let name: String
    let directory: DomainDirectory
    let pki: DomainPKI
    let ports: DomainDirectory.Ports

    var root: Certificate { pki.identity.root }
    var caEndpoint: String { "https://ca.\(name):\(ports.caHTTPS) (EST, directory), http://127.0.0.1:\(ports.caHTTP) (CRL, OCSP)" }
    var pdpEndpoint: String { "https://pdp.\(name):\(ports.pdpHTTPS)" }
    var mailEndpoint: String { "https://mail.\(name):\(ports.mailHTTPS) (client API), smtp 127.0.0.1:\(ports.smtp)" }
}

/// Every process the demo started, so that an interrupt can stop them all.
final class DemoProcesses: Sendable {
    static let shared = DemoProcesses()
    private let children = Mutex<[ChildProcess]>([])

    func add(_ child: ChildProcess) { children.withLock { $0.append(child) } }

    func stopAll() {
        let all = children.withLock { list -> [ChildProcess] in
            defer { list.removeAll() }
            return list
        }
        for child in all.reversed() { child.stop() }
    }
}

/// The demo's SMI leader.
struct DemoSMI {
    let directory: SMIDirectory
    let port: UInt16
    let client: SMIClient

    var url: String { "https://127.0.0.1:\(port)" }
    var settings: FederationSettings { FederationSettings(smi: url, refreshSeconds: 1) }
}

struct DemoFederation {
    let root: URL
    let passphrase: String
    let semd: URL

    var environment: [String: String] { ["SEM_KEY_PASSPHRASE": passphrase] }

    /// Creates `name` under the demo directory with fresh loopback ports.
    func createDomain(_ name: String) throws -> DemoDomain {
        let free = try EphemeralPorts.reserve(5)
        let ports = DomainDirectory.Ports(mailHTTPS: free[0], smtp: free[1], caHTTPS: free[2], caHTTP: free[3],
                                          pdpHTTPS: free[4])
        let directory = DomainDirectory(domain: name, parent: root)
        let pki = try DomainCommands.create(directory, keyConfiguration: .file(), ports: ports, host: "127.0.0.1",
                                            environment: environment)
        return DemoDomain(name: name, directory: directory, pki: pki, ports: ports)
    }

    /// Creates the SMI under the demo directory and starts `semd smi` as its leader.
    func startSMI() throws -> DemoSMI {
        let port = try EphemeralPorts.reserve(1)[0]
        let directory = SMIDirectory(url: root.appendingPathComponent("smi", isDirectory: true))
        try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let configuration = SMIConfiguration(https: Endpoint(host: "127.0.0.1", port: port))
        try directory.initialiseLeader(configuration: configuration,
                                       keyStore: try configuration.keys.open(relativeTo: directory.url, environment: environment))
        try startProcess("smi", name: "semd smi", configuration: directory.configurationURL)
        return DemoSMI(directory: directory, port: port,
                       client: try SMIClient(url: "https://127.0.0.1:\(port)", root: try directory.rootCertificate()))
    }

    /// Appends the operator's approval of `domain` to the SMI's log, as `semctl smi approve` does.
    func approve(_ domain: String, at smi: DemoSMI) throws -> UInt64 {
        let configuration = try smi.directory.configuration()
        let signer = try smi.directory.signer(keyStore: try configuration.keys.open(relativeTo: smi.directory.url,
                                                                                     environment: environment))
        return try smi.directory.openLog(configuration).append(
            .domainApproved, domain: domain, payload: StatusPayload(reason: "approved in the demo"), signer: signer).sequence
    }

    /// The domain's CA service, opened in this process (as `semctl user add` does).
    func certificateAuthority(of domain: DemoDomain) throws -> CertificateAuthority {
        let keys = try domain.directory.caConfiguration().keys.open(relativeTo: domain.directory.url,
                                                                    environment: environment)
        return try openCertificateAuthority(domain.directory, keyStore: keys)
    }

    /// Starts `semd <role>` for `domain` and waits until it is ready.
    func start(_ role: String, of domain: DemoDomain) throws -> String {
        try startProcess(role, name: "semd \(role) (\(domain.name))", configuration: domain.directory.configurationURL(role: role))
    }

    @discardableResult
    private func startProcess(_ role: String, name: String, configuration: URL) throws -> String {
        let child = try ChildProcess(name: name, executable: semd,
                                     arguments: [role, "--config", configuration.path, "--log-level", "warning"],
                                     environment: environment, readyText: "semd \(role) ready")
        DemoProcesses.shared.add(child)
        return "pid \(child.processIdentifier)"
    }
}
