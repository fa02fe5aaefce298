// The running CA server (`semd ca`) against independent clients: curl for EST enrolment,
// openssl ocsp for revocation status, openssl verify -crl_check with the served CRL.
import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

/// A domain on disk with its CA server running on free loopback ports.
private final class RunningCA {
    let scratch: ScratchDirectory
    let httpsPort: UInt16
    let httpPort: UInt16
    let server: BackgroundProcess
    let environment: [String: String]

    /// `configure` may change ca.json before the server starts.
    init(configure: (inout [String: Any]) -> Void = { _ in }) throws {
        scratch = try ScratchDirectory()
        let ports = try FreePorts.allocate(5)
        httpsPort = ports[2]
        httpPort = ports[3]
        environment = ["SEM_KEY_PASSPHRASE": "ca server test", "SEM_DOMAIN_DIR": scratch.path("alpha.test")]
        let created = try Programs.run("semctl", [
            "domain", "init", "alpha.test", "--dir", scratch.url.path, "--mail-https-port", "\(ports[0])",
            "--smtp-port", "\(ports[1])", "--ca-https-port", "\(httpsPort)", "--ca-http-port", "\(httpPort)",
            "--pdp-port", "\(ports[4])"], environment: environment)
        guard created.status == 0 else { throw ScratchError("domain init failed: \(created.all)") }
        var configuration = try JSONSerialization.jsonObject(with: try scratch.read("alpha.test/ca.json")) as? [String: Any] ?? [:]
        configure(&configuration)
        try scratch.write("alpha.test/ca.json", try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted]))
        server = try BackgroundProcess(Programs.url("semd"), ["ca", "--config", scratch.path("alpha.test/ca.json")],
                                       environment: environment, readyText: "semd ca ready")
    }

    deinit { server.stop() }

    func semctl(_ arguments: [String]) throws -> ToolResult {
        try Programs.run("semctl", arguments, environment: environment, in: scratch.url)
    }

    func pki(_ name: String) -> String { scratch.path("alpha.test/pki/\(name)") }

    /// curl against the CA's HTTPS side, reaching ca.alpha.test on loopback.
    func curl(_ path: String, _ arguments: [String]) throws -> ToolResult {
        try scratch.run("curl", ["--silent", "--show-error", "--cacert", pki("root-ca.pem"),
                                 "--resolve", "ca.alpha.test:\(httpsPort):127.0.0.1",
                                 "--write-out", "\n%{http_code}", "https://ca.alpha.test:\(httpsPort)\(path)"] + arguments)
    }

    /// Adds a user and returns the enrolment code printed by semctl; `extra` goes to
    /// `semctl user add` (for example a code lifetime).
    func addUser(_ address: String, _ extra: [String] = []) throws -> String {
        try code(from: try semctl(["user", "add", address, "--assurance", "substantial"] + extra))
    }

    /// The enrolment code in what `semctl user add` or `user code` printed.
    func code(from result: ToolResult) throws -> String {
        guard result.status == 0,
              let range = result.output.range(of: #"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}"#, options: .regularExpression) else {
            throw ScratchError("semctl user failed: \(result.all)")
        }
        return String(result.output[range])
    }

    /// EST simpleenroll of the signing certificate with `csr` (a curl `@file`) and `code`.
    func enrol(_ address: String, code: String, csr: String) throws -> (body: String, status: Int) {
        split(try curl("/.well-known/est/simpleenroll", [
            "-u", "\(address):\(code)", "-H", "Content-Type: application/pkcs10", "--data-binary", csr]))
    }

    /// Enrols a signing certificate with a fresh code; leaves <name>.pem and <name>.key.
    func enrolSigning(_ name: String, address: String) throws {
        let enrolled = try enrol(address, code: try addUser(address), csr: try opensslRequest(name, address: address))
        guard enrolled.status == 200, let der = Data(base64Encoded: enrolled.body, options: .ignoreUnknownCharacters) else {
            throw ScratchError("enrolment failed: \(enrolled.body)")
        }
        try scratch.write("\(name).p7", der)
        let printed = try scratch.openssl(["pkcs7", "-inform", "DER", "-in", "\(name).p7", "-print_certs", "-out", "\(name).pem"])
        guard printed.status == 0 else { throw ScratchError("openssl pkcs7 failed: \(printed.errors)") }
    }

    /// A key and CSR made by openssl; returns the path of the base64 DER CSR.
    func opensslRequest(_ name: String, address: String) throws -> String {
        let made = try scratch.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                        "-nodes", "-keyout", "\(name).key", "-subj", "/CN=\(address)",
                                        "-addext", "subjectAltName=email:\(address)", "-outform", "DER",
                                        "-out", "\(name).der"])
        guard made.status == 0 else { throw ScratchError("openssl req failed: \(made.errors)") }
        try scratch.write("\(name).b64", try scratch.read("\(name).der").base64EncodedString())
        return "@\(name).b64"
    }
}

/// The body and status of a curl run made with `--write-out "\n%{http_code}"`.
private func split(_ result: ToolResult) -> (body: String, status: Int) {
    let text = result.output
    guard let newline = text.lastIndex(of: "\n") else { return (text, 0) }
    return (String(text[..<newline]), Int(text[text.index(after: newline)...]) ?? 0)
}

@Suite("CA server", .serialized)
struct CAServerTests {
    @Test("curl enrols an openssl CSR; openssl ocsp and CRL checks follow a revocation")
    func enrolAndRevoke() throws {
        let ca = try RunningCA()
        let code = try ca.addUser("alice@alpha.test")
        let csr = try ca.opensslRequest("alice", address: "alice@alpha.test")
        let enrolled = split(try ca.curl("/.well-known/est/simpleenroll", [
            "-u", "alice@alpha.test:\(code)", "-H", "Content-Type: application/pkcs10", "--data-binary", csr]))
        #expect(enrolled.status == 200, "\(enrolled.body)")
        try ca.scratch.write("alice.p7.der", try #require(Data(base64Encoded: enrolled.body,
                                                                 options: .ignoreUnknownCharacters)))
        let printed = try ca.scratch.openssl(["pkcs7", "-inform", "DER", "-in", "alice.p7.der", "-print_certs",
                                              "-out", "alice.pem"])
        #expect(printed.status == 0, "\(printed.errors)")
        let certificate = try Certificate(pemEncoded: String(decoding: try ca.scratch.read("alice.pem"), as: UTF8.self))
        #expect(certificate.emailAddresses == ["alice@alpha.test"])

        // The same code cannot enrol a second signing certificate.
        let again = split(try ca.curl("/.well-known/est/simpleenroll", [
            "-u", "alice@alpha.test:\(code)", "-H", "Content-Type: application/pkcs10", "--data-binary", csr]))
        #expect(again.status == 403)
        #expect(again.body.contains("\"error\":\"enrolment-code-used\""))

        func ocsp() throws -> ToolResult {
            try ca.scratch.openssl(["ocsp", "-issuer", ca.pki("issuing-ca.pem"), "-cert", "alice.pem",
                                    "-url", "http://127.0.0.1:\(ca.httpPort)/ocsp", "-CAfile", ca.pki("chain.pem")])
        }
        func crlCheck() throws -> ToolResult {
            let fetched = try ca.scratch.run("curl", ["--silent", "--fail", "-o", "issuing.crl",
                                                      "http://127.0.0.1:\(ca.httpPort)/crl/issuing.crl"])
            #expect(fetched.status == 0)
            return try ca.scratch.openssl(["verify", "-crl_check", "-CAfile", ca.pki("chain.pem"), "-CRLfile",
                                           "issuing.crl", "-inform", "PEM", "alice.pem"])
        }
        func semctlVerify() throws -> ToolResult {
            try ca.semctl(["cert", "verify", ca.scratch.path("alice.pem"), "--anchor", ca.pki("root-ca.pem"),
                           "--untrusted", ca.pki("issuing-ca.pem"), "--purpose", "smime-sign", "--ocsp"])
        }
        let valid = try semctlVerify()
        #expect(valid.status == 0, "\(valid.all)")
        #expect(valid.output.contains("not revoked (ocsp)"))
        #expect(valid.output.contains("not revoked (crl)"))
        // RFC 6960 A.1 GET: the base64 request, percent-encoded, as the last path segment.
        let made = try ca.scratch.openssl(["ocsp", "-issuer", ca.pki("issuing-ca.pem"), "-cert", "alice.pem",
                                           "-reqout", "request.der", "-no_nonce"])
        #expect(made.status == 0, "\(made.errors)")
        let encoded = try ca.scratch.read("request.der").base64EncodedString()
            .replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "+", with: "%2B")
            .replacingOccurrences(of: "=", with: "%3D")
        let fetched = try ca.scratch.run("curl", ["--silent", "--fail", "-o", "get-response.der",
                                                  "http://127.0.0.1:\(ca.httpPort)/ocsp/\(encoded)"])
        #expect(fetched.status == 0)
        let viaGET = try ca.scratch.openssl(["ocsp", "-respin", "get-response.der", "-issuer", ca.pki("issuing-ca.pem"),
                                             "-cert", "alice.pem", "-CAfile", ca.pki("chain.pem")])
        #expect(viaGET.output.contains("alice.pem: good"), "\(viaGET.all)")
        let good = try ocsp()
        #expect(good.all.contains("Response verify OK"), "\(good.all)")
        #expect(good.output.contains("alice.pem: good"))
        // RFC 6960 §2.4: the responder says until when its answer may be relied on.
        let text = try ca.scratch.openssl(["ocsp", "-issuer", ca.pki("issuing-ca.pem"), "-cert", "alice.pem",
                                           "-url", "http://127.0.0.1:\(ca.httpPort)/ocsp", "-CAfile", ca.pki("chain.pem"),
                                           "-resp_text"])
        #expect(text.output.contains("Next Update:"), "\(text.all)")
        #expect(text.output.contains("This Update:"))
        // openssl verify reads a DER CRL with -CRLfile only in PEM; convert first.
        _ = try ca.scratch.openssl(["crl", "-inform", "DER", "-in", "issuing.crl", "-out", "issuing.crl"])

        let revoked = try ca.semctl(["cert", "revoke", certificate.serialNumberHex, "--reason", "keyCompromise"])
        #expect(revoked.status == 0, "\(revoked.all)")
        let after = try ocsp()
        #expect(after.output.contains("alice.pem: revoked"), "\(after.all)")
        #expect(after.output.contains("Key Compromise") || after.output.contains("keyCompromise"))
        let invalid = try semctlVerify()
        #expect(invalid.status == 1)
        #expect(invalid.output.contains("certificate-revoked"), "\(invalid.all)")
    }

    @Test("the CRL served by the CA makes openssl verify -crl_check refuse a revoked certificate")
    func crlAgreesWithRevocation() throws {
        let ca = try RunningCA()
        let code = try ca.addUser("bob@alpha.test")
        let csr = try ca.opensslRequest("bob", address: "bob@alpha.test")
        let enrolled = split(try ca.curl("/.well-known/est/sem-signing/simpleenroll", [
            "-u", "bob@alpha.test:\(code)", "-H", "Content-Type: application/pkcs10", "--data-binary", csr]))
        #expect(enrolled.status == 200)
        try ca.scratch.write("bob.p7.der", try #require(Data(base64Encoded: enrolled.body,
                                                               options: .ignoreUnknownCharacters)))
        _ = try ca.scratch.openssl(["pkcs7", "-inform", "DER", "-in", "bob.p7.der", "-print_certs", "-out", "bob.pem"])

        func verifyWithServedCRL() throws -> ToolResult {
            let fetched = try ca.scratch.run("curl", ["--silent", "--fail", "-o", "issuing.der",
                                                      "http://127.0.0.1:\(ca.httpPort)/crl/issuing.crl"])
            #expect(fetched.status == 0)
            _ = try ca.scratch.openssl(["crl", "-inform", "DER", "-in", "issuing.der", "-out", "issuing.pem"])
            return try ca.scratch.openssl(["verify", "-crl_check", "-CAfile", ca.pki("chain.pem"),
                                           "-CRLfile", "issuing.pem", "bob.pem"])
        }
        #expect(try verifyWithServedCRL().status == 0)
        #expect(try ca.semctl(["cert", "revoke", "bob@alpha.test", "--reason", "superseded"]).status == 0)
        let refused = try verifyWithServedCRL()
        #expect(refused.status != 0)
        #expect(refused.all.contains("certificate revoked"))
    }

    @Test("the key archive refuses an enveloped key that does not match the CSR and accepts the right one")
    func keyArchiveOverHTTPS() throws {
        let ca = try RunningCA()
        let code = try ca.addUser("carol@alpha.test")
        let csr = try ca.opensslRequest("carol", address: "carol@alpha.test")
        func envelope(_ keyFile: String) throws -> String {
            let converted = try ca.scratch.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", keyFile, "-outform", "DER",
                                                    "-out", "\(keyFile).p8"])
            #expect(converted.status == 0)
            let sealed = try ca.scratch.openssl(["cms", "-encrypt", "-binary", "-aes-256-gcm", "-in", "\(keyFile).p8",
                                                 "-outform", "DER", "-out", "\(keyFile).cms", ca.pki("key-archive.pem")])
            #expect(sealed.status == 0, "\(sealed.errors)")
            return try ca.scratch.read("\(keyFile).cms").base64EncodedString()
        }
        _ = try ca.opensslRequest("other", address: "carol@alpha.test")
        let path = "/.well-known/est/sem-encryption/simpleenroll"
        let common = ["-u", "carol@alpha.test:\(code)", "-H", "Content-Type: application/pkcs10", "--data-binary", csr]
        let wrong = split(try ca.curl(path, common + ["-H", "SEM-Key-Archive: \(try envelope("other.key"))"]))
        #expect(wrong.status == 400)
        #expect(wrong.body.contains("key-archive-mismatch"))
        let missing = split(try ca.curl(path, common))
        #expect(missing.status == 400)
        #expect(missing.body.contains("key-archive-required"))
        let right = split(try ca.curl(path, common + ["-H", "SEM-Key-Archive: \(try envelope("carol.key"))"]))
        #expect(right.status == 200, "\(right.body)")
        let unauthenticated = split(try ca.curl(path, ["--data-binary", csr]))
        #expect(unauthenticated.status == 401)
    }

    @Test("the CA chain is served over EST; the directory answers certificate holders only")
    func cacertsAndDirectory() throws {
        let ca = try RunningCA()
        let chain = split(try ca.curl("/.well-known/est/cacerts", []))
        #expect(chain.status == 200)
        let bundle = try #require(Data(base64Encoded: chain.body, options: .ignoreUnknownCharacters))
        #expect(try CMSCertificateBundle.decode(bundle).count == 2)

        // Enrol both of dave's certificates, the encryption key archived.
        let code = try ca.addUser("dave@alpha.test")
        for (name, label) in [("dave", "sem-signing"), ("dave-enc", "sem-encryption")] {
            let csr = try ca.opensslRequest(name, address: "dave@alpha.test")
            var extra: [String] = []
            if label == "sem-encryption" {
                _ = try ca.scratch.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", "\(name).key", "-outform", "DER",
                                            "-out", "\(name).p8"])
                _ = try ca.scratch.openssl(["cms", "-encrypt", "-binary", "-aes-256-gcm", "-in", "\(name).p8",
                                            "-outform", "DER", "-out", "\(name).cms", ca.pki("key-archive.pem")])
                extra = ["-H", "SEM-Key-Archive: \(try ca.scratch.read("\(name).cms").base64EncodedString())"]
            }
            let enrolled = split(try ca.curl("/.well-known/est/\(label)/simpleenroll", [
                "-u", "dave@alpha.test:\(code)", "-H", "Content-Type: application/pkcs10", "--data-binary", csr] + extra))
            #expect(enrolled.status == 200, "\(enrolled.body)")
            try ca.scratch.write("\(name).p7", try #require(Data(base64Encoded: enrolled.body,
                                                                 options: .ignoreUnknownCharacters)))
            _ = try ca.scratch.openssl(["pkcs7", "-inform", "DER", "-in", "\(name).p7", "-print_certs",
                                        "-out", "\(name).pem"])
        }

        let anonymous = split(try ca.curl("/directory/dave@alpha.test", []))
        #expect(anonymous.status == 401)
        let withCertificate = ["--cert", ca.scratch.path("dave.pem"), "--key", ca.scratch.path("dave.key")]
        let found = split(try ca.curl("/directory/dave@alpha.test", withCertificate))
        #expect(found.status == 200, "\(found.body)")
        let answer = try JSONSerialization.jsonObject(with: Data(found.body.utf8)) as? [String: Any]
        let encryption = try Certificate(pemEncoded: try #require(answer?["encryption"] as? String))
        #expect(encryption.keyUsage?.contains(.keyAgreement) == true)
        #expect((answer?["chain"] as? [String])?.count == 2)
        let missing = split(try ca.curl("/directory/nobody@alpha.test", withCertificate))
        #expect(missing.status == 404)
        #expect(missing.body.contains("certificate-not-found"))
    }

    @Test("an expired enrolment code is refused over EST; a fresh code for the same user enrols")
    func expiredCode() throws {
        let ca = try RunningCA()
        let added = try ca.semctl(["user", "add", "erin@alpha.test", "--code-lifetime", "1"])
        #expect(added.output.contains("valid 1 second,"), "\(added.all)")
        let code = try ca.code(from: added)
        let csr = try ca.opensslRequest("erin", address: "erin@alpha.test")
        Thread.sleep(forTimeInterval: 2.2)
        let expired = try ca.enrol("erin@alpha.test", code: code, csr: csr)
        #expect(expired.status == 403)
        #expect(expired.body.contains("\"error\":\"enrolment-code-expired\""), "\(expired.body)")
        #expect(expired.body.contains("has expired; ask for a new one"))

        let fresh = try ca.code(from: try ca.semctl(["user", "code", "erin@alpha.test"]))
        #expect(try ca.enrol("erin@alpha.test", code: fresh, csr: csr).status == 200)

        // Lifetimes outside 1 second .. 90 days, or given twice, are usage errors.
        for wrong in [["--code-lifetime", "0"], ["--code-lifetime", "7776001"], ["--code-lifetime", "soon"],
                      ["--code-lifetime", "60", "--code-days", "1"]] {
            let refused = try ca.semctl(["user", "code", "erin@alpha.test"] + wrong)
            #expect(refused.status == 2, "\(wrong): \(refused.all)")
            #expect(refused.errors.contains("--code-"), "\(refused.all)")
        }
    }

    @Test("the directory answers 429 with a JSON error once a caller exceeds its requests per minute")
    func directoryRateLimit() throws {
        let ca = try RunningCA { $0["directoryRequestsPerMinute"] = 3 }
        try ca.enrolSigning("frank", address: "frank@alpha.test")
        let withCertificate = ["--cert", ca.scratch.path("frank.pem"), "--key", ca.scratch.path("frank.key"),
                               "--dump-header", ca.scratch.path("headers.txt")]
        for _ in 1...3 {
            // frank has no encryption certificate yet, so the directory has no entry; the
            // look-ups count all the same.
            let answered = split(try ca.curl("/directory/frank@alpha.test", withCertificate))
            #expect(answered.status == 404, "\(answered.body)")
        }
        let limited = split(try ca.curl("/directory/frank@alpha.test", withCertificate))
        #expect(limited.status == 429)
        let error = try JSONSerialization.jsonObject(with: Data(limited.body.utf8)) as? [String: Any]
        #expect(error?["error"] as? String == "too-many-requests", "\(limited.body)")
        #expect((error?["message"] as? String)?.contains("Too many directory look-ups") == true)
        let headers = String(decoding: try ca.scratch.read("headers.txt"), as: UTF8.self).lowercased()
        #expect(headers.contains("retry-after: 60"), "\(headers)")
        #expect(headers.contains("content-type: application/json"))
        // The limit is per caller: a certificate holder who has not asked yet is answered.
        try ca.enrolSigning("grace", address: "grace@alpha.test")
        let other = split(try ca.curl("/directory/frank@alpha.test", [
            "--cert", ca.scratch.path("grace.pem"), "--key", ca.scratch.path("grace.key")]))
        #expect(other.status == 404, "\(other.body)")
    }

    @Test("semctl cert verify judges with CRL files and at a given time, with the documented exit codes")
    func verifyWithCRLFilesAndTime() throws {
        let ca = try RunningCA()
        try ca.enrolSigning("henry", address: "henry@alpha.test")
        func downloadCRL() throws {
            let fetched = try ca.scratch.run("curl", ["--silent", "--fail", "-o", "issuing.crl",
                                                      "http://127.0.0.1:\(ca.httpPort)/crl/issuing.crl"])
            #expect(fetched.status == 0)
        }
        // The leaf's revocation comes from the issuing CA's CRL, the issuing CA's from the root's.
        func verify(_ extra: [String]) throws -> ToolResult {
            try ca.semctl(["cert", "verify", ca.scratch.path("henry.pem"), "--anchor", ca.pki("root-ca.pem"),
                           "--untrusted", ca.pki("issuing-ca.pem"), "--purpose", "smime-sign"] + extra)
        }
        let crls = ["--crl", ca.scratch.path("issuing.crl"), "--crl", ca.pki("root.crl")]
        let iso = ISO8601DateFormatter()
        try downloadCRL()

        let valid = try verify(crls)
        #expect(valid.status == 0, "\(valid.all)")
        #expect(valid.output.hasPrefix("valid:"))
        #expect(valid.output.contains("not revoked (crl)"))
        // Without any revocation evidence the answer is unknown, and that is a refusal.
        let unknown = try verify([])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("revocation-unknown"), "\(unknown.all)")

        // --at: a moment inside the validity of the certificate and the CRLs, one before the
        // certificate was issued, and one after it has expired.
        let soon = try verify(crls + ["--at", iso.string(from: Date().addingTimeInterval(300))])
        #expect(soon.status == 0, "\(soon.all)")
        let before = try verify(crls + ["--at", "2001-01-01T00:00:00Z"])
        #expect(before.status == 1)
        #expect(before.output.contains("certificate-not-yet-valid"), "\(before.all)")
        let after = try verify(crls + ["--at", iso.string(from: Date().addingTimeInterval(2 * 365 * 86400))])
        #expect(after.status == 1)
        #expect(after.output.contains("certificate-expired"), "\(after.all)")
        let malformed = try verify(crls + ["--at", "next tuesday"])
        #expect(malformed.status == 2)
        #expect(malformed.errors.contains("ISO 8601"), "\(malformed.all)")

        // After the revocation the reissued CRL, given as a file, says so.
        #expect(try ca.semctl(["cert", "revoke", "henry@alpha.test", "--reason", "keyCompromise"]).status == 0)
        let earlier = try verify(crls)
        #expect(earlier.status == 0, "the CRL downloaded before the revocation lists nothing: \(earlier.all)")
        try downloadCRL()
        let revoked = try verify(crls)
        #expect(revoked.status == 1)
        #expect(revoked.output.contains("certificate-revoked"), "\(revoked.all)")
        #expect(revoked.output.contains("keyCompromise") || revoked.output.contains("Key Compromise"))
    }
}
