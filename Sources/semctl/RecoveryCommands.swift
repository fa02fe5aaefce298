// semctl recovery ... and semctl audit ...: M-of-N recovery of archived encryption keys
// and the export of a user's mailbox, every step in the CA's signed audit log
// (docs/RECOVERY.md).
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto
import SEMMail
import SEMMessage
import SEMPolicy
import SEMRegistry

enum RecoveryCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        let rest = Array(arguments.dropFirst())
        switch arguments.first {
        case "officers":
            guard rest.first == "set" else { throw UsageError("Expected 'recovery officers set'.") }
            return try setOfficers(Array(rest.dropFirst()))
        case "request": return try request(rest)
        case "approve": return try approve(rest)
        case "export": return try export(rest)
        default: throw UsageError("Expected 'recovery officers set', 'recovery request', 'recovery approve' or 'recovery export'.")
        }
    }

    /// The domain's CA and key store, opened once, with the recovery service over them.
    private static func open(_ parsed: Arguments) throws -> (DomainDirectory, KeyRecovery) {
        let directory = try domainDirectory(parsed)
        let keyStore = try directory.caConfiguration().keys.open(relativeTo: directory.url)
        let ca = try openCertificateAuthority(directory, keyStore: keyStore)
        return (directory, KeyRecovery(ca: ca, keyStore: keyStore))
    }

    /// Who acts: `--actor-cert FILE`, or the domain administrator's certificate.
    private static func actor(_ parsed: Arguments, _ directory: DomainDirectory, option: String = "actor-cert") throws
        -> Certificate {
        if let path = parsed.value(option) { return try readCertificate(path) }
        return try directory.certificate(DomainPKI.KeyLabel.administrator)
    }

    static func setOfficers(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["threshold", "actor-cert", "domain-dir"])
        guard let threshold = Int(try parsed.required("threshold")) else {
            throw UsageError("--threshold must be a whole number.")
        }
        guard !parsed.positionals.isEmpty else { throw UsageError("Name at least one officer certificate.") }
        let officers = try parsed.positionals.map(readCertificate)
        let (directory, recovery) = try open(parsed)
        let configuration = try recovery.setOfficers(officers, threshold: threshold, actor: try actor(parsed, directory))
        print("recovery officers set: any \(configuration.threshold) of \(configuration.officers.count) recover")
        for officer in configuration.officers {
            print("  share \(officer.x): \(officer.certificate.subject) (SHA-256 \(officer.fingerprint))")
        }
        return 0
    }

    static func request(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["user", "reason", "requester-cert", "domain-dir"])
        try parsed.expectPositionals(atMost: 0)
        let user = try parsed.required("user").lowercased()
        let reason = try parsed.required("reason")
        let (directory, recovery) = try open(parsed)
        let opened = try recovery.openRequest(user: user, reason: reason,
                                              requester: try actor(parsed, directory, option: "requester-cert"))
        let threshold = try recovery.ca.store.recoveryConfiguration()?.threshold ?? 0
        print("recovery request \(opened.id) opened for \(user); it needs \(threshold) officer approvals")
        return 0
    }

    static func approve(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["officer-cert", "officer-key", "token", "module", "key-label",
                                                        "domain-dir"])
        try parsed.expectPositionals(atMost: 1)
        let id = try parsed.positional(0, "the request id")
        let certificate = try readCertificate(try parsed.required("officer-cert"))
        let officerKey = try CertifiedKey(certificate: certificate, key: try officerPrivateKey(parsed))
        let (directory, recovery) = try open(parsed)
        let request = try recovery.openRequest(id)
        _ = try recovery.officer(certificate)

        // The domain policy decides whether this officer may take part (action recover-key,
        // the officer as subject, the user whose key it is as resource).
        let decision = try decide(officer: certificate, user: request.address, directory: directory)
        guard decision.isPermit else {
            try recovery.recordRefusal(id, actor: certificate, user: request.address,
                                       reason: "policy denies recover-key: \(decision.reason)")
            CommandRunner.printError("semctl: recovery-refused: the domain policy denies this approval: \(decision.reason)")
            return 1
        }
        let notification = decision.obligations.compactMap { obligation -> String? in
            if case .notifyUser(let message) = obligation { return message ?? "your archived encryption key was recovered" }
            return nil
        }.first
        let obligations = decision.obligations.map { $0.description }
        let detail = obligations.isEmpty ? nil : "obligations: " + obligations.joined(separator: ", ")
        let (count, threshold) = try recovery.approve(id, officerKey: officerKey, notification: notification, detail: detail)
        print("approval \(count) of \(threshold) recorded for request \(id)")
        if let notification { print("policy: \(request.address) is to be told: \(notification)") }
        return 0
    }

    static func export(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["out", "to", "actor-cert", "domain-dir"])
        try parsed.expectPositionals(atMost: 1)
        let id = try parsed.positional(0, "the request id")
        let out = URL(fileURLWithPath: try parsed.required("out"), isDirectory: true)
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: out.path), !existing.isEmpty {
            throw UsageError("\(out.path) is not empty; export into a new directory.")
        }
        let recipient = try parsed.value("to").map(readCertificate)
        let (directory, recovery) = try open(parsed)
        let actor = try actor(parsed, directory)
        if let recipient, case .invalid(let failure) = recovery.ca.localValidator.validate(
            recipient, policy: ValidationPolicy(purpose: .emailEncryption)) {
            throw UsageError("--to needs a valid encryption certificate of \(directory.domain): \(failure)")
        }
        let request = try recovery.openRequest(id)
        let keys = try recovery.recoverKeys(id, actor: actor)
        let summary = try MailboxExport.write(user: request.address, keys: keys, directory: directory, to: out,
                                              recipient: recipient)
        let detail = "\(summary.exported) letters exported"
            + (summary.failed > 0 ? ", \(summary.failed) could not be read" : "")
            + (recipient.map { ", re-encrypted to \($0.fingerprint)" } ?? ", decrypted")
        try recovery.finish(id, actor: actor, detail: detail)
        print("request \(id): \(detail) into \(out.path)")
        if let notification = request.notification {
            print("policy: \(request.address) is to be told: \(notification)")
        }
        return 0
    }

    /// The officer's decryption key: an encrypted PKCS#8 file (passphrase in
    /// $SEM_OFFICER_PASSPHRASE or typed), or a key on the officer's PKCS#11 token (PIN in
    /// $SEM_OFFICER_PIN or typed). The domain's own secret stays in $SEM_KEY_PASSPHRASE.
    private static func officerPrivateKey(_ parsed: Arguments) throws -> PrivateKey {
        let environment = ProcessInfo.processInfo.environment
        switch (parsed.value("officer-key"), parsed.value("token")) {
        case (let path?, nil):
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw UsageError("Cannot read \(path).") }
            let passphrase = environment["SEM_OFFICER_PASSPHRASE"].map { Secret($0) }
                ?? TerminalSecretPrompt.ask("Enter the passphrase of \(path): ", rememberAs: "SEM_OFFICER_PASSPHRASE")
            return try PrivateKey(pemEncoded: text, passphrase: passphrase)
        case (nil, let token?):
            guard let pin = environment["SEM_OFFICER_PIN"].map({ Secret($0) })
                ?? TerminalSecretPrompt.ask("Enter the PIN of token \(token): ", rememberAs: "SEM_OFFICER_PIN") else {
                throw UsageError("Set $SEM_OFFICER_PIN or run on a terminal to type the token's PIN.")
            }
            let store = try PKCS11TokenStore(modulePath: parsed.value("module") ?? "/usr/lib/softhsm/libsofthsm2.so",
                                             tokenLabel: token, pin: pin)
            return try store.privateKey(label: parsed.value("key-label") ?? "sem-encryption")
        default:
            throw UsageError("Give the officer's key with --officer-key FILE or --token LABEL.")
        }
    }

    /// The policy's answer to `officer` recovering the key of `user`.
    private static func decide(officer: Certificate, user: String, directory: DomainDirectory) throws -> DecisionResponse {
        let policy = try DomainPolicy(directory: directory, configuration: try directory.pdpConfiguration(),
                                      cacheTimeToLive: nil)
        let assurance = SEMPolicy.AssuranceLevel(certificatePolicies: officer.policies)
        let subject = try RequestSubject(kind: .user, address: officer.emailAddresses.first?.lowercased(),
                                         assurance: assurance)
        return policy.engine.decide(DecisionRequest(subject: subject, action: .recoverKey,
                                                    resource: try RequestResource(recipient: user)))
    }
}

/// The first certificate in a PEM or DER file.
private func readCertificate(_ path: String) throws -> Certificate {
    guard let certificate = try CertCommands.loadCertificates(path).first else {
        throw UsageError("\(path) holds no certificate.")
    }
    return certificate
}

enum AuditCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first, ["verify", "show"].contains(verb) else {
            throw UsageError("Expected 'audit verify' or 'audit show'.")
        }
        let parsed = try Arguments(arguments.dropFirst(), options: ["domain-dir"])
        try parsed.expectPositionals(atMost: 0)
        let directory = try domainDirectory(parsed)
        let configuration = try directory.caConfiguration()
        // Only the database and the issuing CA's certificate: an auditor needs no secret.
        let log = AuditLog(store: try CAStore(path: directory.path(configuration.database).path))
        if verb == "show" {
            for record in try log.records() {
                let fields = [record.request.map { "request \($0)" }, record.user.map { "user \($0)" },
                              record.reason.map { "reason \"\($0)\"" }, record.detail].compactMap { $0 }
                print("\(record.sequence) \(ISO8601DateFormatter().string(from: record.time)) \(record.action) "
                      + "actor \(record.actor.prefix(16)) " + fields.joined(separator: "; "))
            }
            return 0
        }
        let issuer = try directory.certificate(DomainPKI.KeyLabel.issuing)
        switch try log.verify(signer: issuer.publicKey) {
        case .valid(let count, let head):
            print("audit log valid: \(count) records, head \(head)")
            return 0
        case .broken(let sequence, let reason):
            print("audit log broken at record \(sequence): \(reason)")
            return 1
        }
    }
}

/// Writes a recovered mailbox: each letter decrypted with whichever archived key opens
/// it, its signature checked, and the letter as its sender signed it written as
/// NNNN.eml, or with a recipient certificate sealed to it as NNNN.eml.p7m (CMS). An
/// index.json lists every message with its sender, signer and outcome.
enum MailboxExport {
    struct Summary {
        var exported = 0
        var failed = 0
    }

    static func write(user: String, keys: [CertifiedKey], directory: DomainDirectory, to out: URL,
                      recipient: Certificate?) throws -> Summary {
        let configuration = try directory.mailConfiguration()
        let storage = try SQLiteMailStorage(databasePath: directory.path(configuration.database).path,
                                            blobDirectory: directory.path(configuration.blobs))
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var summary = Summary()
        var index: [[String: Any]] = []
        var after: Int64 = 0
        var number = 0
        while true {
            let page = try storage.changes(of: user, after: after, limit: 500)
            guard let last = page.last else { break }
            after = last.modseq
            for entry in page where !entry.deleted && entry.message.kind == .message {
                number += 1
                let name = String(format: "%04d.eml", number)
                var item: [String: Any] = ["file": recipient == nil ? name : name + ".p7m", "id": entry.message.id,
                                           "sender": entry.message.sender,
                                           "received": ISO8601DateFormatter().string(from: entry.message.receivedAt)]
                do {
                    let (letter, signed) = try read(try storage.content(of: entry.message), keys: keys)
                    var plain = signed
                    defer { plain.wipe() }
                    if let recipient {
                        try CMSEnvelope.encrypt(plain, for: [recipient]).write(to: out.appendingPathComponent(name + ".p7m"))
                    } else {
                        try plain.write(to: out.appendingPathComponent(name))
                    }
                    item["subject"] = letter.letter.subject
                    item["signer"] = letter.signerCertificate.subject.description
                    item["signature"] = "verified"
                    summary.exported += 1
                } catch {
                    item["error"] = "\(error)"
                    summary.failed += 1
                }
                index.append(item)
            }
        }
        try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys])
            .write(to: out.appendingPathComponent("index.json"))
        return summary
    }

    /// The letter and the bytes its sender signed, with the first key that opens it.
    private static func read(_ content: Data, keys: [CertifiedKey]) throws -> (ReadLetter, Data) {
        var lastError: any Error = CredentialsError(.recoveryRefused, "No archived key of the user opens this letter.")
        for key in keys {
            do {
                let letter = try LetterReader.read(content, key: key.key, certificate: key.certificate)
                let signed = try letter.detachedContent ?? CMSVerifier.verify(letter.signedData).content
                return (letter, signed)
            } catch let error as CryptoError where error.code == .noMatchingRecipient {
                lastError = error
            }
        }
        throw lastError
    }
}
