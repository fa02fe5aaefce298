// Abuse reports and suspension, as people do them: bob reports alice's letter with `sem
// report`, beta.test's administrator reads it, suspends alice (a PDP group the running PDP
// picks up from its facts file), and files the report with the SMI; alice's next letter is
// refused at beta.test's door, and a suspended local sender cannot submit at all.
import Foundation
import SEMTestSupport
import Testing

@Suite("abuse reports", .serialized)
struct AbuseReportTests {
    @Test("a reported foreign sender is suspended and refused on arrival; the SMI keeps the report; a suspended local sender cannot send")
    func reportAndSuspend() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        let alice = try SemClientTests.enrol(federation, "alice@alpha.test", token: false)
        let bob = try SemClientTests.enrol(federation, "bob@beta.test", token: false)
        let carol = try SemClientTests.enrol(federation, "carol@beta.test", token: false)
        let beta = ["--domain-dir", scratch.path("beta.test")]

        let first = try alice.sem(["send", "--to", "bob@beta.test", "--subject", "cheap watches"], input: "buy now\n")
        let firstID = try #require(first.output.split(separator: " ").dropFirst().first.map(String.init), "\(first.all)")
        #expect(eventually { try bob.sem(["sync"]).status == 0 && bob.sem(["inbox"]).output.contains(firstID) })

        let reported = try bob.sem(["report", firstID, "--reason", "unsolicited advertising"])
        #expect(reported.status == 0, "\(reported.all)")
        #expect(reported.output.contains("filed about alice@alpha.test"))
        let reportID = try #require(reported.output.split(separator: " ").dropFirst().first.map(String.init))
        // Only letters in one's own mailbox can be reported.
        #expect(try carol.sem(["report", firstID, "--reason", "not mine"]).status == 1)

        let listed = try federation.run("semctl", ["report", "list"] + beta)
        #expect(listed.output.contains(reportID) && listed.output.contains("bob@beta.test reports alice@alpha.test"),
                "\(listed.output)")
        #expect(listed.output.contains("unsolicited advertising"))

        // The administrator suspends alice; the PDP reads its facts file again by itself.
        let suspended = try federation.run("semctl", ["sender", "suspend", "alice@alpha.test"] + beta)
        #expect(suspended.output.contains("alice@alpha.test is suspended"))
        #expect(try federation.run("semctl", ["sender", "list"] + beta).output.contains("alice@alpha.test"))
        #expect(eventually { federation.process("pdp", of: "beta.test")?.standardError.contains("policy.facts.reloaded") == true })

        let second = try alice.sem(["send", "--to", "bob@beta.test", "--subject", "cheaper watches"], input: "buy more\n")
        let secondID = try #require(second.output.split(separator: " ").dropFirst().first.map(String.init), "\(second.all)")
        #expect(second.output.contains("bob@beta.test: queued"), "alpha.test has no reason to refuse it: \(second.output)")
        let bounced = eventually(within: 30) {
            try alice.sem(["sync"]).status == 0
                && alice.sem(["receipts"]).output.contains("NOT delivered to bob@beta.test (message \(secondID))")
        }
        #expect(bounced, "\((try? alice.sem(["receipts"]).output) ?? "")")
        #expect(try alice.sem(["receipts"]).output.contains("suspended-senders"))
        _ = try bob.sem(["sync"])
        #expect(!(try bob.sem(["inbox"]).output.contains(secondID)))

        // The report about a sender of another domain goes to the SMI, signed by beta's administrator.
        let filed = try federation.run("semctl", ["report", "file", reportID] + beta)
        #expect(filed.output.contains("filed with the SMI"), "\(filed.output)")
        let atSMI = try federation.run("semctl", ["smi", "reports", "--smi-dir", federation.smi.directory])
        #expect(atSMI.output.contains("beta.test reports alice@alpha.test") && atSMI.output.contains("unsolicited advertising"),
                "\(atSMI.output)")
        #expect(try Programs.run("semctl", ["smi", "verify", "--smi-dir", federation.smi.directory],
                                 environment: federation.environment).status == 0)

        // A local sender, once suspended, cannot submit.
        _ = try federation.run("semctl", ["sender", "suspend", "carol@beta.test"] + beta)
        #expect(eventually {
            let sent = try carol.sem(["send", "--to", "bob@beta.test", "--subject", "hello"], input: "hi\n")
            return sent.status == 1 && sent.output.contains("suspended-senders")
        })
        // Restored, she can.
        _ = try federation.run("semctl", ["sender", "restore", "carol@beta.test"] + beta)
        #expect(eventually {
            try carol.sem(["send", "--to", "bob@beta.test", "--subject", "hello again"], input: "hi\n").status == 0
        })
    }
}
