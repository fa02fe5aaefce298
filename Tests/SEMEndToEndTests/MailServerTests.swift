// The mail servers of two domains on loopback (with their SMI, CAs and PDPs), driven as
// people and peers drive them: curl with client certificates on the API, openssl cms for
// the letters, swaks as an unregistered server.
import Foundation
import SEMCrypto
import SEMFederation
import SEMMail
import SEMStorage
import SEMTestSupport
import Testing

@Suite("Mail server", .serialized)
struct MailServerTests {
    /// The OpenAPI document as kept in the repository.
    static let openAPIFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/SEMMail/Resources/openapi.json")

    @Test("a letter with an attachment crosses domains once; the sender gets signed delivery notifications")
    func letterAcrossDomains() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        for user in ["alice@alpha.test", "bob@beta.test", "carol@beta.test"] { try federation.enrol(user, encryption: true) }

        // alice finds bob's certificates through her server, which asks beta.test's server.
        let lookup = try federation.api("alice@alpha.test", "/v1/directory/bob@beta.test")
        #expect(lookup.status == 200, "\(String(decoding: lookup.body, as: UTF8.self))")
        let bobEncryption = try Certificate(pemEncoded: try #require(MailFederation.object(lookup.body)["encryption"] as? String))
        #expect(bobEncryption == (try Certificate(pemEncoded: String(decoding: try scratch.read("bob@beta.test-enc.pem"),
                                                                       as: UTF8.self))))
        #expect(try federation.api("alice@alpha.test", "/v1/directory/nobody@beta.test").status == 404)
        #expect(try federation.api("alice@alpha.test", "/v1/directory/x@gamma.test").status == 400)

        let me = MailFederation.object(try federation.api("alice@alpha.test", "/v1/me").body)
        #expect(me["address"] as? String == "alice@alpha.test")
        #expect(me["trustListSequence"] != nil)

        // The served OpenAPI document is the repository's, and an independent validator accepts it.
        let served = try federation.api("alice@alpha.test", "/openapi.json", certificate: false)
        #expect(served.status == 200)
        #expect(served.body == (try Data(contentsOf: Self.openAPIFile)))
        try scratch.write("served-openapi.json", served.body)
        let validated = try scratch.run("python3", ["-c", """
            import json, sys
            from openapi_spec_validator import validate
            validate(json.load(open(sys.argv[1])))
            print("valid")
            """, scratch.path("served-openapi.json")])
        #expect(validated.output.contains("valid"), "\(validated.all)")

        // alice encrypts with openssl for bob, carol and herself, and uploads a 1 MiB attachment.
        try scratch.write("letter.txt", "Quarterly figures attached.\n")
        let encrypted = try scratch.openssl(["cms", "-encrypt", "-aes-256-gcm", "-in", "letter.txt", "-outform", "DER",
                                             "-out", "letter.der", "-recip", "bob@beta.test.pem",
                                             "-recip", "carol@beta.test.pem", "-recip", "alice@alpha.test.pem"])
        #expect(encrypted.status == 0, "\(encrypted.errors)")
        let attachment = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) })
        try scratch.write("attachment.bin", attachment)
        let upload = try federation.api("alice@alpha.test", "/v1/attachments", [
            "-H", "Content-Type: application/octet-stream", "--data-binary", "@attachment.bin"])
        #expect(upload.status == 201)
        let attachmentID = try #require(MailFederation.object(upload.body)["id"] as? String)
        #expect(attachmentID == Digest.sha256(attachment).hexString)

        let submitted = try federation.submit("alice@alpha.test", to: ["bob@beta.test", "carol@beta.test"],
                                              content: try scratch.read("letter.der"),
                                              attachments: [["id": attachmentID, "mediaType": "application/pdf"]])
        #expect(submitted.status == 201, "\(submitted.answer)")
        let statuses = (submitted.answer["recipients"] as? [[String: Any]] ?? []).map { $0["status"] as? String }
        #expect(statuses == ["queued", "queued"])
        let messageID = try #require(submitted.answer["messageId"] as? String)

        // Delivered over SMTP between the registered servers, and stored.
        let arrived = eventually { try federation.mailbox("bob@beta.test").contains { $0.id == messageID } }
        #expect(arrived, "\(federation.process("mail", of: "alpha.test")?.standardError.suffix(3000) ?? "")")
        let content = try federation.api("bob@beta.test", "/v1/messages/\(messageID)/content")
        #expect(content.status == 200)
        try scratch.write("received.der", content.body)
        let decrypted = try scratch.openssl(["cms", "-decrypt", "-inform", "DER", "-in", "received.der",
                                             "-recip", "bob@beta.test.pem", "-inkey", "bob@beta.test.key"])
        #expect(decrypted.status == 0, "\(decrypted.errors)")
        #expect(decrypted.output.contains("Quarterly figures attached."))

        // The attachment crosses once for the domain, however many recipients read it.
        for user in ["bob@beta.test", "carol@beta.test"] {
            let download = try federation.api(user, "/v1/attachments/\(attachmentID)")
            #expect(download.status == 200)
            #expect(download.body == attachment)
        }
        let range = try federation.api("carol@beta.test", "/v1/attachments/\(attachmentID)", ["-H", "Range: bytes=1000-1999"])
        #expect(range.status == 206)
        #expect(range.body == attachment[1000..<2000])
        let transfers = federation.process("mail", of: "alpha.test")?.standardError
            .components(separatedBy: "mail.attachment.served").count
        #expect(transfers == 2, "the attachment should leave alpha.test exactly once")
        let footprint = MailFederation.object(try federation.api("bob@beta.test", "/v1/attachments-footprint").body)
        #expect(footprint["stored"] as? Int == attachment.count)
        #expect((footprint["perMailbox"] as? Int ?? 0) >= 2 * attachment.count)
        let stranger = try federation.api("alice@alpha.test", "/v1/attachments/\(String(repeating: "0", count: 64))")
        #expect(stranger.status == 404)

        // alice's mailbox: her sent copy and one signed notification per recipient, from beta.test.
        #expect(eventually { try federation.mailbox("alice@alpha.test").filter { $0.kind == "notification" }.count == 2 })
        let mailbox = try federation.mailbox("alice@alpha.test")
        #expect(mailbox.first { $0.id == messageID }?.flags == ["sent"])
        let notificationID = try #require(mailbox.first { $0.kind == "notification" }?.id)
        try scratch.write("notification.der", try federation.api("alice@alpha.test", "/v1/messages/\(notificationID)/content").body)
        let verified = try scratch.openssl(["cms", "-verify", "-inform", "DER", "-in", "notification.der",
                                            "-CAfile", scratch.path("beta.test/pki/root-ca.pem"), "-purpose", "any"])
        #expect(verified.status == 0, "\(verified.errors)")
        #expect(verified.output.contains("\"status\":\"delivered\""))
        #expect(verified.output.contains(messageID))

        // Flags, deletion and the sync cursor.
        let flagged = try federation.api("bob@beta.test", "/v1/messages/\(messageID)", [
            "-X", "PATCH", "-H", "Content-Type: application/json", "--data", #"{"flags":["seen"]}"#])
        #expect(flagged.status == 200)
        #expect(try federation.api("bob@beta.test", "/v1/messages/\(messageID)", ["-X", "DELETE"]).status == 204)
        #expect(try federation.mailbox("bob@beta.test").isEmpty)
        #expect(try federation.api("bob@beta.test", "/v1/messages/\(messageID)/content").status == 404)
    }

    @Test("malformed requests get 4xx JSON errors; the address book refuses a stale version")
    func malformedRequestsAndAddressBook() throws {
        let federation = try MailFederation()
        try federation.enrol("alice@alpha.test")
        func expectError(_ result: (status: Int, body: Data), _ status: Int, _ code: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == status, sourceLocation: sourceLocation)
            #expect(MailFederation.object(result.body)["error"] as? String == code, sourceLocation: sourceLocation)
            #expect(MailFederation.object(result.body)["message"] is String, sourceLocation: sourceLocation)
        }
        let json = ["-H", "Content-Type: application/json"]
        expectError(try federation.api("alice@alpha.test", "/v1/messages", json + ["--data", #"{"recipients": 3}"#]),
                    400, "bad-request")
        expectError(try federation.api("alice@alpha.test", "/v1/messages", json + ["--data", "{not json"]), 400, "bad-request")
        expectError(try federation.api("alice@alpha.test", "/v1/messages", json + [
            "--data", #"{"recipients": ["not an address"], "content": "AAAA"}"#]), 400, "invalid-request")
        expectError(try federation.api("alice@alpha.test", "/v1/messages", ["--data", "x"]), 415, "unsupported-media-type")
        expectError(try federation.api("alice@alpha.test", "/v1/messages?after=x"), 400, "invalid-request")
        expectError(try federation.api("alice@alpha.test", "/v1/messages/nothing@alpha.test"), 404, "not-found")
        expectError(try federation.api("alice@alpha.test", "/v1/me", certificate: false), 401, "unauthenticated")
        expectError(try federation.api("alice@alpha.test", "/v1/address-book", ["-X", "PUT", "--data", "x"]),
                    400, "invalid-request")

        let first = try federation.api("alice@alpha.test", "/v1/address-book", ["-X", "PUT", "-H", "If-Match: 0",
                                                                                "--data-binary", "sealed-v1"])
        #expect(first.status == 200)
        #expect(MailFederation.object(first.body)["version"] as? Int == 1)
        expectError(try federation.api("alice@alpha.test", "/v1/address-book", ["-X", "PUT", "-H", "If-Match: 0",
                                                                                "--data-binary", "sealed-v1b"]),
                    409, "version-conflict")
        let read = try federation.api("alice@alpha.test", "/v1/address-book")
        #expect(read.status == 200)
        #expect(read.body == Data("sealed-v1".utf8))
    }

    @Test("unregistered servers, forbidden pairs and revoked certificates are refused")
    func refusals() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        for user in ["alice@alpha.test", "dave@alpha.test", "bob@beta.test"] { try federation.enrol(user) }

        // swaks as a server nobody registered: refused with 5.7.x, with TLS or without.
        let rogue = try scratch.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                         "-keyout", "rogue.key", "-out", "rogue.pem", "-subj", "/CN=mail.rogue.test",
                                         "-addext", "subjectAltName=DNS:mail.rogue.test", "-days", "2"])
        #expect(rogue.status == 0)
        let smtpPort = federation.ports["beta.test"]![1]
        let withTLS = try scratch.run("swaks", ["--server", "127.0.0.1:\(smtpPort)", "--tls", "--tls-cert", "rogue.pem",
                                                "--tls-key", "rogue.key", "--from", "spam@rogue.test", "--to", "bob@beta.test",
                                                "--ehlo", "mail.rogue.test", "--timeout", "20"])
        #expect(withTLS.output.contains("554 5.7.1"), "\(withTLS.all)")
        #expect(withTLS.output.contains("not a registered server"))
        let plain = try scratch.run("swaks", ["--server", "127.0.0.1:\(smtpPort)", "--from", "spam@rogue.test",
                                              "--to", "bob@beta.test", "--timeout", "20"])
        #expect(plain.output.contains("530 5.7.0"), "\(plain.all)")
        #expect(try federation.mailbox("bob@beta.test").isEmpty)

        // Pairs the policy forbids: a program as an attachment, and a domain without an agreement.
        try scratch.write("program.bin", Data(repeating: 0x4d, count: 4096))
        let upload = try federation.api("alice@alpha.test", "/v1/attachments", ["--data-binary", "@program.bin"])
        let programID = try #require(MailFederation.object(upload.body)["id"] as? String)
        let program = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: Data("cms".utf8),
                                            attachments: [["id": programID, "mediaType": "application/x-msdownload"]])
        let refusedProgram = (program.answer["recipients"] as? [[String: Any]])?.first
        #expect(refusedProgram?["status"] as? String == "refused")
        let reason = refusedProgram?["reason"] as? String ?? ""
        #expect(reason.contains("no-executables"), "\(reason)")
        #expect(program.answer["messageId"] == nil)
        let stranger = try federation.submit("alice@alpha.test", to: ["eve@gamma.test"], content: Data("cms".utf8))
        #expect((stranger.answer["recipients"] as? [[String: Any]])?.first?["status"] as? String == "refused")

        // A revoked certificate cannot log in: the same certificate that worked a moment ago
        // is refused in the TLS handshake, for its revocation, and no HTTP answer comes.
        #expect(try federation.api("dave@alpha.test", "/v1/me").status == 200)
        try federation.run("semctl", ["cert", "revoke", "dave@alpha.test", "--reason", "keyCompromise",
                                      "--domain-dir", scratch.path("alpha.test")])
        func refusedHandshakes() -> [Substring] {
            (federation.process("mail", of: "alpha.test")?.standardError ?? "").split(separator: "\n")
                .filter { $0.contains("event=connection.tls_failed") }
        }
        let before = refusedHandshakes().count
        let revoked = try federation.request("dave@alpha.test", "/v1/me")
        // curl reports the closed connection in words that depend on timing (an alert, or
        // a reset); the server's log line says why.
        #expect(revoked.status == 0, "\(revoked.errors)")
        #expect(!revoked.errors.isEmpty)
        #expect(eventually(within: 5) { refusedHandshakes().count == before + 1 })
        let refusedLogin = refusedHandshakes().last ?? ""
        #expect(refusedLogin.contains("revoked"), "\(refusedLogin)")
        #expect(refusedLogin.contains("dave@alpha.test"), "\(refusedLogin)")
        #expect(try federation.api("alice@alpha.test", "/v1/me").status == 200)

        // A destination that stays unreachable: after the retries, a signed non-delivery notice.
        federation.stop("mail", of: "beta.test")
        let lost = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: Data("cms".utf8))
        let lostID = try #require(lost.answer["messageId"] as? String)
        func failureNotice() throws -> [String: Any]? {
            try federation.notifications("alice@alpha.test", signedBy: "alpha.test").first {
                $0["status"] as? String == "failed" && $0["messageId"] as? String == lostID
            }
        }
        #expect(eventually(within: 30) { try failureNotice() != nil })
        #expect(try failureNotice()?["recipient"] as? String == "bob@beta.test")
        #expect((try failureNotice()?["reason"] as? String ?? "").contains("still undeliverable"))
    }

    @Test("mail within a domain stays on its server; a registered server is held to its domain, its assertion and the receiving policy")
    func localMailAndRegisteredPeerChecks() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        for user in ["alice@alpha.test", "dave@alpha.test", "bob@beta.test", "carol@beta.test", "erin@beta.test"] {
            try federation.enrol(user)
        }
        // beta.test's policy refuses mail from alpha.test for carol, and wants erin's held for
        // review, which the server does not offer (its PDP reads the policy at start).
        federation.stop("pdp", of: "beta.test")
        try federation.editJSON("beta.test/policy.json") { policy in
            policy["rules"] = [["id": "carol-closed", "effect": "deny", "description": "carol takes no mail from alpha.test",
                                "actions": ["receive"], "subjects": ["domains": ["alpha.test"]],
                                "resources": ["recipients": ["addresses": ["carol@beta.test"]]]],
                               ["id": "erin-review", "effect": "permit", "description": "mail for erin is reviewed first",
                                "actions": ["receive"], "subjects": ["domains": ["alpha.test"]],
                                "resources": ["recipients": ["addresses": ["erin@beta.test"]]],
                                "obligations": [["type": "quarantine"]]]]
                + (policy["rules"] as? [[String: Any]] ?? [])
        }
        try federation.start("pdp", of: "beta.test")
        let alphaLog = { federation.process("mail", of: "alpha.test")?.standardError ?? "" }
        let betaLog = { federation.process("mail", of: "beta.test")?.standardError ?? "" }

        // alice to dave: delivered in alpha.test's mailboxes at once, nothing queued or sent over SMTP.
        let local = try federation.submit("alice@alpha.test", to: ["dave@alpha.test"], content: Data("local letter".utf8))
        #expect(local.status == 201, "\(local.answer)")
        #expect((local.answer["recipients"] as? [[String: Any]])?.first?["status"] as? String == "delivered")
        let localID = try #require(local.answer["messageId"] as? String)
        #expect(try federation.mailbox("dave@alpha.test").map(\.id) == [localID])
        #expect(try federation.api("dave@alpha.test", "/v1/messages/\(localID)/content").body == Data("local letter".utf8))
        let localNotice = try federation.notifications("alice@alpha.test", signedBy: "alpha.test")
        #expect(localNotice.count == 1)
        #expect(localNotice.first?["status"] as? String == "delivered")
        #expect(localNotice.first?["recipient"] as? String == "dave@alpha.test")
        #expect(localNotice.first?["messageId"] as? String == localID)
        Thread.sleep(forTimeInterval: 1)  // several rounds of the queue worker
        #expect(alphaLog().contains("mail.submitted id=\(localID) local=1 remote=0"), "\(alphaLog().suffix(2000))")
        #expect(!alphaLog().contains("smtp.delivery"))
        #expect(!alphaLog().contains("queue."))
        #expect(!betaLog().contains("smtp.close"))
        #expect(!betaLog().contains("mail.received"))

        // alice to bob, carol and erin: bob's copy is stored; beta.test refuses carol and erin
        // at RCPT with 5.7.1, and alpha.test gives alice signed non-delivery notices with the replies.
        let letter = try federation.submit("alice@alpha.test", to: ["bob@beta.test", "carol@beta.test", "erin@beta.test"],
                                           content: Data("for bob, carol and erin".utf8))
        let letterID = try #require(letter.answer["messageId"] as? String, "\(letter.answer)")
        #expect(eventually { try federation.mailbox("bob@beta.test").map(\.id) == [letterID] }, "\(alphaLog().suffix(3000))")
        func notice(_ status: String, _ recipient: String, signedBy domain: String) throws -> [String: Any]? {
            try federation.notifications("alice@alpha.test", signedBy: domain).first {
                $0["status"] as? String == status && $0["recipient"] as? String == recipient
                    && $0["messageId"] as? String == letterID
            }
        }
        #expect(eventually { try notice("delivered", "bob@beta.test", signedBy: "beta.test") != nil })
        #expect(eventually { try notice("failed", "carol@beta.test", signedBy: "alpha.test") != nil })
        let refusal = try notice("failed", "carol@beta.test", signedBy: "alpha.test")?["reason"] as? String ?? ""
        #expect(refusal.contains("550 5.7.1"), "\(refusal)")
        #expect(refusal.contains("Policy refuses mail from alpha.test to carol@beta.test"), "\(refusal)")
        #expect(refusal.contains("carol-closed"), "\(refusal)")
        #expect(eventually { try notice("failed", "erin@beta.test", signedBy: "alpha.test") != nil })
        let held = try notice("failed", "erin@beta.test", signedBy: "alpha.test")?["reason"] as? String ?? ""
        #expect(held.contains("550 5.7.1"), "\(held)")
        #expect(held.contains("held for review, which this server does not offer"), "\(held)")
        #expect(try federation.mailbox("carol@beta.test").isEmpty)
        #expect(try federation.mailbox("erin@beta.test").isEmpty)

        // swaks speaking as alpha.test's registered server, with its real certificate and key.
        let alpha = try federation.serverCredentialFiles("alpha.test")
        let smtpPort = federation.ports["beta.test"]![1]
        func asAlphaServer(from sender: String, _ arguments: [String] = []) throws -> ToolResult {
            try scratch.run("swaks", ["--server", "127.0.0.1:\(smtpPort)", "--tls", "--tls-cert", alpha.certificate,
                                      "--tls-key", alpha.key, "--ehlo", "mail.alpha.test", "--from", sender,
                                      "--to", "bob@beta.test", "--timeout", "20"] + arguments)
        }
        // A sender of another domain, and of the receiving domain itself: refused at MAIL FROM.
        for domain in ["gamma.test", "beta.test"] {
            let foreign = try asAlphaServer(from: "ceo@\(domain)")
            #expect(foreign.output.contains("550 5.7.1"), "\(foreign.all)")
            #expect(foreign.output.contains("registered for alpha.test and may not send mail from \(domain)"))
        }
        // No transfer assertion: refused at the end of DATA.
        let bare = try asAlphaServer(from: "alice@alpha.test", ["--header", "Message-ID: <bare@alpha.test>"])
        #expect(bare.output.contains("554 5.7.1"), "\(bare.all)")
        #expect(bare.output.contains("carries no transfer assertion"))
        // An assertion truly signed by the registered key, but over other content than was sent.
        let claim = try CanonicalJSON.canonicalize(try JSONSerialization.data(withJSONObject: [
            "attachments": [String](), "contentDigest": Digest.sha256(Data("other content".utf8)).hexString,
            "messageId": "forged@alpha.test", "recipients": ["bob@beta.test"], "sender": "alice@alpha.test",
            "server": "mail.alpha.test", "time": RFC3339.string(from: Date()),
        ]))
        try scratch.write("claim.json", claim)
        let signed = try scratch.openssl(["cms", "-sign", "-binary", "-nodetach", "-in", "claim.json", "-signer", alpha.certificate,
                                          "-inkey", alpha.key, "-outform", "DER", "-out", "claim.der"])
        #expect(signed.status == 0, "\(signed.errors)")
        let folded = try scratch.read("claim.der").base64EncodedString(options: .lineLength76Characters)
            .split(whereSeparator: \.isNewline).joined(separator: "\r\n ")
        try scratch.write("forged.eml", """
            From: <alice@alpha.test>\r
            To: <bob@beta.test>\r
            Message-ID: <forged@alpha.test>\r
            MIME-Version: 1.0\r
            SEM-Kind: message\r
            SEM-Transfer-Assertion: \(folded)\r
            Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r
            Content-Transfer-Encoding: base64\r
            \r
            \(Data("the content sent".utf8).base64EncodedString())\r

            """)
        let forged = try asAlphaServer(from: "alice@alpha.test", ["--data", "@forged.eml"])
        #expect(forged.output.contains("554 5.7.1"), "\(forged.all)")
        #expect(forged.output.contains("does not match the content received"), "\(forged.all)")
        #expect(try federation.mailbox("bob@beta.test").map(\.id) == [letterID])
    }

    @Test("with legacyPeers quarantine, an unregistered server's mail is stored encrypted and marked unauthenticated")
    func legacyQuarantine() throws {
        let federation = try MailFederation()
        let scratch = federation.scratch
        try federation.enrol("bob@beta.test", encryption: true)
        let clamd = try RunningClamd(in: scratch)
        defer { clamd.stop() }
        federation.stop("mail", of: "beta.test")
        try federation.editJSON("beta.test/mail.json") {
            $0["legacyPeers"] = "quarantine"
            $0["scanner"] = clamd.endpoint
        }
        try federation.start("mail", of: "beta.test")

        let smtpPort = federation.ports["beta.test"]![1]
        let sent = try scratch.run("swaks", ["--server", "127.0.0.1:\(smtpPort)", "--from", "news@legacy.test",
                                             "--to", "bob@beta.test", "--header", "Subject: old-fashioned mail",
                                             "--body", "sent in the clear", "--timeout", "20"])
        #expect(sent.output.contains("250 2.0.0 stored in quarantine"), "\(sent.all)")
        let unknown = try scratch.run("swaks", ["--server", "127.0.0.1:\(smtpPort)", "--from", "news@legacy.test",
                                                "--to", "nobody@beta.test", "--timeout", "20"])
        #expect(unknown.output.contains("550 5.1.1"), "\(unknown.all)")
        let spoofed = try scratch.run("swaks", ["--server", "127.0.0.1:\(smtpPort)", "--from", "ceo@beta.test",
                                                "--to", "bob@beta.test", "--timeout", "20"])
        #expect(spoofed.output.contains("550 5.7.1"), "\(spoofed.all)")
        // The plaintext of legacy mail is scanned before it is encrypted and stored.
        try scratch.write("eicar.com", RunningClamd.eicar)
        let infected = try scratch.run("swaks", ["--server", "127.0.0.1:\(smtpPort)", "--from", "news@legacy.test",
                                                 "--to", "bob@beta.test", "--attach", scratch.path("eicar.com"),
                                                 "--timeout", "20"])
        #expect(infected.output.contains("554 5.7.1") && infected.output.contains("malware"), "\(infected.all)")
        #expect(federation.process("mail", of: "beta.test")?.standardError.contains("mail.scan.detected") == true)

        let page = MailFederation.object(try federation.api("bob@beta.test", "/v1/messages").body)
        #expect((page["entries"] as? [[String: Any]])?.count == 1, "only the clean letter is stored")
        let entry = try #require((page["entries"] as? [[String: Any]])?.first)
        let message = try #require(entry["message"] as? [String: Any])
        #expect(message["authenticated"] as? Bool == false)
        #expect(entry["flags"] as? [String] == ["quarantine"])
        let id = try #require(message["id"] as? String)
        let content = try federation.api("bob@beta.test", "/v1/messages/\(id)/content")
        #expect(!content.body.contains(Data("sent in the clear".utf8)))
        try scratch.write("quarantined.der", content.body)
        let opened = try scratch.openssl(["cms", "-decrypt", "-inform", "DER", "-in", "quarantined.der",
                                          "-recip", "bob@beta.test-enc.pem", "-inkey", "bob@beta.test-enc.key"])
        #expect(opened.output.contains("Subject: old-fashioned mail"), "\(opened.errors)")
        #expect(opened.output.contains("sent in the clear"))
    }

    @Test("a restart in the middle of the queue delivers every message exactly once")
    func queueSurvivesRestart() throws {
        let federation = try MailFederation()
        for user in ["alice@alpha.test", "bob@beta.test"] { try federation.enrol(user) }
        federation.stop("mail", of: "beta.test")
        var ids: [String] = []
        for number in 1...3 {
            let sent = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: Data("letter \(number)".utf8))
            ids.append(try #require(sent.answer["messageId"] as? String))
        }
        // The sender's server dies without warning while the messages wait, and comes back.
        let pid = try #require(federation.process("mail", of: "alpha.test")?.processIdentifier)
        kill(pid, SIGKILL)
        federation.stop("mail", of: "alpha.test")
        // Two blob writes the crash interrupted: one long abandoned, one of a moment ago
        // (as another writer's in progress would be). A restart removes only the first.
        let temporary = federation.scratch.url.appendingPathComponent("alpha.test/blobs/tmp")
        let abandoned = temporary.appendingPathComponent("abandoned.tmp"), recent = temporary.appendingPathComponent("recent.tmp")
        try Data("half a blob".utf8).write(to: abandoned)
        try Data("half a blob".utf8).write(to: recent)
        try FileManager.default.setAttributes([.modificationDate: Date() - 7200], ofItemAtPath: abandoned.path)
        try federation.start("mail", of: "alpha.test")
        #expect(!FileManager.default.fileExists(atPath: abandoned.path))
        #expect(FileManager.default.fileExists(atPath: recent.path))
        try federation.start("mail", of: "beta.test")
        let delivered = eventually(within: 30) { try Set(federation.mailbox("bob@beta.test").map(\.id)) == Set(ids) }
        #expect(delivered, "\(federation.process("mail", of: "alpha.test").map { String($0.standardError.suffix(3000)) } ?? "")")
        Thread.sleep(forTimeInterval: 1.5)
        let received = try federation.mailbox("bob@beta.test").map(\.id)
        #expect(received.count == 3)
        #expect(Set(received) == Set(ids))
        #expect(eventually { try federation.mailbox("alice@alpha.test").filter { $0.kind == "notification" }.count == 3 })
    }

    @Test("a delivery repeated because the receiver stopped after storing it still notifies the sender, once")
    func notificationAfterCrashBeforeNotifying() throws {
        let federation = try MailFederation()
        for user in ["alice@alpha.test", "bob@beta.test"] { try federation.enrol(user) }
        federation.stop("mail", of: "beta.test")
        let content = Data("a letter whose first delivery was cut short".utf8)
        let sent = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: content)
        let id = try #require(sent.answer["messageId"] as? String)
        federation.stop("mail", of: "alpha.test")
        // What mail.beta.test leaves when it dies after storing the message and before
        // notifying: the message in bob's mailbox, no notification, no reply to the sender.
        let storage = try SQLiteMailStorage(databasePath: federation.scratch.path("beta.test/mail.sqlite"),
                                            blobDirectory: federation.scratch.url.appendingPathComponent("beta.test/blobs"))
        let stored = StoredMessage(id: id, sender: "alice@alpha.test", recipients: ["bob@beta.test"], receivedAt: Date(),
                                   size: Int64(content.count), blob: .of(content))
        #expect(try storage.deliver(stored, content: content, to: ["bob@beta.test"]) == ["bob@beta.test"])
        try federation.start("mail", of: "beta.test")
        try federation.start("mail", of: "alpha.test")

        // alpha.test heard no reply and sends again; nothing is new for beta.test's mailboxes.
        let notices = { try federation.notifications("alice@alpha.test", signedBy: "beta.test") }
        #expect(eventually(within: 30) { try notices().contains { $0["messageId"] as? String == id } })
        Thread.sleep(forTimeInterval: 1.5)
        let statements = try notices().filter { $0["messageId"] as? String == id }
        #expect(statements.count == 1)
        #expect(statements.first?["status"] as? String == "delivered")
        #expect(statements.first?["recipient"] as? String == "bob@beta.test")
        #expect(try federation.mailbox("bob@beta.test").map(\.id) == [id])
    }

    @Test("a mail server with the embedded policy decides without a PDP process, with the trust list's agreements")
    func embeddedPolicy() throws {
        let federation = try MailFederation()
        for user in ["alice@alpha.test", "bob@beta.test"] { try federation.enrol(user) }
        // alpha.test's PDP is gone for good; its mail server decides in process instead.
        federation.stop("pdp", of: "alpha.test")
        federation.stop("mail", of: "alpha.test")
        try federation.editJSON("alpha.test/mail.json") { $0["pdpMode"] = "embedded" }
        try federation.start("mail", of: "alpha.test")
        let mail = try #require(federation.process("mail", of: "alpha.test"))
        #expect(mail.standardOutput.contains("pdp=embedded"), "\(mail.standardOutput)")

        // Allowed: beta.test is a partner through the agreement the trust list carries.
        let allowed = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: Data("letter".utf8))
        #expect(allowed.status == 201, "\(allowed.answer)")
        let outcome = (allowed.answer["recipients"] as? [[String: Any]])?.first
        #expect(outcome?["status"] as? String == "queued", "\(allowed.answer)")
        let messageID = try #require(allowed.answer["messageId"] as? String)
        #expect(eventually { try federation.mailbox("bob@beta.test").contains { $0.id == messageID } },
                "\(mail.standardError.suffix(3000))")

        // Forbidden: a domain without an agreement, and a program as an attachment.
        let stranger = try federation.submit("alice@alpha.test", to: ["eve@gamma.test"], content: Data("letter".utf8))
        #expect((stranger.answer["recipients"] as? [[String: Any]])?.first?["status"] as? String == "refused",
                "\(stranger.answer)")
        #expect(stranger.answer["messageId"] == nil)
        try federation.scratch.write("program.bin", Data(repeating: 0x4d, count: 4096))
        let upload = try federation.api("alice@alpha.test", "/v1/attachments", ["--data-binary", "@program.bin"])
        let programID = try #require(MailFederation.object(upload.body)["id"] as? String)
        let program = try federation.submit("alice@alpha.test", to: ["bob@beta.test"], content: Data("letter".utf8),
                                            attachments: [["id": programID, "mediaType": "application/x-msdownload"]])
        let refused = (program.answer["recipients"] as? [[String: Any]])?.first
        #expect(refused?["status"] as? String == "refused")
        let reason = refused?["reason"] as? String ?? ""
        #expect(reason.contains("no-executables"), "\(program.answer)")
        // The engine took the trust list in, as `semd pdp` does.
        #expect(mail.standardError.contains("policy.trust-list"), "\(mail.standardError.suffix(3000))")
    }
}
