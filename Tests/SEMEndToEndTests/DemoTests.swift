// `semctl demo`, the README's main job, run as a person runs it.
import Foundation
import SEMLogging
import SEMTestSupport
import SEMTransport
import Testing

@Suite("semctl demo", .serialized)
struct DemoTests {
    @Test("the demo walks the whole scenario to exit 0, keeps its files when asked, and leaves no process behind")
    func demoRunsAndCleansUp() throws {
        let scratch = try ScratchDirectory()
        let keep = scratch.path("federation")
        let result = try Programs.run("semctl", ["demo", "--keep", keep])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.output.contains("Every step had the expected outcome."))
        #expect(!result.output.contains("FAIL"))
        for step in ["register alpha.test with the SMI", "the trust list leaves out domains not yet approved",
                     "the SMI operator approves beta.test", "trust list 3 carries it",
                     "alice may send to bob@beta.test: permit (rule partner-mail)",
                     "enrol alice@alpha.test over EST",
                     "mail.alpha.test delivers to mail.beta.test over SMTP with mutual TLS",
                     "alice sees the signed delivery notification",
                     "bob's signed receipt travels back, and alice verifies it",
                     "a server that is not registered tries to deliver to mail.beta.test: refused as expected (sender-refused",
                     "mail.alpha.test refuses alice's program for bob (policy): refused as expected",
                     "no longer logs in to mail.alpha.test: refused as expected", "bob validates alice's chain with OCSP",
                     "bob fetches and opens the attachment",
                     "alice sends a program as an attachment: refused as expected",
                     "alpha.test's policy: dave@alpha.test may not write to partner domains: rule interns-stay-inside",
                     "enrol dave@alpha.test over EST: signing key in an encrypted key file",
                     "enrol bob@beta.test over EST: signing key in an encrypted key file",
                     "mail.alpha.test refuses dave@alpha.test's letter for bob (policy forbids the sender): refused as "
                         + "expected (denied by rule 'interns-stay-inside'",
                     "bob refuses it: refused as expected (certificate-revoked"] {
            #expect(result.output.contains(step), "missing step: \(step)")
        }

        // alice's signing key is on a SoftHSM2 token exactly when SoftHSM2 is installed.
        let softHSM = try FileManager.default.fileExists(atPath: "/usr/lib/softhsm/libsofthsm2.so")
            && ExternalTool.run("sh", ["-c", "command -v softhsm2-util"]).status == 0
        #expect(result.output.contains("enrol alice@alpha.test over EST: signing key "
                                       + (softHSM ? "on SoftHSM2 token demo-alice" : "in an encrypted key file")))

        let manifest = try JSONSerialization.jsonObject(with: try scratch.read("federation/MANIFEST.json"))
            as? [String: Any]
        let files = manifest?["files"] as? [String: [String]]
        #expect(files?["keyFiles"]?.contains("alpha.test/keys/issuing-ca.key.pem") == true)
        #expect(files?["certificates"]?.contains("beta.test/pki/root-ca.pem") == true)
        // The 4 MiB attachment is held by both servers (beta.test fetched it once), and
        // every letter, notification and receipt is a stored message.
        let attachments = files?["storedAttachments"] ?? []
        #expect(attachments.contains { $0.hasPrefix("alpha.test/blobs/") } && attachments.contains { $0.hasPrefix("beta.test/blobs/") },
                "\(attachments)")
        let messages = files?["storedMessages"] ?? []
        #expect(messages.contains { $0.hasPrefix("alpha.test/blobs/") } && messages.contains { $0.hasPrefix("beta.test/blobs/") },
                "\(messages)")
        #expect(Set(attachments).isDisjoint(with: messages))
        let endpoints = manifest?["endpoints"] as? [String: [String: String]]
        #expect(endpoints?.count == 3)
        for domain in ["alpha.test", "beta.test"] {
            let keys = Set(endpoints?[domain].map { Array($0.keys) } ?? [])
            #expect(keys.isSuperset(of: ["ca-https", "ca-http", "pdp-https", "mail-https", "smtp"]), "\(domain): \(keys)")
        }
        #expect(endpoints?["smi"]?["https"]?.hasPrefix("127.0.0.1:") == true)
        #expect(files?["certificates"]?.contains("smi/pki/smi.pem") == true)
        let mode = try FileManager.default.attributesOfItem(atPath: scratch.path("federation/PASSPHRASE"))[.posixPermissions]
        #expect((mode as? NSNumber)?.intValue == 0o600)

        // Every semd the demo started has exited.
        let left = try ExternalTool.run("pgrep", ["-f", keep])
        #expect(left.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "left running: \(left.output)")
    }

    @Test("a second demo into the same --keep directory is refused with a clear line")
    func keepDirectoryInUse() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("used/alpha.test"), withIntermediateDirectories: true)
        let result = try Programs.run("semctl", ["demo", "--keep", scratch.path("used")])
        #expect(result.status == 2)
        #expect(result.errors.contains("already holds a demo"))
    }

    @Test("a port the demo needs that is already taken is refused in one line naming it, before anything starts")
    func portTaken() throws {
        let occupant = try Listener(configuration: ListenerConfiguration(port: 0, name: "occupant"), logger: .disabled) { _, _ in }
        defer { _ = occupant.shutdown(gracePeriod: .seconds(1)) }
        let scratch = try ScratchDirectory()
        let result = try Programs.run("semctl", ["demo", "--base-port", "\(occupant.port)", "--keep", scratch.path("federation")])
        #expect(result.status == 1, "\(result.all)")
        #expect(result.errors == "semctl: port \(occupant.port) on 127.0.0.1, needed for the SMI, is already in use; "
                                 + "stop what listens there or choose another --base-port.\n", "\(result.all)")
        #expect(result.output.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("federation")))
    }

    @Test("a missing or unusable semd is refused in one line naming it, before anything starts")
    func semdMissing() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("semd", "not a program\n")
        for semd in [scratch.path("nowhere/semd"), scratch.path("semd")] {
            let result = try Programs.run("semctl", ["demo", "--semd", semd, "--keep", scratch.path("federation")])
            #expect(result.status == 1, "\(result.all)")
            #expect(result.errors == "semctl: semd is missing or not executable at \(semd) (from --semd).\n", "\(result.all)")
            #expect(result.output.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: scratch.path("federation")))
        }
    }

    @Test("--serve prints every endpoint, serves on each, and Ctrl-C stops every semd and removes the directory")
    func serveUntilInterrupted() throws {
        let demo = try BackgroundProcess(Programs.url("semctl"), ["demo", "--serve"],
                                         readyText: "Serving until interrupted", timeout: 240)
        defer { demo.stop() }
        let output = demo.standardOutput
        let root = try #require(output.firstMatch(of: /Federation on loopback in (\S+)/)).output.1
        let block = try #require(output.split(separator: "\nEndpoints").last)
        var ports: [UInt16] = []
        for line in ["SMI ", "alpha.test CA    https://", "alpha.test CA    http://", "alpha.test PDP   https://",
                     "alpha.test mail  https://", "alpha.test SMTP  127.0.0.1:", "beta.test CA     https://",
                     "beta.test CA     http://", "beta.test PDP    https://", "beta.test mail   https://",
                     "beta.test SMTP   127.0.0.1:"] {
            let found = block.split(separator: "\n").first { $0.hasPrefix("  " + line) }
            let port = found.flatMap { $0.firstMatch(of: /127\.0\.0\.1:(\d+)/) }.flatMap { UInt16($0.output.1) }
            #expect(port != nil, "no endpoint line for \(line) in \(block)")
            if let port { ports.append(port) }
        }
        #expect(Set(ports).count == 11)
        // Something listens on every port printed.
        for port in ports { #expect(!LoopbackPorts.isFree(port), "nothing listens on \(port)") }
        #expect(try ExternalTool.run("pgrep", ["-f", String(root)]).output.split(separator: "\n").count == 7)

        #expect(kill(demo.processIdentifier, SIGINT) == 0)
        let deadline = Date() + 30
        while demo.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!demo.isRunning)
        #expect(demo.stop() == 130)
        #expect(demo.standardError.contains("interrupted; every process it started is stopped"))
        let left = try ExternalTool.run("pgrep", ["-f", String(root)])
        #expect(left.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "left running: \(left.output)")
        #expect(!FileManager.default.fileExists(atPath: String(root)))
    }

    @Test("Ctrl-C while the servers start stops the ones running and the one still starting")
    func interruptedWhileStarting() throws {
        let scratch = try ScratchDirectory()
        let keep = scratch.path("federation")
        // The line comes once semd ca is ready, and semd pdp is launched right after it:
        // the interrupt arrives while that one is still starting.
        let demo = try BackgroundProcess(Programs.url("semctl"), ["demo", "--keep", keep],
                                         readyText: "start semd ca for alpha.test", timeout: 240)
        defer { demo.stop() }
        #expect(kill(demo.processIdentifier, SIGINT) == 0)
        let deadline = Date() + 30
        while demo.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(demo.stop() == 130)
        let left = try ExternalTool.run("pgrep", ["-f", keep])
        #expect(left.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "left running: \(left.output)")
    }
}
