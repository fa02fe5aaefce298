// Running pieces of a federation for end-to-end tests: an SMI leader, domains created by
// semctl, and a PDP asked over HTTPS with the mail server's certificate (curl).
import Foundation
import SEMCrypto
import SEMFederation
import SEMRegistry
import SEMTestSupport

/// An SMI directory created by `semctl smi init` and its running `semd smi`.
struct RunningSMI {
    let directory: String
    let url: String
    let process: BackgroundProcess
    let client: SMIClient
    let signer: Certificate

    static func start(in scratch: ScratchDirectory, name: String = "smi", port: UInt16, environment: [String: String],
                      initArguments: [String]? = nil) throws -> RunningSMI {
        let directory = scratch.path(name)
        let created = try Programs.run("semctl", initArguments ?? ["smi", "init", "--dir", directory, "--port", "\(port)"],
                                       environment: environment)
        guard created.status == 0 else { throw FixtureError("semctl smi init failed: \(created.all)") }
        let process = try BackgroundProcess(Programs.url("semd"), ["smi", "--config", "\(directory)/smi.json"],
                                            environment: environment, readyText: "semd smi ready")
        let url = "https://127.0.0.1:\(port)"
        return RunningSMI(directory: directory, url: url, process: process,
                          client: try SMIClient(url: url, root: try certificate("\(directory)/pki/smi-root.pem")),
                          signer: try certificate("\(directory)/pki/smi.pem"))
    }

    /// The served trust list, verified against the pinned signer.
    func trustList() throws -> TrustList {
        try TrustList.verify(try client.trustList(), pinnedSigner: signer, at: Date()).list
    }

    static func certificate(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: try String(contentsOfFile: path, encoding: .utf8))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Creates a domain with `semctl domain init` on five of `ports` (mail HTTPS, SMTP, CA
/// HTTPS, CA HTTP, PDP) and registers it with the SMI.
func createRegisteredDomain(_ name: String, in scratch: ScratchDirectory, ports: ArraySlice<UInt16>, smi: RunningSMI,
                            environment: [String: String], profile: String? = nil) throws {
    let ports = Array(ports)
    let created = try Programs.run("semctl", [
        "domain", "init", name, "--dir", scratch.url.path, "--mail-https-port", "\(ports[0])", "--smtp-port", "\(ports[1])",
        "--ca-https-port", "\(ports[2])", "--ca-http-port", "\(ports[3])", "--pdp-port", "\(ports[4])"],
        environment: environment)
    guard created.status == 0 else { throw FixtureError("domain init \(name) failed: \(created.all)") }
    var arguments = ["smi", "register", "--domain-dir", scratch.path(name), "--smi", smi.url, "--smi-root",
                     "\(smi.directory)/pki/smi-root.pem", "--smi-signer", "\(smi.directory)/pki/smi.pem", "--refresh", "0.3"]
    if let profile {
        try scratch.write("\(name)-profile.json", profile)
        arguments += ["--profile", scratch.path("\(name)-profile.json")]
    }
    let registered = try Programs.run("semctl", arguments, environment: environment)
    guard registered.status == 0 else { throw FixtureError("smi register \(name) failed: \(registered.all)") }
}

/// Asks a domain's PDP over HTTPS, presenting the domain's mail server certificate.
struct PDPProbe {
    let scratch: ScratchDirectory
    let domain: String
    let port: UInt16

    /// Exports the mail server's key for curl (unencrypted, inside the scratch directory).
    init(scratch: ScratchDirectory, domain: String, port: UInt16, environment: [String: String]) throws {
        self.scratch = scratch
        self.domain = domain
        self.port = port
        let exported = try scratch.run("openssl", ["pkey", "-in", scratch.path("\(domain)/keys/tls-mail.key.pem"),
                                                   "-passin", "env:SEM_KEY_PASSPHRASE", "-out", keyFile],
                                       environment: environment)
        guard exported.status == 0 else { throw FixtureError("cannot export the mail key: \(exported.errors)") }
    }

    private var keyFile: String { scratch.path("\(domain)-mail.key") }

    /// POSTs `body` to `path`; returns the HTTP status and the response body.
    func ask(_ path: String, _ body: String, certificate: Bool = true) throws -> (status: Int, body: String) {
        try scratch.write("\(domain)-request.json", body)
        var arguments = ["--silent", "--show-error", "--cacert", scratch.path("\(domain)/pki/root-ca.pem"),
                         "--resolve", "pdp.\(domain):\(port):127.0.0.1", "-H", "Content-Type: application/json",
                         "--data-binary", "@\(scratch.path("\(domain)-request.json"))", "--write-out", "\n%{http_code}",
                         "https://pdp.\(domain):\(port)\(path)"]
        if certificate {
            arguments += ["--cert", scratch.path("\(domain)/pki/tls-mail.pem"), "--key", keyFile]
        }
        let text = try scratch.run("curl", arguments).output
        let newline = text.lastIndex(of: "\n") ?? text.endIndex
        let status = newline < text.endIndex ? Int(text[text.index(after: newline)...]) ?? 0 : 0
        return (status, String(text[..<newline]))
    }

    /// The decision ("permit" or "deny") for `sender` sending to `recipient`.
    func decision(from sender: String, to recipient: String) throws -> String {
        let answer = try ask("/v1/decisions", """
            {"subject": {"kind": "user", "address": "\(sender)", "assurance": "substantial"},
             "action": "send", "resource": {"recipient": "\(recipient)", "size": 2048}}
            """)
        if answer.body.contains("\"decision\":\"permit\"") { return "permit" }
        if answer.body.contains("\"decision\":\"deny\"") { return "deny" }
        return "status \(answer.status): \(answer.body)"
    }
}

/// Polls `condition` every 0.2 s for up to `seconds`; returns whether it became true.
/// A throw counts as "not yet" (a server may still be starting or refreshing).
func eventually(within seconds: TimeInterval = 15, _ condition: () throws -> Bool) -> Bool {
    let deadline = Date() + seconds
    while Date() < deadline {
        if (try? condition()) == true { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return (try? condition()) == true
}
