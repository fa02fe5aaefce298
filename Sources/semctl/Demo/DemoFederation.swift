// The demo's federation on loopback: domains created in a directory, and each domain's
// servers started as separate `semd` processes on free ports.
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto
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

    /// The domain's CA service, opened in this process (as `semctl user add` does).
    func certificateAuthority(of domain: DemoDomain) throws -> CertificateAuthority {
        let keys = try domain.directory.caConfiguration().keys.open(relativeTo: domain.directory.url,
                                                                    environment: environment)
        return try openCertificateAuthority(domain.directory, keyStore: keys)
    }

    /// Starts `semd <role>` for `domain` and waits until it is ready.
    func start(_ role: String, of domain: DemoDomain) throws -> String {
        let child = try ChildProcess(
            name: "semd \(role) (\(domain.name))", executable: semd,
            arguments: [role, "--config", domain.directory.configurationURL(role: role).path, "--log-level", "warning"],
            environment: environment, readyText: "semd \(role) ready")
        DemoProcesses.shared.add(child)
        return "pid \(child.processIdentifier)"
    }
}
