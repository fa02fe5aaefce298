import Foundation
import SEMCredentials
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Domain directory")
struct DomainDirectoryTests {
    @Test("initialising a domain writes certificates, 0600 key files and per-role configurations that load back")
    func initialiseAndLoad() throws {
        let scratch = try ScratchDirectory()
        let domain = DomainDirectory(domain: "alpha.test", parent: scratch.url)
        let keys = try EncryptedKeyFileStore(directory: domain.path("keys"), passphrase: Secret("demo passphrase"),
                                             iterations: 20_000)
        let pki = try domain.initialise(keyStore: keys, keyConfiguration: .file(), policyJSON: Data("{}".utf8))
        #expect(try keys.labels().count == 8)
        for label in try keys.labels() {
            let mode = try FileManager.default.attributesOfItem(atPath: try keys.fileURL(label: label).path)[.posixPermissions]
            #expect((mode as? NSNumber)?.intValue == 0o600)
        }
        let configuration = try domain.caConfiguration()
        #expect(configuration.domain == "alpha.test")
        #expect(configuration.ocspURL.hasSuffix("/ocsp"))
        #expect(try domain.mailConfiguration().smtp.port == 2525)

        let identity = try domain.loadCAIdentity(keyStore: keys)
        #expect(identity.root == pki.identity.root)
        #expect(identity.issuer.certificate == pki.identity.issuer.certificate)
        let mail = try domain.loadServerCredential(role: "mail", keyStore: keys)
        #expect(mail.key.certificate.dnsNames == ["mail.alpha.test"])

        // The chain verifies with openssl, and a second initialisation is refused.
        let verified = try scratch.openssl(["verify", "-CAfile", domain.certificateURL("root-ca").path, "-untrusted",
                                            domain.certificateURL("issuing-ca").path, "-purpose", "sslserver",
                                            domain.certificateURL("tls-mail").path])
        #expect(verified.status == 0, "\(verified.all)")
        #expect(throws: CredentialsError(.configurationInvalid, "")) {
            try domain.initialise(keyStore: keys, keyConfiguration: .file(), policyJSON: Data("{}".utf8))
        }
    }

    @Test("a key store secret comes from the environment or a private file, never a readable one")
    func keyStoreSecrets() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("secret", "from file\n", secret: true)
        let configuration = KeyStoreConfiguration.file(secretFile: "secret")
        let fromFile = try configuration.open(relativeTo: scratch.url, environment: [:])
        #expect(fromFile is EncryptedKeyFileStore)
        try scratch.write("open-secret", "readable")
        #expect(throws: CredentialsError(.configurationInvalid, "")) {
            try KeyStoreConfiguration.file(secretFile: "open-secret").open(relativeTo: scratch.url, environment: [:])
        }
        #expect(throws: CredentialsError(.configurationInvalid, "")) {
            try KeyStoreConfiguration.file().open(relativeTo: scratch.url, environment: [:])
        }
    }
}
