// semctl as an administrator uses it: a domain on disk, users, revocation, path checks.
import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("semctl")
struct SemctlTests {
    private let environment = ["SEM_KEY_PASSPHRASE": "end-to-end passphrase"]

    private func semctl(_ arguments: [String], in scratch: ScratchDirectory, domain: Bool = true) throws -> ToolResult {
        var environment = self.environment
        if domain { environment["SEM_DOMAIN_DIR"] = scratch.path("alpha.test") }
        return try Programs.run("semctl", arguments, environment: environment, in: scratch.url)
    }

    @Test("domain init, then cert verify accepts the mail server certificate against the root")
    func domainInitAndVerify() throws {
        let scratch = try ScratchDirectory()
        let created = try semctl(["domain", "init", "alpha.test", "--dir", scratch.url.path], in: scratch, domain: false)
        #expect(created.status == 0, "\(created.all)")
        #expect(created.output.contains("root CA fingerprint"))
        let pki = "alpha.test/pki/"
        let verify = ["cert", "verify", pki + "tls-mail.pem", "--anchor", pki + "root-ca.pem",
                      "--untrusted", pki + "issuing-ca.pem", "--purpose", "tls-server"]
        let hard = try semctl(verify, in: scratch)
        #expect(hard.status == 1)
        #expect(hard.output.contains("revocation-unknown"))
        let soft = try semctl(verify + ["--soft-fail"], in: scratch)
        #expect(soft.status == 0, "\(soft.all)")
        let wrongPurpose = try semctl(verify + ["--soft-fail", "--purpose", "smime-encrypt"], in: scratch)
        #expect(wrongPurpose.status == 1)
        #expect(wrongPurpose.output.contains("wrong-usage"))
        let usage = try semctl(["cert", "verify", pki + "tls-mail.pem"], in: scratch)
        #expect(usage.status == 2)
        #expect(usage.errors.contains("--anchor"))
    }

    @Test("user add prints a code; a duplicate user and a foreign address are refused with a clear line")
    func userAdd() throws {
        let scratch = try ScratchDirectory()
        #expect(try semctl(["domain", "init", "alpha.test", "--dir", scratch.url.path], in: scratch, domain: false)
            .status == 0)
        let added = try semctl(["user", "add", "alice@alpha.test", "--assurance", "high"], in: scratch)
        #expect(added.status == 0, "\(added.all)")
        #expect(added.output.range(of: #"[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}"#, options: .regularExpression) != nil)
        let again = try semctl(["user", "add", "alice@alpha.test"], in: scratch)
        #expect(again.status == 1)
        #expect(again.errors.contains("user-exists"))
        let foreign = try semctl(["user", "add", "bob@beta.test"], in: scratch)
        #expect(foreign.status == 1)
        #expect(foreign.errors.contains("invalid-address"))
        let badLevel = try semctl(["user", "add", "carol@alpha.test", "--assurance", "extreme"], in: scratch)
        #expect(badLevel.status == 2)
    }

    @Test("without the key passphrase, commands that need keys fail and say how to provide it")
    func missingPassphrase() throws {
        let scratch = try ScratchDirectory()
        let result = try Programs.run("semctl", ["domain", "init", "alpha.test", "--dir", scratch.url.path],
                                      environment: ["SEM_KEY_PASSPHRASE": ""], in: scratch.url)
        #expect(result.status == 1)
        #expect(result.errors.contains("SEM_KEY_PASSPHRASE"))
    }
}
