// The SMI as operators and domain administrators use it: `semd smi` processes on loopback,
// `semctl smi` and `semctl agreement`, a domain's PDP following the trust list, and a
// follower that replicates the leader and refuses a tampered entry.
import Foundation
import SEMCredentials
import SEMCrypto
import SEMFederation
import SEMLogging
import SEMRegistry
import SEMTestSupport
import SEMTransport
import Testing

@Suite("SMI server", .serialized)
struct SMIServerTests {
    private let environment = ["SEM_KEY_PASSPHRASE": "smi server test"]
    private static let smallProfile = """
        {"assurance":"substantial","contentEncryption":["AES-256-GCM"],"digests":["SHA-256"],
         "keyManagement":["RSA-OAEP-SHA256","ECDH-P256-SHA256-KDF"],"maximumAttachmentBytes":10485760,
         "maximumMessageBytes":1048576,"minimumRSABits":3072,"receipts":"always",
         "signatures":["ECDSA-P256-SHA256"]}
        """

    private func semctl(_ arguments: [String]) throws -> ToolResult {
        try Programs.run("semctl", arguments, environment: environment)
    }

    @Test("registration, approval, an agreement's lifecycle, and a PDP that follows the trust list")
    func federationLifecycle() throws {
        let scratch = try ScratchDirectory()
        let ports = try FreePorts.allocate(11)
        let smi = try RunningSMI.start(in: scratch, port: ports[0], environment: environment)
        defer { smi.process.stop() }
        try createRegisteredDomain("alpha.test", in: scratch, ports: ports[1...5], smi: smi, environment: environment)
        try createRegisteredDomain("beta.test", in: scratch, ports: ports[6...10], smi: smi, environment: environment)

        // Registered but not approved: in the log, not in the list.
        #expect(try smi.trustList().domains.isEmpty)
        // The served list is CMS that openssl verifies up to the SMI root.
        try scratch.write("list.der", try smi.client.trustList())
        let verified = try scratch.openssl(["cms", "-verify", "-inform", "DER", "-in", scratch.path("list.der"),
                                            "-CAfile", "\(smi.directory)/pki/smi-root.pem", "-purpose", "any"])
        #expect(verified.status == 0, "\(verified.errors)")
        #expect(verified.output.contains("\"domains\":[]"))

        #expect(try semctl(["smi", "approve", "alpha.test", "--smi-dir", smi.directory]).status == 0)
        #expect(try smi.trustList().domains.map(\.name) == ["alpha.test"])
        #expect(try semctl(["smi", "approve", "beta.test", "--smi-dir", smi.directory]).status == 0)
        #expect(try smi.trustList().domains.map(\.name) == ["alpha.test", "beta.test"])

        // alpha's administrator changes its profile with a signed update; the next list has it.
        let alpha = scratch.path("alpha.test"), beta = scratch.path("beta.test")
        try scratch.write("alpha-new-profile.json", Self.smallProfile)
        let updated = try semctl(["smi", "update", "profile", "--profile", scratch.path("alpha-new-profile.json"),
                                  "--domain-dir", alpha])
        #expect(updated.status == 0, "\(updated.all)")
        #expect(updated.output.contains("profileUpdated recorded"), "\(updated.output)")
        #expect(try smi.trustList().domain(named: "alpha.test")?.profile.maximumMessageBytes == 1_048_576)
        // The same change for alpha signed by beta's administrator is refused, and nothing is appended.
        let forged = try DomainUpdate.profile(DomainProfile(), for: "alpha.test").signed(by: try administrator(of: beta))
        #expect(throws: HTTPRemoteError.self) { try smi.client.update(domain: "alpha.test", signedRequest: forged) }
        do { try smi.client.update(domain: "alpha.test", signedRequest: forged) } catch let error as HTTPRemoteError {
            #expect(error.status == 409, "\(error)")
            #expect(error.message.contains("does not chain to the root of alpha.test"), "\(error.message)")
        }
        #expect(try smi.trustList().domain(named: "alpha.test")?.profile.maximumMessageBytes == 1_048_576)

        let ca = try BackgroundProcess(Programs.url("semd"), ["ca", "--config", "\(alpha)/ca.json"],
                                       environment: environment, readyText: "semd ca ready")
        defer { ca.stop() }
        let pdp = try BackgroundProcess(Programs.url("semd"), ["pdp", "--config", "\(alpha)/pdp.json"],
                                        environment: environment, readyText: "semd pdp ready")
        defer { pdp.stop() }
        let probe = try PDPProbe(scratch: scratch, domain: "alpha.test", port: ports[5], environment: environment)
        #expect(try probe.decision(from: "alice@alpha.test", to: "bob@beta.test") == "deny")

        // Proposed by alpha, accepted by beta: the PDP imports the agreement.
        let unknownAlgorithm = try semctl(["agreement", "propose", "beta.test", "--id", "alpha-beta", "--algorithms",
                                           "ROT13", "--domain-dir", alpha])
        #expect(unknownAlgorithm.status != 0)
        #expect(unknownAlgorithm.errors.contains("unknown algorithm \"ROT13\""), "\(unknownAlgorithm.errors)")
        let proposed = try semctl(["agreement", "propose", "beta.test", "--id", "alpha-beta", "--receipts",
                                   "--senders", "alice@alpha.test", "--return-senders", "*@beta.test,staff",
                                   "--max-attachment", "1048576", "--algorithms", "AES-256-GCM", "--domain-dir", alpha])
        #expect(proposed.status == 0, "\(proposed.all)")
        #expect(try smi.trustList().agreements.isEmpty)
        let wrongParty = try semctl(["agreement", "accept", "alpha-beta", "--domain-dir", alpha])
        #expect(wrongParty.status != 0)
        #expect(wrongParty.errors.contains("proposed to beta.test"))
        let accepted = try semctl(["agreement", "accept", "alpha-beta", "--domain-dir", beta])
        #expect(accepted.status == 0, "\(accepted.all)")
        let listed = try smi.trustList()
        #expect(listed.agreements.map(\.terms.id) == ["alpha-beta"])
        #expect(listed.directionTerms(from: "alpha.test", to: "beta.test")?.receiptsRequired == true)
        #expect(listed.directionTerms(from: "alpha.test", to: "beta.test")?.attachments?.maximumBytes == 1_048_576)
        let directions = try #require(listed.agreements.first?.terms.directions)
        #expect(directions.map(\.senders).map { $0.map(\.text) } == [["alice@alpha.test"], ["*@beta.test"]])
        #expect(directions.map(\.senderGroups) == [[], ["staff"]])
        #expect(directions.first?.conditions.requiredAlgorithms == ["AES-256-GCM"])
        #expect(eventually { try probe.decision(from: "alice@alpha.test", to: "bob@beta.test") == "permit" },
                "\(pdp.standardError.suffix(2000))")
        #expect(try probe.decision(from: "alice@alpha.test", to: "carol@gamma.test") == "deny")
        // The direction admits alice only: the PDP holds another alpha user to it.
        #expect(try probe.decision(from: "mallory@alpha.test", to: "bob@beta.test") == "deny")

        // Terminated by beta with a signed request: gone from the next list, and from the PDP.
        let terminated = try semctl(["agreement", "terminate", "alpha-beta", "--domain-dir", beta])
        #expect(terminated.status == 0, "\(terminated.all)")
        #expect(try smi.trustList().agreements.isEmpty)
        #expect(eventually { try probe.decision(from: "alice@alpha.test", to: "bob@beta.test") == "deny" })
        let again = try semctl(["agreement", "terminate", "alpha-beta", "--domain-dir", alpha])
        #expect(again.status != 0)
        #expect(again.errors.contains("already terminated"), "\(again.errors)")

        // A multilateral agreement: formed by alpha, in force once beta joins, ended by beta.
        let formed = try semctl(["agreement", "group", "research", "--members", "beta.test", "--domain-dir", alpha])
        #expect(formed.status == 0, "\(formed.all)")
        #expect(try smi.trustList().multilateralAgreements.isEmpty)
        let joined = try semctl(["agreement", "join", "research", "--domain-dir", beta])
        #expect(joined.status == 0, "\(joined.all)")
        #expect(try smi.trustList().multilateralAgreements.map(\.joinedDomains) == [["alpha.test", "beta.test"]])
        #expect(eventually { try probe.decision(from: "alice@alpha.test", to: "bob@beta.test") == "permit" })
        #expect(try semctl(["agreement", "terminate", "research", "--domain-dir", beta]).status == 0)
        #expect(try smi.trustList().multilateralAgreements.isEmpty)
        #expect(eventually { try probe.decision(from: "alice@alpha.test", to: "bob@beta.test") == "deny" })

        // Suspending a domain takes it out of the list.
        #expect(try semctl(["smi", "suspend", "beta.test", "--reason", "audit", "--smi-dir", smi.directory]).status == 0)
        #expect(try smi.trustList().domains.map(\.name) == ["alpha.test"])
        let checked = try semctl(["smi", "verify", "--smi-dir", smi.directory])
        #expect(checked.status == 0)
        #expect(checked.output.contains("log verifies: 12 entries"), "\(checked.output)")
    }

    /// A domain administrator's CMS signer, read from the domain directory as semctl reads it.
    private func administrator(of domainDirectory: String) throws -> CMSSigner {
        let directory = DomainDirectory(url: URL(fileURLWithPath: domainDirectory, isDirectory: true))
        let keyStore = try directory.caConfiguration().keys.open(relativeTo: directory.url, environment: environment)
        return try CMSSigner(key: try keyStore.privateKey(label: DomainPKI.KeyLabel.administrator),
                             certificate: try directory.certificate(DomainPKI.KeyLabel.administrator),
                             chain: [try directory.certificate(DomainPKI.KeyLabel.issuing)])
    }

    @Test("a follower replicates the leader, refuses changes, and refuses an entry tampered with on the wire")
    func replication() throws {
        let scratch = try ScratchDirectory()
        let ports = try FreePorts.allocate(9)
        let smi = try RunningSMI.start(in: scratch, port: ports[0], environment: environment)
        defer { smi.process.stop() }
        try createRegisteredDomain("alpha.test", in: scratch, ports: ports[1...5], smi: smi, environment: environment,
                                   profile: Self.smallProfile)
        #expect(try semctl(["smi", "approve", "alpha.test", "--smi-dir", smi.directory]).status == 0)
        let profile = try #require(try smi.trustList().domain(named: "alpha.test")).profile
        #expect(profile.maximumMessageBytes == 1_048_576)
        #expect(profile.receipts.rawValue == "always")

        let follower = try startFollower(scratch, "follower", leader: smi.url, port: ports[6], smi: smi)
        defer { follower.process.stop() }
        #expect(eventually { try follower.client.status().trustListSequence != nil }, "\(follower.process.standardError)")
        #expect(try follower.client.status().head == 2)
        #expect(try follower.client.trustList() == (try smi.client.trustList()))
        #expect(try follower.trustList().domains.map(\.name) == ["alpha.test"])
        #expect(throws: HTTPRemoteError.self) { try follower.client.register(Data("{}".utf8)) }
        do { try follower.client.register(Data("{}".utf8)) } catch let error as HTTPRemoteError {
            #expect(error.status == 503)
            #expect(error.code == "read-only")
        }

        // A man in the middle holding the leader's TLS key alters entry 2 on the wire.
        let leaderDirectory = SMIDirectory(url: URL(fileURLWithPath: smi.directory))
        let leaderKeys = try leaderDirectory.configuration().keys.open(relativeTo: leaderDirectory.url,
                                                                       environment: environment)
        let proxy = try TamperingProxy(leader: smi.client, credential: try leaderDirectory.tlsCredential(keyStore: leaderKeys),
                                       port: ports[7])
        defer { proxy.stop() }
        let victim = try startFollower(scratch, "victim", leader: "https://127.0.0.1:\(ports[7])", port: ports[8], smi: smi)
        defer { victim.process.stop() }
        #expect(eventually { try victim.client.status().refusedEntry != nil }, "\(victim.process.standardError)")
        let status = try victim.client.status()
        #expect(status.head == 1)
        #expect(status.refusedEntry?.contains("entry 2") == true, "\(status.refusedEntry ?? "")")
        #expect(status.refusedEntry?.contains("signature-invalid") == true, "\(status.refusedEntry ?? "")")
        #expect(victim.process.standardError.contains("smi.follower.refused"))
        // Its log stops before the forgery and it serves no list its log cannot support.
        #expect(throws: HTTPRemoteError.self) { try victim.client.trustList() }
        #expect(try smi.client.status().head == 2)
    }

    private func startFollower(_ scratch: ScratchDirectory, _ name: String, leader: String, port: UInt16,
                               smi: RunningSMI) throws -> RunningSMI {
        try RunningSMI.start(in: scratch, name: name, port: port, environment: environment, initArguments: [
            "smi", "follower", scratch.path(name), "--leader", leader, "--smi-dir", smi.directory, "--port", "\(port)",
            "--interval", "0.2"])
    }
}

/// An HTTPS server with the leader's own TLS certificate that relays the leader's log and
/// trust list, changing one byte of entry 2 on the way.
final class TamperingProxy: Sendable {
    let server: HTTPServer

    init(leader: SMIClient, credential: CertifiedKey, port: UInt16) throws {
        var router = HTTPRouter<HTTPHandler>()
        router.add("GET", "/v1/log") { request in
            let after = UInt64(request.target.queryValue("after") ?? "0") ?? 0
            let entries = try leader.logEntries(after: after).enumerated().map { offset, bytes in
                after + UInt64(offset) + 1 == 2 ? bytes.replacingFirst("approved by", with: "approved bz") : bytes
            }
            return try .json(entries.map { $0.base64EncodedString() })
        }
        router.add("GET", "/v1/trust-list") { _ in
            HTTPResponse(headers: ["Content-Type": "application/cms"], bytes: try leader.trustList())
        }
        let tls = try TLSContext(.server(chain: [credential.certificate], key: credential.key))
        server = try HTTPServer(configuration: HTTPServerConfiguration(listener: ListenerConfiguration(
            host: "127.0.0.1", port: port, tls: tls, name: "tampering-proxy")), router: router, logger: .disabled)
        server.start()
    }

    func stop() { _ = server.shutdown(gracePeriod: .seconds(1)) }
}

extension Data {
    /// A copy with the first occurrence of `old` replaced by `new` (same length or not).
    func replacingFirst(_ old: String, with new: String) -> Data {
        guard let range = range(of: Data(old.utf8)) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: Data(new.utf8))
        return copy
    }
}
