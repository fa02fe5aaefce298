// The sem commands: argument parsing and printing around SEMClient.
import Foundation
import SEMClient
import SEMCommandLine
import SEMCredentials
import SEMCrypto
import SEMTransport

enum ClientCommands {
    static var home: ClientHome { ClientHome.fromEnvironment() }

    static func enroll(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["ca", "server", "mail", "root", "address", "code", "smi-signer", "token",
                                                        "module", "secret-file", "scanner"], flags: ["key-file", "store-passphrase"])
        try parsed.expectPositionals(atMost: 0)
        if parsed.flag("key-file"), parsed.value("token") != nil {
            throw UsageError("Choose either --token LABEL or --key-file for the signing key, not both.")
        }
        // --server names the domain's enrolment (EST) server; --ca is its older name.
        guard let caValue = parsed.value("server") ?? parsed.value("ca") else {
            throw UsageError("--server URL (the domain's enrolment server) is required.")
        }
        func certificate(_ option: String) throws -> Certificate {
            let path = try parsed.required(option)
            do { return try Certificate(pemEncoded: try String(contentsOfFile: path, encoding: .utf8)) } catch {
                throw UsageError("--\(option) \(path) is not a PEM certificate.")
            }
        }
        let keys: KeyStoreConfiguration = parsed.value("token").map {
            .pkcs11(module: parsed.value("module") ?? "/usr/lib/softhsm/libsofthsm2.so", token: $0,
                    secretFile: parsed.value("secret-file"))
        } ?? .file(secretFile: parsed.value("secret-file"))
        let request = ClientEnrolment.Request(
            address: try parsed.required("address"), code: Secret(try parsed.required("code")),
            ca: try endpoint(caValue, "--server"), mail: try endpoint(parsed.required("mail"), "--mail"),
            root: try certificate("root"), smiSigner: parsed.value("smi-signer") == nil ? nil : try certificate("smi-signer"),
            signingKeys: keys)
        var enrolment = request
        enrolment.storePassphrase = parsed.flag("store-passphrase")
        if let scanner = parsed.value("scanner") {
            do { _ = try ClamdScanner(endpoint: scanner) } catch { throw UsageError("--scanner must be HOST:PORT.") }
            enrolment.scanner = scanner
        }
        let configuration = try ClientEnrolment.enrol(enrolment, into: home)
        print("enrolled \(configuration.address) in \(home.url.path); signing key "
              + (parsed.value("token").map { "on token \($0)" } ?? "in an encrypted key file")
              + ", encryption key archived with the CA")
        return 0
    }

    static func send(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["to", "cc", "subject", "body-file", "attach", "attach-for"],
                                   flags: ["receipt", "json"])
        try parsed.expectPositionals(atMost: 0)
        let body: String
        if let file = parsed.value("body-file") {
            do { body = try String(contentsOfFile: file, encoding: .utf8) } catch { throw UsageError("Cannot read \(file).") }
        } else {
            body = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        var privateAttachments: [String: [URL]] = [:]
        for value in parsed.values("attach-for") {
            guard let equals = value.firstIndex(of: "="), equals > value.startIndex, value.index(after: equals) < value.endIndex else {
                throw UsageError("--attach-for must be ADDRESS=FILE.")
            }
            privateAttachments[String(value[..<equals]), default: []].append(URL(fileURLWithPath: String(value[value.index(after: equals)...])))
        }
        let session = try ClientSession(home: home, progress: TerminalProgress.reporter())
        let report = try session.send(OutgoingLetter(to: parsed.values("to"), cc: parsed.values("cc"),
                                                     subject: try parsed.required("subject"), body: body,
                                                     attachments: parsed.values("attach").map { URL(fileURLWithPath: $0) },
                                                     privateAttachments: privateAttachments, receipt: parsed.flag("receipt")))
        if parsed.flag("json") { return try printJSON(report) }
        print("message \(report.messageId ?? "not stored") (\(report.encryption))")
        for recipient in report.recipients { print("  \(recipient.address): \(recipient.status) — \(recipient.reason)") }
        for letter in report.letters where !letter.privateAttachments.isEmpty {
            print("  letter \(letter.messageId ?? "not stored") for \(letter.recipients.joined(separator: ", ")) only, with "
                  + letter.privateAttachments.joined(separator: ", "))
        }
        return report.messageId == nil ? 1 : 0
    }

    static func sync(_ arguments: [String]) throws -> Int32 {
        try Arguments(arguments).expectPositionals(atMost: 0)
        print("\(try ClientSession(home: home).sync()) new or changed entries")
        return 0
    }

    static func inbox(_ arguments: [String]) throws -> Int32 { try list(arguments) { try $0.inbox() } }

    static func receipts(_ arguments: [String]) throws -> Int32 { try list(arguments) { try $0.receipts() } }

    /// Prints the summaries `select` picks, a line each or as JSON with --json.
    private static func list(_ arguments: [String],
                             _ select: (ClientSession) throws -> [ClientStore.Summary]) throws -> Int32 {
        let parsed = try Arguments(arguments, flags: ["json"])
        let summaries = try select(try ClientSession(home: home))
        if parsed.flag("json") { return try printJSON(summaries) }
        for summary in summaries { print(line(summary)) }
        return 0
    }

    static func read(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, flags: ["no-receipt", "json"])
        try parsed.expectPositionals(atMost: 1)
        let result = try ClientSession(home: home).read(try parsed.positional(0, "the message id"),
                                                        sendReceipt: !parsed.flag("no-receipt"))
        let letter = result.letter
        let attachments = letter.attachments.map { "\($0.fileName) (\($0.content.count) bytes)" }
            + letter.references.map { "\($0.fileName) (\($0.size) bytes, fetched on demand)" }
        if parsed.flag("json") {
            struct Shown: Encodable {
                let from: String, to: [String], cc: [String], subject: String, date: Date, body: String, signer: String
                let verdict: String, assurance: String?, attachments: [String], receiptSent: Bool
            }
            return try printJSON(Shown(from: letter.from.address, to: letter.to.map(\.address), cc: letter.cc.map(\.address),
                                       subject: letter.subject,
                                       date: letter.date, body: letter.body, signer: result.signer.subject.description,
                                       verdict: "valid", assurance: result.assurance, attachments: attachments,
                                       receiptSent: result.receiptSent))
        }
        print("From: \(letter.from.address)\nTo: \(letter.to.map(\.address).joined(separator: ", "))")
        if !letter.cc.isEmpty { print("Cc: \(letter.cc.map(\.address).joined(separator: ", "))") }
        print("Subject: \(letter.subject)\nDate: \(letter.date)")
        print("Signature: valid, signed by \(result.signer.subject) (assurance \(result.assurance ?? "unknown"))")
        for (index, attachment) in attachments.enumerated() { print("Attachment \(index + 1): \(attachment)") }
        if result.receiptSent { print("A signed receipt was sent, as the sender asked.") }
        if let withheld = result.receiptWithheld { print("The sender asked for a signed receipt; none was sent: \(withheld).") }
        print("\n\(letter.body)")
        return 0
    }

    static func attachment(_ arguments: [String]) throws -> Int32 {
        guard arguments.first == "save" else { throw UsageError("Expected 'attachment save ID N PATH'.") }
        let parsed = try Arguments(arguments.dropFirst())
        try parsed.expectPositionals(atMost: 3)
        guard let number = Int(try parsed.positional(1, "the attachment number")) else {
            throw UsageError("The attachment number must be a whole number.")
        }
        let saved = try ClientSession(home: home, progress: TerminalProgress.reporter()).saveAttachment(try parsed.positional(0, "the message id"), number: number,
                                                                 to: URL(fileURLWithPath: try parsed.positional(2, "the path")))
        print("saved \(saved.name) (\(saved.bytes) bytes), both digests checked")
        return 0
    }

    static func report(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["reason"], flags: ["json"])
        try parsed.expectPositionals(atMost: 1)
        let report = try ClientSession(home: home).report(try parsed.positional(0, "the message id"),
                                                          reason: parsed.value("reason") ?? "abuse")
        if parsed.flag("json") { return try printJSON(report) }
        print("report \(report.id) filed about \(report.sender) (message \(report.messageId)); "
              + "your domain's administrator decides whether to suspend the sender")
        return 0
    }

    static func contacts(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first else { throw UsageError("Expected 'contacts add|list|remove|export'.") }
        let parsed = try Arguments(arguments.dropFirst(), flags: ["json"])
        let session = try ClientSession(home: home)
        switch verb {
        case "add":
            try parsed.expectPositionals(atMost: 2)
            try session.addContact(name: try parsed.positional(0, "the name"), address: try parsed.positional(1, "the address"))
            print("added; the address book on the server is updated (ciphertext only)")
        case "remove":
            try parsed.expectPositionals(atMost: 1)
            try session.removeContact(try parsed.positional(0, "the address"))
            print("removed")
        case "list", "export":
            let contacts = try session.contacts()
            if parsed.flag("json") || verb == "export" { return try printJSON(contacts) }
            for contact in contacts { print("\(contact.name) <\(contact.address)>") }
        default:
            throw UsageError("Unknown command 'contacts \(verb)'.")
        }
        return 0
    }

    // MARK: Output

    static func line(_ summary: ClientStore.Summary) -> String {
        let mark = summary.verdict == "valid" ? "ok " : "BAD"
        let date = ISO8601DateFormatter.string(from: summary.date, timeZone: TimeZone(identifier: "UTC")!,
                                               formatOptions: [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime])
        return "\(mark) \(summary.id)  \(date)  \(summary.from)  \(summary.subject)  [\(summary.verdict)"
            + (summary.assurance.map { ", assurance \($0)" } ?? "") + (summary.attachments > 0 ? ", \(summary.attachments) attachment(s)" : "")
            + "]"
    }

    static func printJSON(_ value: some Encodable) throws -> Int32 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
        return 0
    }

    /// HOST:PORT, or an https URL with a port (a path after it is ignored).
    static func endpoint(_ value: String, _ option: String) throws -> Endpoint {
        var text = Substring(value)
        if text.hasPrefix("https://") { text = text.dropFirst("https://".count).prefix { $0 != "/" } }
        guard let (host, port) = HostPort.split(text) else {
            throw UsageError("\(option) must be HOST:PORT or https://HOST:PORT.")
        }
        return Endpoint(host: host, port: port)
    }
}
