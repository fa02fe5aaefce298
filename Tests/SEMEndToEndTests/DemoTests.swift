// `semctl demo`, the README's main job, run as a person runs it.
import Foundation
import SEMTestSupport
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
                     "bob refuses it: refused as expected (certificate-revoked"] {
            #expect(result.output.contains(step), "missing step: \(step)")
        }

        let manifest = try JSONSerialization.jsonObject(with: try scratch.read("federation/MANIFEST.json"))
            as? [String: Any]
        let files = manifest?["files"] as? [String: [String]]
        #expect(files?["keyFiles"]?.contains("alpha.test/keys/issuing-ca.key.pem") == true)
        #expect(files?["certificates"]?.contains("beta.test/pki/root-ca.pem") == true)
        #expect((files?["storedBlobs"]?.count ?? 0) >= 1)
        #expect((manifest?["endpoints"] as? [String: Any])?.count == 3)
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
}
