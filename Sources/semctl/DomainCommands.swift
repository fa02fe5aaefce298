// semctl domain ...
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto
import SEMPolicy

enum DomainCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        guard arguments.first == "init" else { throw UsageError("Expected 'domain init'.") }
        let portNames = ["mail-https-port", "smtp-port", "ca-https-port", "ca-http-port", "pdp-port"]
        let parsed = try Arguments(arguments.dropFirst(),
                                   options: Set(["dir", "host", "secret-file", "token", "module"] + portNames))
        var ports = DomainDirectory.Ports()
        for name in portNames {
            guard let text = parsed.value(name) else { continue }
            guard let port = UInt16(text), port > 0 else { throw UsageError("--\(name) must be a port from 1 to 65535.") }
            switch name {
            case "mail-https-port": ports.mailHTTPS = port
            case "smtp-port": ports.smtp = port
            case "ca-https-port": ports.caHTTPS = port
            case "ca-http-port": ports.caHTTP = port
            default: ports.pdpHTTPS = port
            }
        }
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
        let pki = try create(directory, keyConfiguration: keyConfiguration, ports: ports,
                             host: parsed.value("host") ?? "127.0.0.1")
        print("created \(domainName) in \(directory.url.path)")
        print("root CA fingerprint (SHA-256): \(pki.identity.root.fingerprint)")
        return 0
    }
}

extension DomainCommands {
    /// Creates a domain directory with its PKI and configuration, and records the
    /// domain's own certificates in the CA database (so that its OCSP responder and its
    /// checks answer "good", not "unknown", for them).
    static func create(_ directory: DomainDirectory, keyConfiguration: KeyStoreConfiguration,
                       ports: DomainDirectory.Ports, host: String,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DomainPKI {
        try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let keyStore = try keyConfiguration.open(relativeTo: directory.url, environment: environment)
        let pki = try directory.initialise(keyStore: keyStore, keyConfiguration: keyConfiguration, ports: ports,
                                           host: host,
                                           policyJSON: Data(try DefaultPolicy.jsonText(for: directory.domain).utf8))
        let ca = try openCertificateAuthority(directory, keyStore: keyStore)
        for (role, server) in pki.servers { try ca.recordServerCertificate(server.certificate, role: role) }
        try ca.recordServerCertificate(pki.identity.ocspResponder.certificate, role: "ocsp")
        try ca.recordServerCertificate(pki.identity.keyArchive.certificate, role: "key-archive")
        try ca.recordCertificate(pki.administrator.certificate, address: "admin@\(directory.domain)", kind: .signing)
        return pki
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
func openCertificateAuthority(_ directory: DomainDirectory, keyStore: (any KeyStore)? = nil) throws
    -> CertificateAuthority {
    let configuration = try directory.caConfiguration()
    let keyStore = try keyStore ?? configuration.keys.open(relativeTo: directory.url)
    let store = try CAStore(path: directory.path(configuration.database).path)
    return CertificateAuthority(identity: try directory.loadCAIdentity(keyStore: keyStore), store: store,
                                crlURL: configuration.crlURL, ocspURL: configuration.ocspURL,
                                certificateLifetime: TimeInterval(configuration.certificateLifetimeDays) * 86400)
}
