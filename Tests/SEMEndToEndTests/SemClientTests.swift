// The `sem` client driven as a person drives it, against the mail federation on loopback:
// alice with her signing key on a SoftHSM2 token, bob with key files; letters, attachments
// fetched on demand, receipts, contacts; the stores searched for plaintext; interop with
// openssl cms both ways; a tampered message and a revoked signer.
import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("sem client", .serialized)
struct SemClientTests {
    /// A user's client directory and how to run `sem` as that user.
    struct User {
        let federation: MailFederation
        let address: String
        let environment: [String: String]

        var home: String { environment["SEM_HOME"]! }

        @discardableResult
        func sem(_ arguments: [String], input: String? = nil) throws -> ToolResult {
            try Programs.run("sem", arguments, input: input.map { Data($0.utf8) }, environment: environment)
        }

        /// Copies the signing certificate and an opened copy of its key file to where
        /// MailFederation.api looks for a user's login (key-file users only).
        func exportLogin() throws {
            let scratch = federation.scratch
            try scratch.write("\(address).pem", try Data(contentsOf: URL(fileURLWithPath: "\(home)/pki/signing.pem")))
            let opened = try scratch.run("openssl", ["pkey", "-in", "\(home)/keys/sem-signing.key.pem", "-passin",
                                                      "env:SEM_KEY_PASSPHRASE", "-out", "\(address).key"],
                                         environment: environment)
            guard opened.status == 0 else { throw FixtureError("openssl pkey: \(opened.errors)") }
        }
    }

    /// Adds `address` and enrols it with `sem enroll`, on a new SoftHSM2 token when `token`.
    static func enrol(_ federation: MailFederation, _ address: String, token: Bool, extra: [String] = [],
                      environment extraEnvironment: [String: String] = [:]) throws -> User {
        let scratch = federation.scratch
        let domain = String(address.split(separator: "@")[1])
        let added = try federation.run("semctl", ["user", "add", address, "--domain-dir", scratch.path(domain)])
        let code = try #require(added.output.range(of: #"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}"#, options: .regularExpression))
        var environment = federation.environment
        environment["SEM_HOME"] = scratch.path("home-\(address)")
        environment.merge(extraEnvironment) { $1 }
        var tokenArguments: [String] = []
        if token {
            try FileManager.default.createDirectory(atPath: scratch.path("tokens"), withIntermediateDirectories: true)
            try scratch.write("softhsm2.conf", "directories.tokendir = \(scratch.path("tokens"))\nobjectstore.backend = file\n")
            environment["SOFTHSM2_CONF"] = scratch.path("softhsm2.conf")
            environment["SEM_TOKEN_PIN"] = "2468-\(UUID().uuidString.prefix(6))"
            let made = try scratch.run("softhsm2-util", ["--init-token", "--free", "--label", "card-\(address)", "--so-pin",
                                                         "so-pin-1234", "--pin", environment["SEM_TOKEN_PIN"]!],
                                       environment: environment)
            #expect(made.status == 0, "\(made.all)")
            tokenArguments = ["--token", "card-\(address)"]
        }
        let ports = federation.ports[domain]!
        let user = User(federation: federation, address: address, environment: environment)
        let enrolled = try user.sem(["enroll", "--server", "https://127.0.0.1:\(ports[2])", "--mail", "127.0.0.1:\(ports[0])",
                                     "--root", scratch.path("\(domain)/pki/root-ca.pem"), "--address", address,
                                     "--code", String(added.output[code]),
                                     "--smi-signer", "\(federation.smi.directory)/pki/smi.pem"] + tokenArguments + extra)
        #expect(enrolled.status == 0, "\(enrolled.all)")
        return user
    }

    @Test("alice on a token and bob with key files: a letter, an attachment on demand, a receipt, contacts, no plaintext at rest")
    func letterAndReceipt() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        let alice = try Self.enrol(federation, "alice@alpha.test", token: true)
        let bob = try Self.enrol(federation, "bob@beta.test", token: false)
        #expect(!FileManager.default.fileExists(atPath: "\(alice.home)/keys/sem-signing.key.pem"))
        #expect(FileManager.default.fileExists(atPath: "\(bob.home)/keys/sem-signing.key.pem"))

        let report = try scratch.run("python3", ["-c", "import os,sys; sys.stdout.buffer.write(os.urandom(300000))"])
        try scratch.write("plans.bin", report.outputData)
        try scratch.write("note.txt", "Nightingale milestones\n")
        let sent = try alice.sem(["send", "--to", "bob@beta.test", "--subject", "Project Nightingale", "--attach",
                                  scratch.path("plans.bin"), "--attach", scratch.path("note.txt"), "--receipt"],
                                 input: "Dear Bob, the Nightingale plans are attached.\n")
        #expect(sent.status == 0, "\(sent.all)")
        #expect(sent.output.contains("bob@beta.test: queued"))
        let id = try #require(sent.output.split(separator: " ").dropFirst().first.map(String.init))

        #expect(eventually { try bob.sem(["sync"]).status == 0 && bob.sem(["inbox"]).output.contains(id) })
        let inbox = try bob.sem(["inbox", "--json"])
        #expect(inbox.output.contains("\"verdict\" : \"valid\""), "\(inbox.output)")
        #expect(inbox.output.contains("Project Nightingale"))

        // The attachment is not fetched until asked for.
        let alphaLog = { federation.process("mail", of: "alpha.test")?.standardError ?? "" }
        #expect(!alphaLog().contains("mail.attachment.served"))
        let read = try bob.sem(["read", id])
        #expect(read.status == 0, "\(read.all)")
        #expect(read.output.contains("Signature: valid, signed by CN=alice@alpha.test"))
        #expect(read.output.contains("plans.bin (300000 bytes, fetched on demand)"))
        #expect(read.output.contains("A signed receipt was sent"))
        #expect(!alphaLog().contains("mail.attachment.served"))
        let saved = try bob.sem(["attachment", "save", id, "2", scratch.path("saved.bin")])
        #expect(saved.status == 0, "\(saved.all)")
        #expect(try scratch.read("saved.bin") == report.outputData)
        #expect(alphaLog().contains("mail.attachment.served"))

        // alice sees the delivery notification and bob's signed receipt, both verified.
        let confirmed = eventually {
            try alice.sem(["sync"]).status == 0
                && alice.sem(["receipts"]).output.components(separatedBy: "\n").filter { $0.hasPrefix("ok ") }.count == 2
        }
        #expect(confirmed, "\((try? alice.sem(["receipts"]).output) ?? "")")
        let receipts = try alice.sem(["receipts"]).output
        #expect(receipts.contains("delivered to bob@beta.test"))
        #expect(receipts.contains("signed receipt for message \(id)"))

        // Contacts travel to the server as ciphertext and come back on another sync.
        #expect(try alice.sem(["contacts", "add", "Robert Nightingale-Builder", "bob@beta.test"]).status == 0)
        #expect(try alice.sem(["contacts", "list"]).output.contains("Robert Nightingale-Builder <bob@beta.test>"))

        // Nothing at rest holds the subject, the body, the attachment name or the contact name.
        let secrets = ["Nightingale", "Dear Bob", "Robert"]
        for root in [alice.home, bob.home, scratch.path("alpha.test"), scratch.path("beta.test")] {
            let found = try scratch.run("grep", ["-r", "-l", "-a", "-e", secrets[0], "-e", secrets[1], "-e", secrets[2], root])
            #expect(found.output.isEmpty, "plaintext found in \(found.output)")
        }

        // Neither the token PIN nor the key-file passphrase reaches a file, a log or an output.
        let pin = try #require(alice.environment["SEM_TOKEN_PIN"])
        let passphrase = try #require(federation.environment["SEM_KEY_PASSPHRASE"])
        for root in [alice.home, bob.home, scratch.path("alpha.test"), scratch.path("beta.test")] {
            let found = try scratch.run("grep", ["-r", "-l", "-a", "-F", "-e", pin, "-e", passphrase, root])
            #expect(found.output.isEmpty, "a secret found in \(found.output)")
        }
        let logs = ["alpha.test", "beta.test"].flatMap { domain in
            ["ca", "pdp", "mail"].compactMap { federation.process($0, of: domain)?.standardError }
        }
        for text in logs + [sent.all, read.all, saved.all] {
            #expect(!text.contains(pin) && !text.contains(passphrase), "a secret in: \(text.prefix(200))")
        }
    }

    @Test("openssl cms and sem read each other's letters; a tampered letter and a revoked signer are refused with reasons")
    func interopAndRefusals() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        let alice = try Self.enrol(federation, "alice@alpha.test", token: false)
        let bob = try Self.enrol(federation, "bob@beta.test", token: false)

        // sem → openssl: bob's encryption key file opens alice's letter.
        let sent = try alice.sem(["send", "--to", "bob@beta.test", "--subject", "for openssl"], input: "plain words\n")
        let id = try #require(sent.output.split(separator: " ").dropFirst().first.map(String.init))
        #expect(eventually { try bob.sem(["sync"]).status == 0 && bob.sem(["inbox"]).output.contains(id) })
        try alice.exportLogin()
        try bob.exportLogin()
        let content = try federation.api(bob.address, "/v1/messages/\(id)/content")
        try scratch.write("letter.eml", content.body)
        let key = try scratch.run("openssl", ["pkey", "-in", "\(bob.home)/keys/sem-encryption.key.pem", "-passin",
                                               "env:SEM_KEY_PASSPHRASE", "-out", "bob-enc.key"], environment: bob.environment)
        #expect(key.status == 0, "\(key.errors)")
        let decrypted = try scratch.openssl(["cms", "-decrypt", "-in", "letter.eml", "-recip", "\(bob.home)/pki/encryption.pem",
                                             "-inkey", "bob-enc.key", "-out", "inner.eml"])
        #expect(decrypted.status == 0, "\(decrypted.errors)")
        let verified = try scratch.openssl(["cms", "-verify", "-in", "inner.eml", "-CAfile",
                                            scratch.path("alpha.test/pki/root-ca.pem"), "-certfile",
                                            "\(alice.home)/pki/chain.pem", "-purpose", "any"])
        #expect(verified.status == 0, "\(verified.errors)")
        #expect(verified.output.contains("plain words"))

        // openssl → sem: signed by alice's key with openssl, encrypted to bob, submitted through the API.
        try scratch.write("mail.txt", "From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: made by openssl\r\n\r\nhand made\r\n")
        let aliceKey = try scratch.run("openssl", ["pkey", "-in", "\(alice.home)/keys/sem-signing.key.pem", "-passin",
                                                    "env:SEM_KEY_PASSPHRASE", "-out", "alice.key"], environment: alice.environment)
        #expect(aliceKey.status == 0)
        let signed = try scratch.openssl(["cms", "-sign", "-in", "mail.txt", "-signer", "\(alice.home)/pki/signing.pem",
                                          "-inkey", "alice.key", "-certfile", "\(alice.home)/pki/chain.pem", "-crlfeol",
                                          "-out", "signed.eml"])
        #expect(signed.status == 0, "\(signed.errors)")
        // -crlfeol: the canonical CRLF form mail has on the wire (RFC 5322 §2.1).
        let sealed = try scratch.openssl(["cms", "-encrypt", "-aes-256-gcm", "-crlfeol", "-in", "signed.eml", "-out", "sealed.eml",
                                          "\(bob.home)/pki/encryption.pem"])
        #expect(sealed.status == 0, "\(sealed.errors)")
        let submitted = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: try scratch.read("sealed.eml"))
        let handMade = try #require(submitted.answer["messageId"] as? String, "\(submitted.answer)")
        #expect(eventually { try bob.sem(["sync"]).status == 0 && bob.sem(["inbox"]).output.contains(handMade) })
        let read = try bob.sem(["read", handMade, "--no-receipt"])
        #expect(read.status == 0, "\(read.errors)")
        #expect(read.output.contains("hand made"))
        #expect(read.output.contains("Signature: valid"))

        // A program inside a letter the server could not look into: bob's client asks the
        // policy before it saves it, and the default policy forbids programs.
        try scratch.write("program.txt", "From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: a tool\r\n"
                          + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
                          + "run this\r\n--b1\r\nContent-Type: application/x-msdownload\r\nContent-Transfer-Encoding: base64\r\n"
                          + "Content-Disposition: attachment; filename=\"tool.exe\"\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b1--\r\n")
        #expect(try scratch.openssl(["cms", "-sign", "-in", "program.txt", "-signer", "\(alice.home)/pki/signing.pem",
                                     "-inkey", "alice.key", "-certfile", "\(alice.home)/pki/chain.pem", "-nodetach",
                                     "-binary", "-out", "program-signed.eml"]).status == 0)
        #expect(try scratch.openssl(["cms", "-encrypt", "-aes-256-gcm", "-binary", "-in", "program-signed.eml", "-out",
                                     "program-sealed.eml", "\(bob.home)/pki/encryption.pem"]).status == 0)
        let program = try federation.submit("alice@alpha.test", to: ["bob@beta.test"],
                                            content: try scratch.read("program-sealed.eml"))
        let programID = try #require(program.answer["messageId"] as? String, "\(program.answer)")
        #expect(eventually { try bob.sem(["sync"]).status == 0 && bob.sem(["inbox"]).output.contains(programID) })
        let blocked = try bob.sem(["attachment", "save", programID, "1", scratch.path("tool.exe")])
        #expect(blocked.status == 1)
        #expect(blocked.errors.contains("may not be saved") && blocked.errors.contains("no-executables"), "\(blocked.errors)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("tool.exe")))

        // The same program given to sem send is refused at submission with the policy's reason.
        try scratch.write("tool.exe", Data([0x4D, 0x5A, 0x90, 0x00]))
        let refusedSend = try alice.sem(["send", "--to", "bob@beta.test", "--subject", "a tool", "--attach",
                                         scratch.path("tool.exe")], input: "run this\n")
        #expect(refusedSend.status == 1)
        #expect(refusedSend.output.contains("bob@beta.test: refused") && refusedSend.output.contains("no-executables"),
                "\(refusedSend.all)")
        try FileManager.default.removeItem(atPath: scratch.path("tool.exe"))

        // A letter altered on the way is refused with its reason.
        var altered = try scratch.read("sealed.eml")
        let marker = Data("\r\n\r\n".utf8)
        let bodyStart = try #require(altered.range(of: marker)).upperBound
        altered[bodyStart + 200] = altered[bodyStart + 200] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let tampered = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: altered)
        let tamperedID = try #require(tampered.answer["messageId"] as? String)
        #expect(eventually { try bob.sem(["sync"]).status == 0 && bob.sem(["inbox"]).output.contains(tamperedID) })
        #expect(try bob.sem(["inbox"]).output.contains("BAD \(tamperedID)"))
        let refused = try bob.sem(["read", tamperedID])
        #expect(refused.status == 1)
        #expect(refused.errors.contains("does not open or its signature does not verify"), "\(refused.errors)")

        // On a terminal, a passphrase missing from the environment is asked for, with echo off.
        var typing = bob.environment
        let passphrase = try #require(typing["SEM_KEY_PASSPHRASE"])
        typing.removeValue(forKey: "SEM_KEY_PASSPHRASE")
        typing["TYPED_SECRET"] = passphrase
        let terminal = """
            import os, pty, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen, typed = b"", False
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
                if not typed and b"passphrase of the key files: " in seen:
                    os.write(fd, os.environ["TYPED_SECRET"].encode() + b"\\n")
                    typed = True
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(seen.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let prompted = try scratch.run("python3", ["-c", terminal, Programs.url("sem").path, "inbox"], environment: typing)
        #expect(prompted.status == 0, "\(prompted.all)")
        #expect(prompted.output.contains("Enter the passphrase of the key files:"))
        #expect(prompted.output.contains(id), "the inbox was listed after the passphrase was typed")
        #expect(!prompted.output.contains(passphrase), "the passphrase was echoed")
        // Without a terminal and without the variable, the command says what is missing.
        let missing = try Programs.run("sem", ["inbox"], environment: typing)
        #expect(missing.status == 1)
        #expect(missing.errors.contains("SEM_KEY_PASSPHRASE"), "\(missing.errors)")

        // After alice's signing certificate is revoked, her letters are refused with the reason.
        try federation.run("semctl", ["cert", "revoke", "alice@alpha.test", "--reason", "keyCompromise",
                                      "--domain-dir", scratch.path("alpha.test")])
        let revoked = try bob.sem(["read", id, "--no-receipt"])
        #expect(revoked.status == 1)
        #expect(revoked.errors.contains("certificate of alice@alpha.test"), "\(revoked.errors)")
        #expect(revoked.errors.contains("revoked"))
    }

    @Test("--cc, --body-file and --attach-for: a private attachment reaches only its recipient; a passphrase store; contacts removed and exported")
    func privateAttachmentsAndStorePassphrase() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        let alice = try Self.enrol(federation, "alice@alpha.test", token: false, extra: ["--key-file", "--store-passphrase"],
                                   environment: ["SEM_STORE_PASSPHRASE": "store words 9"])
        let bob = try Self.enrol(federation, "bob@beta.test", token: false)
        let clamd = try RunningClamd(in: scratch)
        defer { clamd.stop() }
        let carol = try Self.enrol(federation, "carol@beta.test", token: false, extra: ["--scanner", clamd.endpoint])

        try scratch.write("letter.txt", "Minutes of the board meeting.\n")
        try scratch.write("salary.txt", "for bob only\n")
        let shared = try scratch.run("python3", ["-c", "import os,sys; sys.stdout.buffer.write(os.urandom(400000))"])
        try scratch.write("shared.bin", shared.outputData)
        let sent = try alice.sem(["send", "--to", "bob@beta.test", "--cc", "carol@beta.test", "--subject", "Board",
                                  "--body-file", scratch.path("letter.txt"), "--attach", scratch.path("shared.bin"),
                                  "--attach-for", "bob@beta.test=\(scratch.path("salary.txt"))"])
        #expect(sent.status == 0, "\(sent.all)")
        #expect(sent.output.contains("bob@beta.test: queued") && sent.output.contains("carol@beta.test: queued"))
        let privateLine = try #require(sent.output.split(separator: "\n").first { $0.contains("for bob@beta.test only") })
        #expect(privateLine.hasSuffix("with salary.txt"))
        let common = try #require(sent.output.split(separator: " ").dropFirst().first.map(String.init))
        let bobsOwn = try #require(privateLine.split(separator: " ").dropFirst().first.map(String.init))
        #expect(common != bobsOwn)

        // carol sees the letter with the shared attachment only; bob sees his own letter with both.
        #expect(eventually { try carol.sem(["sync"]).status == 0 && carol.sem(["inbox"]).output.contains(common) })
        let carolRead = try carol.sem(["read", common])
        #expect(carolRead.status == 0, "\(carolRead.all)")
        #expect(carolRead.output.contains("Minutes of the board meeting."))
        #expect(carolRead.output.contains("Cc: carol@beta.test"), "\(carolRead.output)")
        #expect(carolRead.output.contains("shared.bin") && !carolRead.output.contains("salary.txt"))
        #expect(throws: Never.self) { _ = try carol.sem(["read", bobsOwn]) }
        #expect(try carol.sem(["read", bobsOwn]).status == 1)
        // carol's client scans what it saves: the shared attachment is clean, the test file is refused.
        let cleanSave = try carol.sem(["attachment", "save", common, "1", scratch.path("carol-shared.bin")])
        #expect(cleanSave.status == 0, "\(cleanSave.all)")
        #expect(try scratch.read("carol-shared.bin") == shared.outputData)
        try scratch.write("eicar.com", RunningClamd.eicar)
        let test = try alice.sem(["send", "--to", "carol@beta.test", "--subject", "a test file", "--attach",
                                  scratch.path("eicar.com")], input: "see the attachment\n")
        let testID = try #require(test.output.split(separator: " ").dropFirst().first.map(String.init))
        #expect(eventually { try carol.sem(["sync"]).status == 0 && carol.sem(["inbox"]).output.contains(testID) })
        let refusedSave = try carol.sem(["attachment", "save", testID, "1", scratch.path("carol-eicar.com")])
        #expect(refusedSave.status == 1)
        #expect(refusedSave.errors.contains("holds malware (\(RunningClamd.signatureName)"), "\(refusedSave.errors)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("carol-eicar.com")))
        #expect(eventually { try bob.sem(["sync"]).status == 0 && bob.sem(["inbox"]).output.contains(bobsOwn) })
        #expect(!(try bob.sem(["inbox"]).output.contains(common)))
        let bobRead = try bob.sem(["read", bobsOwn])
        #expect(bobRead.output.contains("salary.txt") && bobRead.output.contains("shared.bin"), "\(bobRead.all)")
        let saved = try bob.sem(["attachment", "save", bobsOwn, "1", scratch.path("salary-saved.txt")])
        #expect(saved.status == 0, "\(saved.all)")
        #expect(try scratch.read("salary-saved.txt") == Data("for bob only\n".utf8))
        // The inbox line shows the date.
        #expect(try bob.sem(["inbox"]).output.range(of: #"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"#, options: .regularExpression) != nil)

        // alice's store opens only with its passphrase.
        var withoutPassphrase = alice.environment
        withoutPassphrase.removeValue(forKey: "SEM_STORE_PASSPHRASE")
        let locked = try Programs.run("sem", ["inbox"], environment: withoutPassphrase)
        #expect(locked.status == 1)
        #expect(locked.errors.contains("SEM_STORE_PASSPHRASE"), "\(locked.errors)")
        withoutPassphrase["SEM_STORE_PASSPHRASE"] = "not the words"
        let wrong = try Programs.run("sem", ["inbox"], environment: withoutPassphrase)
        #expect(wrong.status == 1)
        #expect(wrong.errors.contains("passphrase does not open"), "\(wrong.errors)")

        // Contacts: add two, remove one, export what is left.
        #expect(try alice.sem(["contacts", "add", "Bob Builder", "bob@beta.test"]).status == 0)
        #expect(try alice.sem(["contacts", "add", "Carol Singer", "carol@beta.test"]).status == 0)
        #expect(try alice.sem(["contacts", "remove", "bob@beta.test"]).status == 0)
        let exported = try alice.sem(["contacts", "export"])
        #expect(exported.status == 0)
        let contacts = try #require(try JSONSerialization.jsonObject(with: Data(exported.output.utf8)) as? [[String: Any]])
        #expect(contacts.compactMap { $0["address"] as? String } == ["carol@beta.test"])
        #expect(contacts.compactMap { $0["name"] as? String } == ["Carol Singer"])
        let found = try scratch.run("grep", ["-r", "-l", "-a", "-e", "Carol Singer", "-e", "Minutes of the board", "-e", "for bob only",
                                             alice.home, bob.home, carol.home, scratch.path("alpha.test"), scratch.path("beta.test")])
        #expect(found.output.isEmpty, "plaintext found in \(found.output)")
    }
}
