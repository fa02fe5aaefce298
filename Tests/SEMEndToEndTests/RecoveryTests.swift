// Key recovery driven through semctl against a running domain: officers enrolled over
// EST like users, letters signed and encrypted by openssl and delivered by the mail
// server, a request that one approval cannot open and two can, the policy refusing an
// officer it does not name, the mailbox exported decrypted and re-encrypted, and the
// audit log checked before and after a record is altered.
import Foundation
import SEMTestSupport
import Testing

@Suite("key recovery", .serialized)
struct RecoveryTests {
    @Test("2 of 3 officers: one approval recovers nothing, two export the mailbox; an altered audit record is found")
    func recoveryAndAudit() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        let domainDir = scratch.path("alpha.test")
        for officer in ["ann", "ben", "cat"] {
            try federation.enrol("\(officer)@alpha.test", encryption: true, assurance: "high")
        }
        try federation.enrol("alice@alpha.test", encryption: true)
        try federation.enrol("carol@alpha.test")
        try federation.enrol("rita@alpha.test", encryption: true)

        // carol writes to alice: signed (multipart/signed) and encrypted to alice's encryption certificate.
        var letters: [Data] = []
        for number in 1...2 {
            let letter = Data(("From: carol@alpha.test\r\nTo: alice@alpha.test\r\nSubject: Figures \(number)\r\n"
                               + "Date: Thu, 03 Dec 2026 10:0\(number):00 +0000\r\n\r\nTurnover line \(number) is final.\r\n").utf8)
            letters.append(letter)
            try scratch.write("letter\(number).eml", letter)
            let signed = try scratch.openssl(["cms", "-sign", "-binary", "-in", "letter\(number).eml", "-signer",
                                              "carol@alpha.test.pem", "-inkey", "carol@alpha.test.key", "-out",
                                              "signed\(number).eml"])
            #expect(signed.status == 0, "\(signed.errors)")
            let sealed = try scratch.openssl(["cms", "-encrypt", "-binary", "-aes-256-gcm", "-in", "signed\(number).eml",
                                              "-outform", "DER", "-out", "letter\(number).der", "alice@alpha.test-enc.pem"])
            #expect(sealed.status == 0, "\(sealed.errors)")
            let submitted = try federation.submit("carol@alpha.test", to: ["alice@alpha.test"],
                                                  content: try scratch.read("letter\(number).der"))
            #expect(submitted.status == 201, "\(submitted.answer)")
        }
        #expect(eventually { try federation.mailbox("alice@alpha.test").count == 2 })

        // The policy names ann and ben as officers, not cat.
        try scratch.write("alpha.test/facts.json", #"{"groups": {"recovery-officers": {"addresses": ["ann@alpha.test", "ben@alpha.test"]}}}"#)
        var environment = federation.environment
        environment["SEM_OFFICER_PASSPHRASE"] = "officer secret"
        for officer in ["ann", "ben", "cat"] {
            let wrapped = try scratch.run("openssl", ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "\(officer)@alpha.test-enc.key",
                                               "-passout", "env:SEM_OFFICER_PASSPHRASE", "-out", "\(officer)-officer.key"],
                                              environment: environment)
            #expect(wrapped.status == 0, "\(wrapped.errors)")
        }
        func semctl(_ arguments: [String]) throws -> ToolResult {
            try Programs.run("semctl", arguments + ["--domain-dir", domainDir], environment: environment)
        }
        func approve(_ id: String, _ officer: String) throws -> ToolResult {
            try semctl(["recovery", "approve", id, "--officer-cert", scratch.path("\(officer)@alpha.test-enc.pem"),
                        "--officer-key", scratch.path("\(officer)-officer.key")])
        }

        // A request before officers are set is refused.
        let early = try semctl(["recovery", "request", "--user", "alice@alpha.test", "--reason", "too early"])
        #expect(early.status == 1 && early.errors.contains("recovery-not-configured"), "\(early.all)")
        // A signing certificate cannot hold a share.
        let unsuitable = try semctl(["recovery", "officers", "set", "--threshold", "1", scratch.path("ann@alpha.test.pem")])
        #expect(unsuitable.status == 1, "\(unsuitable.all)")

        let set = try semctl(["recovery", "officers", "set", "--threshold", "2"]
                             + ["ann", "ben", "cat"].map { scratch.path("\($0)@alpha.test-enc.pem") })
        #expect(set.status == 0 && set.output.contains("any 2 of 3 recover"), "\(set.all)")
        let again = try semctl(["recovery", "officers", "set", "--threshold", "1", scratch.path("ann@alpha.test-enc.pem")])
        #expect(again.status == 1, "officers cannot be replaced silently: \(again.all)")

        let requested = try semctl(["recovery", "request", "--user", "alice@alpha.test", "--reason", "alice left the company"])
        #expect(requested.status == 0, "\(requested.all)")
        let id = try #require(requested.output.firstMatch(of: /request ([0-9a-f]{16}) opened/)?.1).description

        // One approval: export refuses and writes nothing.
        let first = try approve(id, "ann")
        #expect(first.status == 0 && first.output.contains("approval 1 of 2"), "\(first.all)")
        let tooFew = try semctl(["recovery", "export", id, "--out", scratch.path("early-export")])
        #expect(tooFew.status == 1 && tooFew.errors.contains("recovery-incomplete"), "\(tooFew.all)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("early-export")))

        // cat holds a share but the policy does not permit cat; ann cannot approve twice.
        let refused = try approve(id, "cat")
        #expect(refused.status == 1 && refused.errors.contains("policy denies"), "\(refused.all)")
        let twice = try approve(id, "ann")
        #expect(twice.status == 1, "\(twice.all)")
        // A wrong passphrase opens no share.
        var wrong = environment
        wrong["SEM_OFFICER_PASSPHRASE"] = "not it"
        let badKey = try Programs.run("semctl", ["recovery", "approve", id, "--officer-cert",
                                                 scratch.path("ben@alpha.test-enc.pem"), "--officer-key",
                                                 scratch.path("ben-officer.key"), "--domain-dir", domainDir],
                                      environment: wrong)
        #expect(badKey.status != 0, "\(badKey.all)")

        let second = try approve(id, "ben")
        #expect(second.status == 0 && second.output.contains("approval 2 of 2"), "\(second.all)")
        #expect(second.output.contains("alice@alpha.test is to be told"), "the default policy obliges notify-user")

        // Two approvals: the mailbox comes out as the letters carol signed.
        let exported = try semctl(["recovery", "export", id, "--out", scratch.path("export")])
        #expect(exported.status == 0 && exported.output.contains("2 letters exported"), "\(exported.all)")
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path("export")).sorted()
        #expect(files == ["0001.eml", "0002.eml", "index.json"])
        #expect(Set([try scratch.read("export/0001.eml"), try scratch.read("export/0002.eml")]) == Set(letters))
        let index = try JSONSerialization.jsonObject(with: try scratch.read("export/index.json")) as? [[String: Any]] ?? []
        #expect(index.map { $0["signature"] as? String } == ["verified", "verified"])
        #expect(Set(index.compactMap { $0["subject"] as? String }) == ["Figures 1", "Figures 2"])
        // The request is closed: its approvals cannot be used again.
        let replay = try semctl(["recovery", "export", id, "--out", scratch.path("replay")])
        #expect(replay.status == 1, "\(replay.all)")

        // A second request, exported re-encrypted to rita's certificate.
        let next = try semctl(["recovery", "request", "--user", "alice@alpha.test", "--reason", "legal hold",
                               "--requester-cert", scratch.path("rita@alpha.test-enc.pem")])
        let nextID = try #require(next.output.firstMatch(of: /request ([0-9a-f]{16}) opened/)?.1).description
        #expect(try approve(nextID, "ben").status == 0)
        #expect(try approve(nextID, "ann").status == 0)
        let sealedExport = try semctl(["recovery", "export", nextID, "--out", scratch.path("sealed"),
                                       "--to", scratch.path("rita@alpha.test-enc.pem")])
        #expect(sealedExport.status == 0, "\(sealedExport.all)")
        var opened: Set<Data> = []
        for name in ["0001.eml.p7m", "0002.eml.p7m"] {
            let decrypted = try scratch.openssl(["cms", "-decrypt", "-binary", "-inform", "DER", "-in", "sealed/\(name)",
                                                 "-inkey", "rita@alpha.test-enc.key", "-out", "\(name).out"])
            #expect(decrypted.status == 0, "\(decrypted.errors)")
            opened.insert(try scratch.read("\(name).out"))
        }
        #expect(opened == Set(letters))

        // The audit log: every step, signed and chained; notify-subject recorded.
        let verified = try semctl(["audit", "verify"])
        #expect(verified.status == 0 && verified.output.contains("audit log valid"), "\(verified.all)")
        let shown = try semctl(["audit", "show"]).output
        for action in ["officers-set", "request", "approval", "refusal", "export"] {
            #expect(shown.contains(" \(action) "), "\(action) missing from:\n\(shown)")
        }
        #expect(shown.contains("notify-subject: alice@alpha.test is to be told"))
        #expect(shown.contains("export needs 2 approvals"))

        // Altering one record (the first approval now gives another reason) breaks the chain there.
        let altered = try scratch.run("python3", ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            sequence, record = next((s, bytes(r)) for s, r in db.execute("SELECT sequence, record FROM audit_log ORDER BY sequence")
                                    if b"approval 1 of 2" in bytes(r))
            db.execute("UPDATE audit_log SET record = ? WHERE sequence = ?", (bytes(record).replace(b"alice left", b"alice stays"), sequence))
            db.commit()
            print(sequence)
            """, "\(domainDir)/ca.sqlite"])
        #expect(altered.status == 0, "\(altered.all)\n\(shown)")
        let brokenAt = altered.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let broken = try semctl(["audit", "verify"])
        #expect(broken.status == 1, "\(broken.all)")
        #expect(broken.output.contains("broken at record \(brokenAt): the CA's signature does not match"), "\(broken.all)")
    }
}
