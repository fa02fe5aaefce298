// A domain whose keys live on a PKCS#11 token (SoftHSM2), created and used by semctl.
import Foundation
import SEMTestSupport
import Testing

@Suite("Domain keys on a token")
struct TokenDomainTests {
    @Test("domain init generates every key on the token; semctl then works with the token PIN")
    func domainOnToken() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("tokens"), withIntermediateDirectories: true)
        try scratch.write("softhsm2.conf", "directories.tokendir = \(scratch.path("tokens"))\nobjectstore.backend = file\n")
        let pin = "4711-\(UUID().uuidString.prefix(6))"
        let environment = ["SOFTHSM2_CONF": scratch.path("softhsm2.conf"), "SEM_TOKEN_PIN": pin,
                           "SEM_DOMAIN_DIR": scratch.path("alpha.test")]
        let token = try scratch.run("softhsm2-util", ["--init-token", "--free", "--label", "alpha-ca", "--so-pin",
                                                      "so-\(pin)", "--pin", pin], environment: environment)
        #expect(token.status == 0, "\(token.all)")

        let created = try Programs.run("semctl", ["domain", "init", "alpha.test", "--dir", scratch.url.path,
                                                  "--token", "alpha-ca"], environment: environment)
        #expect(created.status == 0, "\(created.all)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("alpha.test/keys")))
        let configuration = String(decoding: try scratch.read("alpha.test/ca.json"), as: UTF8.self)
        #expect(configuration.contains("\"kind\" : \"pkcs11\""))
        #expect(!configuration.contains(pin))

        let objects = try scratch.run("pkcs11-tool", ["--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label",
                                                      "alpha-ca", "--login", "--pin", pin, "--list-objects",
                                                      "--type", "privkey"], environment: environment)
        #expect(objects.status == 0)
        for label in ["root-ca", "issuing-ca", "ocsp-responder", "key-archive", "domain-admin", "tls-mail", "tls-ca",
                      "tls-pdp"] {
            #expect(objects.output.contains("label:      \(label)"), "\(label) missing from \(objects.output)")
        }
        #expect(objects.output.contains("never extractable"))

        let added = try Programs.run("semctl", ["user", "add", "alice@alpha.test"], environment: environment)
        #expect(added.status == 0, "\(added.all)")
        var wrongPIN = environment
        wrongPIN["SEM_TOKEN_PIN"] = "wrong"
        let refused = try Programs.run("semctl", ["user", "add", "bob@alpha.test"], environment: wrongPIN)
        #expect(refused.status == 1)
        #expect(refused.errors.contains("token-failure"))
        #expect(!refused.errors.contains("wrong"))
    }
}
