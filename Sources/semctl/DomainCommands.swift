// semctl domain ...
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto

enum DomainCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        guard arguments.first == "init" else { throw UsageError("Expected 'domain init'.") }
        let parsed = try Arguments(arguments.dropFirst(), options: ["dir", "host", "secret-file", "token", "module"])
        try parsed.expectPositionals(atMost: 1)
        let domainName = try parsed.positional(0, "the domain name").lowercased()
        let parent = URL(fileURLWithPath: parsed.value("dir") ?? FileManager.default.currentDirectoryPath)
        let directory = DomainDirectory(domain: domainName, parent: parent)
        let keyConfiguration: KeyStoreConfiguration
        if let token = parsed.value("token") {
            keyConfiguration = .pkcs11(module: parsed.value("module") ?? "/usr/lib/softhsm/libsofthsm2.so",
                                       token: token, secretFile: parsed.value("secret-file"))
        } else {
            keyConfiguration = .file(secretFile: parsed.value("secret-file"))
        }
        try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let keyStore = try keyConfiguration.open(relativeTo: directory.url)
        let pki = try directory.initialise(keyStore: keyStore, keyConfiguration: keyConfiguration,
                                           host: parsed.value("host") ?? "127.0.0.1",
                                           policyJSON: Data(DefaultDomainPolicy.json(domain: domainName).utf8))
        print("created \(domainName) in \(directory.url.path)")
        print("root CA fingerprint (SHA-256): \(pki.identity.root.fingerprint)")
        return 0
    }
}

/// Locates the domain directory from --domain-dir or $SEM_DOMAIN_DIR.
func domainDirectory(_ parsed: Arguments) throws -> DomainDirectory {
    guard let path = parsed.value("domain-dir") ?? ProcessInfo.processInfo.environment["SEM_DOMAIN_DIR"] else {
        throw UsageError("Name the domain directory with --domain-dir or $SEM_DOMAIN_DIR.")
    }
    return DomainDirectory(url: URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL)
}

/// The domain's CA service over its database, with keys from its configured key store.
func openCertificateAuthority(_ directory: DomainDirectory) throws -> CertificateAuthority {
    let configuration = try directory.caConfiguration()
    let keyStore = try configuration.keys.open(relativeTo: directory.url)
    let store = try CAStore(path: directory.path(configuration.database).path)
    return CertificateAuthority(identity: try directory.loadCAIdentity(keyStore: keyStore), store: store,
                                crlURL: configuration.crlURL, ocspURL: configuration.ocspURL,
                                certificateLifetime: TimeInterval(configuration.certificateLifetimeDays) * 86400)
}
