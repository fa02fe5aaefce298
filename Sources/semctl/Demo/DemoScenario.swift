// The demo's story, step by step. Each step prints one line with its verdict; a step
// whose outcome is not the expected one makes the demo fail.
import Foundation
import SEMCredentials
import SEMCrypto
import SEMFederation
import SEMMail
import SEMMessage
import SEMPolicy
import SEMRegistry
import SEMStorage

struct DemoScenario {
    /// The demo's two domains, in the order they are created.
    static let domains = ["alpha.test", "beta.test"]
    /// Names for the domains `--extra-domains N` adds (partners of alpha.test with servers
    /// of their own but no part in the story, for measurements across many domains).
    /// gamma.test is left out: the story uses it as a domain without an agreement.
    static let extraNames = ["delta.test", "epsilon.test", "zeta.test", "eta.test", "theta.test", "iota.test"]

    /// The story's domains and the first `extra` extra ones.
    static func domains(extra: Int) -> [String] { domains + extraNames.prefix(extra) }
    /// A user of alpha.test whom its policy does not let write to partner domains.
    static let intern = "dave@alpha.test"

    let federation: DemoFederation
    let report: DemoReport

    func run() throws {
        report.section("Federation on loopback in \(federation.root.path)")
        var started: DemoSMI?
        report.step("start the SMI (federation registry)") {
            let smi = try federation.startSMI()
            started = smi
            return "\(smi.url), registry signer \(try smi.directory.signerCertificate().fingerprint.prefix(16))…"
        }
        guard let smi = started else { return }
        var domains: [String: DemoDomain] = [:]
        for name in Self.domains {
            report.step("create domain \(name)") {
                let domain = try federation.createDomain(name)
                domains[name] = domain
                return "root CA \(domain.root.fingerprint.prefix(16))…, CA, OCSP responder, key archive, TLS certificates"
            }
        }
        guard let alpha = domains["alpha.test"], let beta = domains["beta.test"] else {
            throw DemoFailure("the domains could not be created")
        }
        var extras: [DemoDomain] = []
        for name in federation.ports.names where !Self.domains.contains(name) {
            report.step("create domain \(name), a partner of alpha.test") {
                let domain = try federation.createDomain(name)
                extras.append(domain)
                return "root CA \(domain.root.fingerprint.prefix(16))…"
            }
        }
        report.step("alpha.test's policy: \(Self.intern) may not write to partner domains") {
            try Self.restrictIntern(in: alpha)
        }
        try runFederationSteps(smi: smi, alpha: alpha, beta: beta, extras: extras)
        for domain in [alpha, beta] + extras {
            report.step("start semd ca for \(domain.name)") { "\(try federation.start("ca", of: domain)), \(domain.caEndpoint)" }
            report.step("start semd pdp for \(domain.name)") { "\(try federation.start("pdp", of: domain)), \(domain.pdpEndpoint)" }
            report.step("start semd mail for \(domain.name)") { "\(try federation.start("mail", of: domain)), \(domain.mailEndpoint)" }
        }
        if !report.failed.isEmpty { return }

        report.section("Enrolment")
        var users: [String: DemoUser] = [:]
        for (address, domain) in [("alice@alpha.test", alpha), ("bob@beta.test", beta), (Self.intern, alpha)] {
            report.step("enrol \(address) over EST") {
                let ca = try federation.certificateAuthority(of: domain)
                let code = try ca.addUser(address, assurance: .substantial)
                let keyDirectory = federation.root.appendingPathComponent("users/\(address)", isDirectory: true)
                let token = address == "alice@alpha.test" ? try DemoToken.create("demo-alice", in: federation.root) : nil
                let signingKeys = try token ?? EncryptedKeyFileStore(directory: keyDirectory,
                                                                     passphrase: Secret(federation.passphrase))
                let user = try DemoPeople.enrol(address, in: domain, code: code, signingKeys: signingKeys,
                                                keyDirectory: keyDirectory, passphrase: federation.passphrase)
                users[address] = user
                let place = token == nil ? "in an encrypted key file" : "on SoftHSM2 token demo-alice"
                return "signing key \(place), certificate \(user.signing.certificate.serialNumberHex.prefix(12))…, "
                    + "encryption key archived"
            }
        }
        guard let alice = users["alice@alpha.test"], let bob = users["bob@beta.test"], let intern = users[Self.intern] else {
            return
        }
        report.step("bob checks alice's certificate") {
            let verdict = DemoPeople.validate(alice.signing.certificate, of: alpha, purpose: .emailSigning)
            guard verdict.isValid else { throw DemoFailure(verdict.summary) }
            return verdict.summary
        }

        report.section("Authorisation")
        try runPolicySteps(alpha: alpha)

        report.section("A letter from alice to bob")
        try runLetterSteps(alice: alice, bob: bob, intern: intern, alpha: alpha, beta: beta)
    }

    /// Adds a group with the intern and a deny rule ahead of `partner-mail` to alpha.test's
    /// policy, before its PDP starts. Deny overrides permit (docs/POLICY.md), so the
    /// intern may still write inside alpha.test but not to a partner.
    private static func restrictIntern(in domain: DemoDomain) throws -> String {
        var policy = try PolicyDocument.parse(try Data(contentsOf: domain.directory.policyURL))
        policy.groups["interns"] = GroupDefinition(description: "interns, who write only inside \(domain.name)",
                                                   addresses: [try AddressPattern(intern)])
        let rule = PolicyRule(id: "interns-stay-inside", effect: .deny,
                              description: "interns write only inside \(domain.name)", actions: [.submit, .send],
                              subjects: SubjectMatch(groups: ["interns"], kind: .user),
                              resources: ResourceMatch(recipients: RecipientMatch(groups: ["partners"])))
        policy.rules.insert(rule, at: min(1, policy.rules.count))
        try policy.validate()
        try Data(try policy.jsonText().utf8).write(to: domain.directory.policyURL, options: .atomic)
        return "rule \(rule.id) denies submit and send to partners for group interns (\(intern))"
    }

    /// Registration, approval and a bilateral agreement through the SMI; the PDPs started
    /// afterwards import partners and agreements from its signed trust list.
    private func runFederationSteps(smi: DemoSMI, alpha: DemoDomain, beta: DemoDomain, extras: [DemoDomain]) throws {
        let environment = federation.environment
        let smiRoot = try smi.directory.rootCertificate(), smiSigner = try smi.directory.signerCertificate()
        for domain in [alpha, beta] + extras {
            report.step("register \(domain.name) with the SMI") {
                let sequence = try FederationCommands.registerDomain(domain.directory, settings: smi.settings, smiRoot: smiRoot,
                                                                     smiSigner: smiSigner, environment: environment)
                return "signed by admin@\(domain.name), log entry \(sequence)"
            }
        }
        report.step("the trust list leaves out domains not yet approved") {
            let list = try TrustList.verify(try smi.client.trustList(), pinnedSigner: smiSigner, at: Date()).list
            guard list.domains.isEmpty else { throw DemoFailure("it lists \(list.domains.map(\.name))") }
            return "trust list \(list.sequence) lists no domain"
        }
        for domain in [alpha, beta] + extras {
            report.step("the SMI operator approves \(domain.name)") { "log entry \(try federation.approve(domain.name, at: smi))" }
        }
        report.step("agreement alpha.test <-> beta.test") {
            let now = Date()
            let both = [AgreementDirection(from: "alpha.test", to: "beta.test"), AgreementDirection(from: "beta.test", to: "alpha.test")]
            let terms = BilateralTerms(id: "alpha-beta", proposingDomain: "alpha.test", acceptingDomain: "beta.test",
                                       proposer: "admin@alpha.test", directions: both, notBefore: now - 60,
                                       notAfter: now + 365 * 86400)
            _ = try FederationCommands.propose(terms, from: alpha.directory, to: smi.client, environment: environment)
            _ = try FederationCommands.accept("alpha-beta", by: beta.directory, settings: smi.settings, at: smi.client,
                                              environment: environment)
            let list = try TrustList.verify(try smi.client.trustList(), pinnedSigner: smiSigner, at: Date()).list
            guard list.agreements.map(\.terms.id) == ["alpha-beta"] else { throw DemoFailure("the trust list lacks it") }
            return "proposed by alpha's administrator, accepted by beta's; trust list \(list.sequence) carries it"
        }
        for extra in extras {
            report.step("agreement alpha.test <-> \(extra.name)") {
                let now = Date(), id = "alpha-\(extra.name.split(separator: ".")[0])"
                let both = [AgreementDirection(from: "alpha.test", to: extra.name), AgreementDirection(from: extra.name, to: "alpha.test")]
                let terms = BilateralTerms(id: id, proposingDomain: "alpha.test", acceptingDomain: extra.name,
                                           proposer: "admin@alpha.test", directions: both, notBefore: now - 60,
                                           notAfter: now + 365 * 86400)
                _ = try FederationCommands.propose(terms, from: alpha.directory, to: smi.client, environment: environment)
                _ = try FederationCommands.accept(id, by: extra.directory, settings: smi.settings, at: smi.client,
                                                  environment: environment)
                return "\(id) in force"
            }
        }
    }

    private func runPolicySteps(alpha: DemoDomain) throws {
        let passphrase = federation.passphrase
        report.step("alpha.test PDP: alice may send to bob@beta.test") {
            let answer = try DemoPeople.askPDP(alpha, """
                {"subject": {"kind": "user", "address": "alice@alpha.test"}, "action": "send",
                 "resource": {"recipient": "bob@beta.test"}}
                """, passphrase: passphrase)
            guard answer.contains("\"decision\":\"permit\"") else { throw DemoFailure(answer) }
            return "permit (rule partner-mail)"
        }
        report.expectRefusal("alpha.test PDP: alice sends a program as an attachment") {
            let answer = try DemoPeople.askPDP(alpha, """
                {"subject": {"kind": "user", "address": "alice@alpha.test"}, "action": "send",
                 "resource": {"recipient": "bob@beta.test",
                              "attachments": [{"size": 70000, "mediaType": "application/x-msdownload"}]}}
                """, passphrase: passphrase)
            return answer.contains("\"decision\":\"deny\"") ? "deny, rule no-executables" : nil
        }
        report.expectRefusal("alpha.test PDP: alice writes to carol@gamma.test (no agreement)") {
            let answer = try DemoPeople.askPDP(alpha, """
                {"subject": {"kind": "user", "address": "alice@alpha.test"}, "action": "send",
                 "resource": {"recipient": "carol@gamma.test"}}
                """, passphrase: passphrase)
            return answer.contains("\"decision\":\"deny\"") ? "deny, no rule permits it" : nil
        }
    }

    private func runLetterSteps(alice: DemoUser, bob: DemoUser, intern: DemoUser, alpha: DemoDomain,
                                beta: DemoDomain) throws {
        let attachment = SecureRandom.bytes(4 * 1024 * 1024)
        let aliceMail = DemoMailbox(user: alice), bobMail = DemoMailbox(user: bob)
        var composed: ComposedLetter?
        var reference: AttachmentReference?
        report.step("alice seals a 4 MiB attachment and uploads it once to mail.alpha.test") {
            var (ciphertext, sealed) = try AttachmentSealer.seal(attachment, fileName: "report.pdf",
                                                                mediaType: "application/pdf")
            sealed.attachmentID = try aliceMail.upload(ciphertext)
            sealed.server = "mail.alpha.test"
            reference = sealed
            return "attachment \(sealed.attachmentID.prefix(16))…, \(ciphertext.count) bytes of ciphertext"
        }
        report.step("alice signs, then encrypts for bob and herself, asking for a receipt") {
            let letter = Letter(from: MailAddress("alice@alpha.test"), to: [MailAddress("bob@beta.test")],
                                subject: "Quarterly report", body: "Dear Bob,\nthe report is attached.\nAlice\n",
                                references: reference.map { [$0] } ?? [],
                                receiptRequest: ReceiptRequest(receiptsTo: ["alice@alpha.test"]))
            let result = try LetterComposer.compose(letter, signer: try alice.signer,
                                                    recipients: [bob.encryption.certificate],
                                                    senderCertificate: alice.encryption.certificate)
            composed = result
            return "S/MIME message of \(result.message.count) bytes (AES-256-GCM, ECDH), id \(result.messageID.prefix(12))…"
        }
        guard let composed, let reference else { return }
        var messageID = ""
        report.step("alice submits it to mail.alpha.test, which asks its PDP") {
            let result = try aliceMail.submit(composed.message, to: ["bob@beta.test"],
                                              attachments: [.init(id: reference.attachmentID, mediaType: "application/pdf")])
            guard let id = result.messageId, result.recipients.first?.status == "queued" else {
                throw DemoFailure("\(result.recipients)")
            }
            messageID = id
            return "bob@beta.test queued (\(result.recipients.first?.reason ?? ""))"
        }
        report.step("mail.alpha.test delivers to mail.beta.test over SMTP with mutual TLS") {
            let entry = try bobMail.waitFor { $0.message.id == messageID }
            return "stored in bob's mailbox with a verified transfer assertion (\(entry.message.size) bytes)"
        }
        var read: ReadLetter?
        report.step("bob decrypts and verifies the signature") {
            let letter = try LetterReader.read(try bobMail.content(messageID), key: bob.encryption.key,
                                               certificate: bob.encryption.certificate)
            guard letter.senderCheck.isConsistent else { throw DemoFailure("sender mismatch: \(letter.senderCheck)") }
            read = letter
            return "from \(letter.letter.from.address), subject \"\(letter.letter.subject)\", signature valid"
        }
        guard let read else { return }
        report.step("bob validates alice's chain with OCSP") {
            let verdict = DemoPeople.validate(read.signerCertificate, of: alpha, purpose: .emailSigning,
                                              intermediates: read.certificates)
            guard verdict.isValid else { throw DemoFailure(verdict.summary) }
            return verdict.summary
        }
        report.step("bob fetches and opens the attachment") {
            guard let reference = read.letter.references.first else { throw DemoFailure("no attachment reference") }
            let plaintext = try AttachmentOpener.open(try bobMail.attachment(reference.attachmentID), reference: reference)
            guard plaintext == attachment else { throw DemoFailure("the attachment differs") }
            return "\(plaintext.count) bytes via mail.beta.test (fetched once from alpha.test), SHA-256 matches the signed reference"
        }
        report.step("alice sees the signed delivery notification") {
            let entry = try aliceMail.waitFor { $0.message.kind == .notification }
            let opened = try DeliveryNotification.open(try aliceMail.content(entry.message.id))
            guard opened.notification.messageId == messageID, opened.notification.status == .delivered,
                  opened.signer == beta.pki.servers["mail"]?.certificate else {
                throw DemoFailure("unexpected notification \(opened.notification)")
            }
            return "\(opened.notification.recipient) at \(RFC3339.string(from: opened.notification.time)), signed by mail.beta.test"
        }
        report.step("bob's signed receipt travels back, and alice verifies it") {
            let receipt = try ReceiptComposer.receipt(for: read, signer: try bob.signer)
            let sent = try bobMail.submit(receipt, to: ["alice@alpha.test"])
            guard let receiptID = sent.messageId else { throw DemoFailure("\(sent.recipients)") }
            let arrived = try aliceMail.waitFor { $0.message.id == receiptID }
            let verified = try ReceiptChecker.verify(try aliceMail.content(arrived.message.id), original: composed.signedData,
                                                     certificates: [bob.signing.certificate])
            let signer = verified.signer.certificate
            let verdict = DemoPeople.validate(signer, of: beta, purpose: .emailSigning)
            guard verdict.isValid else { throw DemoFailure(verdict.summary) }
            return "receipt signed by \(signer.emailAddresses.first ?? "?"), bound to the original signature"
        }
        report.expectRefusal("mail.alpha.test refuses alice's program for bob (policy)") {
            let program = try aliceMail.upload(Data(repeating: 0x4d, count: 70_000))
            let result = try aliceMail.submit(composed.message, to: ["bob@beta.test"],
                                              attachments: [.init(id: program, mediaType: "application/x-msdownload")])
            guard result.messageId == nil, let refusal = result.recipients.first, refusal.status == "refused" else { return nil }
            return refusal.reason
        }
        report.expectRefusal("mail.alpha.test refuses \(intern.address)'s letter for bob (policy forbids the sender)") {
            let letter = Letter(from: MailAddress(intern.address), to: [MailAddress("bob@beta.test")],
                                subject: "Hello", body: "Dear Bob,\nmay I write to you?\nDave\n")
            let sealed = try LetterComposer.compose(letter, signer: try intern.signer, recipients: [bob.encryption.certificate],
                                                    senderCertificate: intern.encryption.certificate)
            let result = try DemoMailbox(user: intern).submit(sealed.message, to: ["bob@beta.test"])
            guard result.messageId == nil, let refusal = result.recipients.first, refusal.status == "refused" else { return nil }
            return refusal.reason
        }
        report.expectRefusal("a server that is not registered tries to deliver to mail.beta.test") {
            try DemoIntruder.deliver(to: beta)
        }

        report.section("Revocation")
        report.expectRefusal("after revoking alice's signing certificate, bob refuses it") {
            let ca = try federation.certificateAuthority(of: alpha)
            try ca.revoke(serialHex: alice.signing.certificate.serialNumberHex, reason: .keyCompromise)
            let verdict = DemoPeople.validate(read.signerCertificate, of: alpha, purpose: .emailSigning,
                                              intermediates: read.certificates)
            return verdict.isValid ? nil : verdict.summary
        }
        report.expectRefusal("after the revocation, alice's certificate no longer logs in to mail.alpha.test") {
            do {
                _ = try DemoMailbox(user: alice).me()
                return nil
            } catch {
                return "\(error)"
            }
        }
    }
}
