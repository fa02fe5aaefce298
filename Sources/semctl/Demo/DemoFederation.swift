// The demo's federation on loopback: domains created in a directory, and each domain's
// servers started as separate `semd` processes on loopback ports (free ones, or a
// consecutive range from --base-port).
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

    private struct State {
        var children: [ChildProcess] = []
        var stopping = false
        var exitClaimed = false
    }
    private let state = Mutex(State())

    /// Launches `child` and registers it in one step under the lock `stopAll` takes, so
    /// that `stopAll` either finds it or keeps it from starting: an interrupt can never
    /// leave behind a child that a step was starting at that moment.
    func launch(_ child: ChildProcess) throws {
        try state.withLock { state in
            guard !state.stopping else { throw DemoFailure("the demo is stopping; \(child.name) was not started") }
            try child.launch()
            state.children.append(child)
        }
    }

    /// Decides, once, who ends the process: the demo finishing, or the interrupt handler.
    /// The first caller gets true; the other must not call exit (exit is not safe to call
    /// from two threads) and leaves stopping the children and ending to the first.
    func claimExit() -> Bool {
        state.withLock { state in
            defer { state.exitClaimed = true }
            return !state.exitClaimed
        }
    }

    func stopAll() {
        let all = state.withLock { state -> [ChildProcess] in
            state.stopping = true
            defer { state.children.removeAll() }
            return state.children
        }
        for child in all.reversed() { child.stop() }
    }
}

/// The demo's loopback ports: the SMI's, then five for each domain (mail API, SMTP, CA
/// EST, CA CRL/OCSP, PDP), in that order.
struct DemoPorts {
    let smi: UInt16
    let names: [String]
    let domains: [String: DomainDirectory.Ports]

    private static let perDomain = 5

    init(_ ports: [UInt16], domains names: [String]) {
        smi = ports[0]
        self.names = names
        var domains: [String: DomainDirectory.Ports] = [:]
        for (index, name) in names.enumerated() {
            let own = Array(ports[(1 + index * Self.perDomain)...].prefix(Self.perDomain))
            domains[name] = DomainDirectory.Ports(mailHTTPS: own[0], smtp: own[1], caHTTPS: own[2], caHTTP: own[3],
                                                  pdpHTTPS: own[4])
        }
        self.domains = domains
    }

    /// Ports the system reported free a moment ago.
    static func free(domains names: [String]) throws -> DemoPorts {
        DemoPorts(try LoopbackPorts.reserve(1 + perDomain * names.count), domains: names)
    }

    /// `base`, `base + 1`, … for a person who wants the same ports every run. Refused,
    /// naming the port and what it was for, when something already listens on one of them.
    static func consecutive(from base: String, domains names: [String]) throws -> DemoPorts {
        let count = 1 + perDomain * names.count
        guard let first = UInt16(base), first >= 1024, Int(first) + count - 1 <= Int(UInt16.max) else {
            throw UsageError("--base-port needs a number from 1024 to \(Int(UInt16.max) - count + 1) (the demo uses \(count) ports from it).")
        }
        let ports = DemoPorts((0..<count).map { first + UInt16($0) }, domains: names)
        for (port, use) in ports.uses where !LoopbackPorts.isFree(port) {
            throw DemoFailure("port \(port) on 127.0.0.1, needed for \(use), is already in use; "
                              + "stop what listens there or choose another --base-port.")
        }
        return ports
    }

    /// Every port with the endpoint it serves, in start order.
    var uses: [(port: UInt16, use: String)] {
        [(smi, "the SMI")] + names.flatMap { name -> [(port: UInt16, use: String)] in
            guard let own = domains[name] else { return [] }
            return [(own.mailHTTPS, "mail.\(name)'s client API"), (own.smtp, "mail.\(name)'s SMTP"),
                    (own.caHTTPS, "ca.\(name)'s EST"), (own.caHTTP, "ca.\(name)'s CRL and OCSP"),
                    (own.pdpHTTPS, "pdp.\(name)")]
        }
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
    let ports: DemoPorts

    var environment: [String: String] { ["SEM_KEY_PASSPHRASE": passphrase] }

    /// Creates `name` under the demo directory on the ports set aside for it.
    func createDomain(_ name: String) throws -> DemoDomain {
        guard let ports = ports.domains[name] else { throw DemoFailure("no ports were set aside for \(name)") }
        let directory = DomainDirectory(domain: name, parent: root)
        let pki = try DomainCommands.create(directory, keyConfiguration: .file(), ports: ports, host: "127.0.0.1",
                                            environment: environment)
        return DemoDomain(name: name, directory: directory, pki: pki, ports: ports)
    }

    /// Creates the SMI under the demo directory and starts `semd smi` as its leader.
    func startSMI() throws -> DemoSMI {
        let port = ports.smi
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
                                     environment: environment)
        try DemoProcesses.shared.launch(child)
        try child.waitUntilReady("semd \(role) ready")
        return "pid \(child.processIdentifier)"
    }
}
