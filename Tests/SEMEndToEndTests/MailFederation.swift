// A federation on loopback for the mail server tests: an SMI, alpha.test and beta.test with
// an agreement, each with `semd ca`, `semd pdp` and `semd mail`, and users enrolled over EST
// by openssl and curl. The client API is driven by curl with the user's certificate.
import Foundation
import SEMTestSupport

final class MailFederation {
    let scratch: ScratchDirectory
    let environment = ["SEM_KEY_PASSPHRASE": "mail server test"]
    let smi: RunningSMI
    /// Ports per domain: mail HTTPS, SMTP, CA HTTPS, CA HTTP, PDP.
    let ports: [String: [UInt16]]
    private(set) var processes: [String: BackgroundProcess] = [:]

    init() throws {
        scratch = try ScratchDirectory()
        let free = try FreePorts.allocate(11)
        ports = ["alpha.test": Array(free[1...5]), "beta.test": Array(free[6...10])]
        smi = try RunningSMI.start(in: scratch, port: free[0], environment: environment)
        for domain in ["alpha.test", "beta.test"] {
            try createRegisteredDomain(domain, in: scratch, ports: ports[domain]![...], smi: smi, environment: environment)
            try run("semctl", ["smi", "approve", domain, "--smi-dir", smi.directory])
            // Quick retries, so the queue tests do not wait minutes.
            try editJSON("\(domain)/mail.json") {
                $0["retrySchedule"] = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
                $0["queueIntervalSeconds"] = 0.2
            }
        }
        try run("semctl", ["agreement", "propose", "beta.test", "--id", "alpha-beta", "--domain-dir", scratch.path("alpha.test")])
        try run("semctl", ["agreement", "accept", "alpha-beta", "--domain-dir", scratch.path("beta.test")])
        for domain in ["alpha.test", "beta.test"] {
            for role in ["ca", "pdp", "mail"] { try start(role, of: domain) }
        }
    }

    deinit {
        for process in processes.values { process.stop() }
        smi.process.stop()
    }

    func start(_ role: String, of domain: String) throws {
        processes["\(role) \(domain)"] = try BackgroundProcess(
            Programs.url("semd"), [role, "--config", scratch.path("\(domain)/\(role).json")], environment: environment,
            readyText: "semd \(role) ready")
    }

    func stop(_ role: String, of domain: String) {
        processes.removeValue(forKey: "\(role) \(domain)")?.stop()
    }

    func process(_ role: String, of domain: String) -> BackgroundProcess? { processes["\(role) \(domain)"] }

    @discardableResult
    func run(_ program: String, _ arguments: [String]) throws -> ToolResult {
        let result = try Programs.run(program, arguments, environment: environment)
        guard result.status == 0 else { throw FixtureError("\(program) \(arguments.prefix(2)) failed: \(result.all)") }
        return result
    }

    func editJSON(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: try scratch.read(path)) as? [String: Any] ?? [:]
        change(&object)
        try scratch.write(path, try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]))
    }

    /// Adds `address` and enrols a signing certificate for it over EST (openssl makes the
    /// key and CSR, curl talks EST), and with `encryption` an encryption certificate too,
    /// its key archived as the CA demands. Leaves <address>.pem/.key (and
    /// <address>-enc.pem/.key) in the scratch directory. `assurance` is the level the user
    /// is registered at (semctl's default when nil).
    func enrol(_ address: String, encryption: Bool = false, assurance: String? = nil) throws {
        let domain = String(address.split(separator: "@")[1])
        let added = try run("semctl", ["user", "add", address, "--domain-dir", scratch.path(domain)]
                                + (assurance.map { ["--assurance", $0] } ?? []))
        guard let range = added.output.range(of: #"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}"#, options: .regularExpression) else {
            throw FixtureError("no enrolment code in: \(added.output)")
        }
        let code = String(added.output[range])
        try enrolCertificate(address, name: address, label: "sem-signing", code: code, domain: domain)
        if encryption { try enrolCertificate(address, name: "\(address)-enc", label: "sem-encryption", code: code, domain: domain) }
    }

    private func enrolCertificate(_ address: String, name: String, label: String, code: String, domain: String) throws {
        let made = try scratch.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                        "-keyout", "\(name).key", "-subj", "/CN=\(address)",
                                        "-addext", "subjectAltName=email:\(address)", "-outform", "DER", "-out", "\(name).csr"])
        guard made.status == 0 else { throw FixtureError("openssl req: \(made.errors)") }
        try scratch.write("\(name).csr.b64", try scratch.read("\(name).csr").base64EncodedString())
        var archive: [String] = []
        if label == "sem-encryption" {
            _ = try scratch.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", "\(name).key", "-outform", "DER", "-out", "\(name).p8"])
            let sealed = try scratch.openssl(["cms", "-encrypt", "-binary", "-aes-256-gcm", "-in", "\(name).p8", "-outform", "DER",
                                              "-out", "\(name).p8.cms", scratch.path("\(domain)/pki/key-archive.pem")])
            guard sealed.status == 0 else { throw FixtureError("openssl cms: \(sealed.errors)") }
            archive = ["-H", "SEM-Key-Archive: \(try scratch.read("\(name).p8.cms").base64EncodedString())"]
        }
        let caPort = ports[domain]![2]
        let enrolled = try scratch.run("curl", [
            "--silent", "--fail", "--cacert", scratch.path("\(domain)/pki/root-ca.pem"),
            "--resolve", "ca.\(domain):\(caPort):127.0.0.1", "-u", "\(address):\(code)",
            "-H", "Content-Type: application/pkcs10", "--data-binary", "@\(name).csr.b64"] + archive
            + ["https://ca.\(domain):\(caPort)/.well-known/est/\(label)/simpleenroll"])
        guard enrolled.status == 0, let der = Data(base64Encoded: enrolled.output, options: .ignoreUnknownCharacters) else {
            throw FixtureError("EST enrolment of \(name) failed: \(enrolled.all)")
        }
        try scratch.write("\(name).p7", der)
        let printed = try scratch.openssl(["pkcs7", "-inform", "DER", "-in", "\(name).p7", "-print_certs", "-out", "\(name).pem"])
        guard printed.status == 0 else { throw FixtureError("openssl pkcs7: \(printed.errors)") }
    }

    /// curl against the mail server of `user`'s domain as `user`; returns status and body.
    func api(_ user: String, _ path: String, _ arguments: [String] = [], certificate: Bool = true) throws
        -> (status: Int, body: Data) {
        let result = try request(user, path, arguments, certificate: certificate)
        return (result.status, result.body)
    }

    /// As `api`, with what curl said on standard error (status 0 when no HTTP answer came).
    func request(_ user: String, _ path: String, _ arguments: [String] = [], certificate: Bool = true) throws
        -> (status: Int, body: Data, errors: String) {
        let domain = String(user.split(separator: "@")[1])
        return try https("mail", of: domain, path, (certificate ? ["--cert", "\(user).pem", "--key", "\(user).key"] : [])
                            + arguments)
    }

    /// curl against the HTTPS service `role` ("mail", "ca" or "pdp") of `domain`, trusting
    /// the domain's root; `arguments` choose the client certificate, if any. Returns as
    /// `request` does.
    func https(_ role: String, of domain: String, _ path: String, _ arguments: [String] = []) throws
        -> (status: Int, body: Data, errors: String) {
        let port = ports[domain]![["mail": 0, "ca": 2, "pdp": 4][role]!]
        let curl = ["--silent", "--show-error", "--cacert", scratch.path("\(domain)/pki/root-ca.pem"),
                    "--resolve", "\(role).\(domain):\(port):127.0.0.1", "--output", "response.bin",
                    "--write-out", "%{http_code}"]
        let result = try scratch.run("curl", curl + arguments + ["https://\(role).\(domain):\(port)\(path)"])
        let body = (try? scratch.read("response.bin")) ?? Data()
        try? FileManager.default.removeItem(atPath: scratch.path("response.bin"))
        return (Int(result.output) ?? 0, body, result.errors)
    }

    /// The statements of the notifications in `user`'s mailbox (GET /v1/notifications)
    /// whose CMS, fetched as content, openssl verifies against `domain`'s root.
    func notifications(_ user: String, signedBy domain: String) throws -> [[String: Any]] {
        let page = Self.object(try api(user, "/v1/notifications?after=0&limit=1000").body)
        var verified: [[String: Any]] = []
        for item in page["entries"] as? [[String: Any]] ?? [] {
            guard let statement = item["notification"] as? [String: Any], let messageID = statement["messageId"] as? String,
                  let id = ((item["entry"] as? [String: Any])?["message"] as? [String: Any])?["id"] as? String else { continue }
            try scratch.write("notice.der", try api(user, "/v1/messages/\(id)/content").body)
            let opened = try scratch.openssl(["cms", "-verify", "-inform", "DER", "-in", "notice.der",
                                              "-CAfile", scratch.path("\(domain)/pki/root-ca.pem"), "-purpose", "any"])
            if opened.status == 0, opened.output.contains(messageID) { verified.append(statement) }
        }
        return verified
    }

    /// Exports the registered mail server key of `domain` unencrypted into the scratch
    /// directory, so that swaks can speak as that server; returns (certificate, key) paths.
    func serverCredentialFiles(_ domain: String) throws -> (certificate: String, key: String) {
        let key = scratch.path("\(domain)-mail.key")
        let exported = try scratch.run("openssl", ["pkey", "-in", scratch.path("\(domain)/keys/tls-mail.key.pem"),
                                                   "-passin", "env:SEM_KEY_PASSPHRASE", "-out", key], environment: environment)
        guard exported.status == 0 else { throw FixtureError("cannot export the mail key of \(domain): \(exported.errors)") }
        return (scratch.path("\(domain)/pki/tls-mail.pem"), key)
    }

    /// The JSON object of a response body.
    static func object(_ body: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }

    /// Mailbox entries of `user`: (kind, message id, flags).
    func mailbox(_ user: String) throws -> [(kind: String, id: String, flags: [String])] {
        let page = Self.object(try api(user, "/v1/messages?after=0&limit=1000").body)
        return (page["entries"] as? [[String: Any]] ?? []).compactMap { entry in
            guard let message = entry["message"] as? [String: Any], entry["deleted"] as? Bool == false else { return nil }
            return (message["kind"] as? String ?? "", message["id"] as? String ?? "", entry["flags"] as? [String] ?? [])
        }
    }

    /// Submits `content` from `user` and returns the parsed answer with the HTTP status.
    func submit(_ user: String, to recipients: [String], content: Data, attachments: [[String: String]] = []) throws
        -> (status: Int, answer: [String: Any]) {
        let body: [String: Any] = ["recipients": recipients, "content": content.base64EncodedString(), "attachments": attachments]
        try scratch.write("submission.json", try JSONSerialization.data(withJSONObject: body))
        let result = try api(user, "/v1/messages", ["-H", "Content-Type: application/json", "--data-binary", "@submission.json"])
        return (result.status, Self.object(result.body))
    }
}
