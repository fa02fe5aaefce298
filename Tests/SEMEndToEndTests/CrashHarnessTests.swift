// The crash harness (scripts/crash-harness) in its quick form: ten SIGKILLs of semd mail,
// semd ca and semd smi while clients use them, then its checks. The full run (200 kill
// points and more) is left to the script; RELIABILITY.md records its figures.
import Foundation
import SEMTestSupport
import Testing

@Suite("Crash harness")
struct CrashHarnessTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/crash-harness")

    @Test("ten kill points: every accepted message arrives once, no serial twice, the SMI log verifies")
    func quickRun() throws {
        let scratch = try ScratchDirectory()
        let summaryFile = scratch.path("summary.json")
        let result = try ExternalTool.run("python3", [Self.script.path, "--quick", "--seed", "11",
                                                      "--bin", Programs.buildDirectory.path,
                                                      "--keep", scratch.path("federation")],
                                          environment: ["SEM_CRASH_SUMMARY": summaryFile])
        let tail = String(result.all.suffix(4000))
        #expect(result.status == 0, "\(tail)")
        let summary = try #require(try JSONSerialization.jsonObject(with: try scratch.read("summary.json")) as? [String: Any],
                                   "\(tail)")
        #expect(summary["problems"] as? [String] == [], "\(tail)")
        #expect(summary["killPoints"] as? Int == 10)
        let mail = try #require(summary["mail"] as? [String: Any])
        #expect((mail["accepted"] as? Int ?? 0) > 0, "no submission was accepted, so nothing was checked")
        for key in ["lost", "duplicated", "contentTwiceUnderAnotherId", "contentMismatch", "deliveryNotificationsMissing",
                    "deliveryNotificationsTwice", "senderCopyMissing"] {
            #expect(mail[key] as? Int == 0, "\(key): \(mail[key] ?? "absent")")
        }
        #expect((mail["queue"] as? [String: Int])?.keys.sorted() == ["delivered"])
        let ca = try #require(summary["ca"] as? [String: Any])
        #expect((ca["certificatesRecorded"] as? Int ?? 0) > 0)
        #expect(ca["serialsReused"] as? Int == 0)
        #expect(ca["certificatesTwiceForOneRequest"] as? Int == 0)
        #expect(ca["receivedButNotRecorded"] as? Int == 0)
        let smi = try #require(summary["smi"] as? [String: Any])
        #expect((smi["verify"] as? String)?.hasPrefix("log verifies") == true)
        #expect(smi["sequencesShared"] as? Int == 0)
    }
}
