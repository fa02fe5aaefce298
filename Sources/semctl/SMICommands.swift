// semctl smi ...: the SMI operator's commands. They work on the SMI directory directly
// (the operator's machine holds the log and the signer key); `semd smi` may be running
// at the same time, since every append is one SQLite transaction.
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto
import SEMRegistry

enum SMICommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first else { throw UsageError("Expected 'smi init|follower|register|update|approve|suspend|list|verify'.") }
        let rest = arguments.dropFirst()
        switch verb {
        case "init": return try initialise(rest)
        case "follower": return try follower(rest)
        case "register": return try FederationCommands.register(rest)
        case "update": return try FederationCommands.update(rest)
        case "approve", "suspend": return try changeStatus(verb, rest)
        case "list": return try list(rest)
        case "verify": return try verify(rest)
        case "reports": return try reports(rest)
        default: throw UsageError("Unknown command 'smi \(verb)'.")
        }
    }

    static func initialise(_ arguments: ArraySlice<String>) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["dir", "host", "port", "lifetime", "secret-file"])
        try parsed.expectPositionals(atMost: 0)
        let directory = SMIDirectory(url: URL(fileURLWithPath: parsed.value("dir") ?? "smi", isDirectory: true))
        var configuration = SMIConfiguration(https: try endpoint(parsed, defaultPort: 7443),
                                             keys: .file(secretFile: parsed.value("secret-file")))
        if let text = parsed.value("lifetime") {
            guard let seconds = Int(text), seconds >= 60 else { throw UsageError("--lifetime must be at least 60 seconds.") }
            configuration.trustListLifetimeSeconds = seconds
        }
        try createDirectory(directory)
        let keyStore = try configuration.keys.open(relativeTo: directory.url)
        let signer = try directory.initialiseLeader(configuration: configuration, keyStore: keyStore)
        print("created the SMI in \(directory.url.path)")
        print("federation anchor (give to every domain): \(directory.signerCertificateURL.path)")
        print("SMI root (for TLS to the SMI): \(directory.rootCertificateURL.path)")
        print("signer fingerprint (SHA-256): \(signer.certificate.fingerprint)")
        return 0
    }

    static func follower(_ arguments: ArraySlice<String>) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["smi-dir", "leader", "host", "port", "interval", "secret-file"])
        try parsed.expectPositionals(atMost: 1)
        let directory = SMIDirectory(url: URL(fileURLWithPath: try parsed.positional(0, "the follower's directory"),
                                              isDirectory: true))
        let leader = try smiDirectory(parsed)
        let leaderKeys = try leader.configuration().keys.open(relativeTo: leader.url)
        var configuration = SMIConfiguration(https: try endpoint(parsed, defaultPort: 7444),
                                             keys: .file(secretFile: parsed.value("secret-file")),
                                             leader: try parsed.required("leader"))
        if let text = parsed.value("interval") {
            guard let seconds = Double(text), seconds >= 0.1 else { throw UsageError("--interval must be at least 0.1 seconds.") }
            configuration.pullIntervalSeconds = seconds
        }
        try createDirectory(directory)
        try directory.initialiseFollower(configuration: configuration,
                                         keyStore: try configuration.keys.open(relativeTo: directory.url),
                                         leader: leader, leaderKeys: leaderKeys)
        print("created a follower of \(configuration.leader ?? "") in \(directory.url.path)")
        return 0
    }

    static func changeStatus(_ verb: String, _ arguments: ArraySlice<String>) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["smi-dir", "reason"])
        try parsed.expectPositionals(atMost: 1)
        let domain = try parsed.positional(0, "the domain").lowercased()
        let reason = verb == "approve" ? parsed.value("reason") ?? "approved by the SMI operator" : try parsed.required("reason")
        let directory = try smiDirectory(parsed)
        let configuration = try directory.configuration()
        guard configuration.leader == nil else { throw UsageError("This SMI directory is a follower; approve on the leader.") }
        let log = try directory.openLog(configuration)
        let signer = try directory.signer(keyStore: try configuration.keys.open(relativeTo: directory.url))
        let entry = try log.append(verb == "approve" ? .domainApproved : .domainSuspended, domain: domain,
                                   payload: StatusPayload(reason: reason), signer: signer)
        print("\(domain): \(verb == "approve" ? "approved" : "suspended") (log entry \(entry.sequence))")
        return 0
    }

    static func list(_ arguments: ArraySlice<String>) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["smi-dir"])
        try parsed.expectPositionals(atMost: 0)
        let directory = try smiDirectory(parsed)
        let log = try directory.openLog(try directory.configuration())
        let state = try log.state()
        print("log head: \(state.sequence)")
        for domain in state.domains.values.sorted(by: { $0.name < $1.name }) {
            let servers = domain.servers.map { "\($0.hostName) smtp=\($0.smtp) https=\($0.https)" }.joined(separator: ", ")
            print("domain \(domain.name) \(domain.status.rawValue) root=\(domain.rootCertificate.fingerprint.prefix(16)) \(servers)")
        }
        for agreement in state.agreements.values.sorted(by: { $0.terms.id < $1.terms.id }) {
            let terms = agreement.terms
            print("agreement \(terms.id) \(agreement.state.rawValue) \(terms.proposingDomain) <-> \(terms.acceptingDomain)")
        }
        if let list = try log.latestTrustList() {
            print("trust list: sequence \(list.sequence), log entry \(list.logHead), issued \(list.issuedAt)")
        }
        return 0
    }

    /// The abuse reports member domains filed, from the log.
    static func reports(_ arguments: ArraySlice<String>) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["smi-dir"])
        try parsed.expectPositionals(atMost: 0)
        let directory = try smiDirectory(parsed)
        let state = try directory.openLog(try directory.configuration()).state()
        if state.abuseReports.isEmpty { print("no abuse reports") }
        for recorded in state.abuseReports {
            let report = recorded.report
            print("entry \(recorded.sequence)  \(ISO8601DateFormatter().string(from: report.reportedAt))  \(report.domain) reports "
                  + "\(report.sender) (message \(report.messageId)): \(report.reason)")
        }
        return 0
    }

    static func verify(_ arguments: ArraySlice<String>) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["smi-dir"])
        try parsed.expectPositionals(atMost: 0)
        let directory = try smiDirectory(parsed)
        let log = try directory.openLog(try directory.configuration())
        let verdict = try log.verifyChain(trustedSigners: [try directory.signerCertificate()])
        print(verdict.isValid ? "log verifies: \(try log.head().sequence) entries" : "log does not verify: \(verdict)")
        return verdict.isValid ? 0 : 1
    }

    // MARK: Helpers

    static func smiDirectory(_ parsed: Arguments) throws -> SMIDirectory {
        guard let path = parsed.value("smi-dir") ?? ProcessInfo.processInfo.environment["SEM_SMI_DIR"] else {
            throw UsageError("Name the SMI directory with --smi-dir or $SEM_SMI_DIR.")
        }
        return SMIDirectory(url: URL(fileURLWithPath: path, isDirectory: true))
    }

    private static func endpoint(_ parsed: Arguments, defaultPort: UInt16) throws -> Endpoint {
        let port = try parsed.value("port").map { text -> UInt16 in
            guard let port = UInt16(text), port > 0 else { throw UsageError("--port must be a port from 1 to 65535.") }
            return port
        } ?? defaultPort
        return Endpoint(host: parsed.value("host") ?? "127.0.0.1", port: port)
    }

    private static func createDirectory(_ directory: SMIDirectory) throws {
        try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
