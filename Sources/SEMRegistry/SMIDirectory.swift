// The SMI server's directory: its configuration, log database, keys and the certificates
// that relying parties pin.
//
//   smi.json           SMIConfiguration
//   registry.sqlite    the log and the trust lists issued or mirrored
//   keys/              encrypted key files (or a PKCS#11 token, per smi.json)
//   pki/smi-root.pem   the SMI root: issues the signer and every SMI server's TLS
//                      certificate; clients of the SMI's HTTPS trust it
//   pki/smi.pem        the registry signer: signs log entries and trust lists; the one
//                      certificate mail clients, servers and PDPs pin as federation anchor
//   pki/tls-smi.pem    this server's TLS certificate, for `smi.federation.test`
//
// A follower's directory holds the same two public certificates and its own TLS key and
// certificate, issued by the leader's root; it holds neither the root nor the signer key.
public import Foundation
public import SEMCredentials
public import SEMCrypto
public import SEMLogging
import SEMStorage

/// The SMI server's configuration, `smi.json`.
public struct SMIConfiguration: Codable, Sendable, Equatable {
    public var role = "smi"
    /// Where `semd smi` serves HTTPS.
    public var https: Endpoint
    /// The log database, relative to the directory.
    public var database: String
    public var keys: KeyStoreConfiguration
    /// How long a trust list stays current: its nextUpdate minus its issue time.
    public var trustListLifetimeSeconds: Int
    /// The issuer name written into trust lists.
    public var issuer: String
    /// A follower's leader, `https://host:port`; nil for the leader.
    public var leader: String?
    /// How often a follower pulls the leader's log, in seconds.
    public var pullIntervalSeconds: Double

    public init(https: Endpoint, database: String = "registry.sqlite", keys: KeyStoreConfiguration = .file(),
                trustListLifetimeSeconds: Int = 86400, issuer: String = "CryptoNET SMI", leader: String? = nil,
                pullIntervalSeconds: Double = 5) {
        self.https = https
        self.database = database
        self.keys = keys
        self.trustListLifetimeSeconds = trustListLifetimeSeconds
        self.issuer = issuer
        self.leader = leader
        self.pullIntervalSeconds = pullIntervalSeconds
    }
}

/// The files of an SMI directory and how to create and load them.
public struct SMIDirectory: Sendable {
    public let url: URL

    /// The host name on every SMI server's TLS certificate.
    public static let serverName = "smi.federation.test"

    /// Key labels in the directory's key store.
    public enum KeyLabel {
        public static let root = "smi-root"
        public static let signer = "smi-signer"
        public static let tls = "tls-smi"
    }

    public init(url: URL) { self.url = url.standardizedFileURL }

    public func path(_ relative: String) -> URL { url.appendingPathComponent(relative) }
    public var configurationURL: URL { path("smi.json") }
    public var rootCertificateURL: URL { path("pki/smi-root.pem") }
    /// The registry signer certificate consumers pin.
    public var signerCertificateURL: URL { path("pki/smi.pem") }
    public var tlsCertificateURL: URL { path("pki/tls-smi.pem") }

    /// Creates a leader: keys, root, signer and TLS certificates, configuration, empty log.
    /// Refuses to overwrite an existing configuration.
    @discardableResult
    public func initialiseLeader(configuration: SMIConfiguration, keyStore: any KeyStore,
                                 at time: Date = Date()) throws -> CertifiedKey {
        try prepare()
        let notBefore = time.addingTimeInterval(-300)
        let root = try CertificateIssuer.selfSignedRoot(
            subject: Self.name("CryptoNET SMI Root"), key: try keyStore.generateKey(label: KeyLabel.root, algorithm: .ecP256),
            notBefore: notBefore, notAfter: time.addingTimeInterval(20 * 365 * 86400))
        let signerKey = try keyStore.generateKey(label: KeyLabel.signer, algorithm: .ecP256)
        let signer = try root.issue(.registrySigner, CertificateParameters(
            subject: Self.name("CryptoNET SMI Registry Signer"), publicKey: signerKey.publicKey, notBefore: notBefore,
            notAfter: time.addingTimeInterval(5 * 365 * 86400)))
        try write(root.certificate, to: rootCertificateURL)
        try write(signer, to: signerCertificateURL)
        try issueTLSCertificate(keyStore: keyStore, root: root, at: time)
        try finish(configuration)
        return try CertifiedKey(certificate: signer, key: signerKey)
    }

    /// Creates a follower of `leader` (whose key store `leaderKeys` unlocks the root key
    /// that certifies the follower's TLS key). Refuses to overwrite an existing configuration.
    public func initialiseFollower(configuration: SMIConfiguration, keyStore: any KeyStore, leader: SMIDirectory,
                                   leaderKeys: any KeyStore, at time: Date = Date()) throws {
        guard configuration.leader != nil else {
            throw RegistryError(.storage, "A follower's configuration must name its leader.")
        }
        try prepare()
        let rootCertificate = try leader.rootCertificate()
        let root = try CertificateIssuer(certificate: rootCertificate, key: try leaderKeys.privateKey(label: KeyLabel.root))
        try write(rootCertificate, to: rootCertificateURL)
        try write(try leader.signerCertificate(), to: signerCertificateURL)
        try issueTLSCertificate(keyStore: keyStore, root: root, at: time)
        try finish(configuration)
    }

    public func configuration() throws -> SMIConfiguration {
        do {
            return try JSONDecoder().decode(SMIConfiguration.self, from: try Data(contentsOf: configurationURL))
        } catch {
            throw RegistryError(.storage, "Cannot read the SMI configuration \(configurationURL.path): \(error)")
        }
    }

    public func rootCertificate() throws -> Certificate { try Self.readCertificate(rootCertificateURL) }
    public func signerCertificate() throws -> Certificate { try Self.readCertificate(signerCertificateURL) }

    /// The leader's signing certificate and key.
    public func signer(keyStore: any KeyStore) throws -> CertifiedKey {
        try CertifiedKey(certificate: try signerCertificate(), key: try keyStore.privateKey(label: KeyLabel.signer))
    }

    /// This server's TLS certificate and key.
    public func tlsCredential(keyStore: any KeyStore) throws -> CertifiedKey {
        try CertifiedKey(certificate: try Self.readCertificate(tlsCertificateURL), key: try keyStore.privateKey(label: KeyLabel.tls))
    }

    /// Opens the log database.
    public func openLog(_ configuration: SMIConfiguration, logger: Logger = .disabled) throws -> RegistryLog {
        let database = try RegistryLog.storage { try Database(path: path(configuration.database).path) }
        return try RegistryLog(database: database, logger: logger)
    }

    /// Reads a PEM certificate, with an error naming the file.
    public static func readCertificate(_ url: URL) throws -> Certificate {
        do { return try Certificate(pemEncoded: try String(contentsOf: url, encoding: .utf8)) } catch {
            throw RegistryError(.storage, "Cannot read the certificate \(url.path): \(error)")
        }
    }

    // MARK: Creation steps

    private static func name(_ common: String) -> DistinguishedName {
        DistinguishedName([("O", "CryptoNET SMI"), ("CN", common)])
    }

    private func prepare() throws {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: configurationURL.path) else {
            throw RegistryError(.storage, "An SMI directory already exists at \(url.path).")
        }
        try manager.createDirectory(at: path("pki"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    private func issueTLSCertificate(keyStore: any KeyStore, root: CertificateIssuer, at time: Date) throws {
        let key = try keyStore.generateKey(label: KeyLabel.tls, algorithm: .ecP256)
        let certificate = try root.issue(.domainServer, CertificateParameters(
            subject: Self.name(Self.serverName), publicKey: key.publicKey, notBefore: time.addingTimeInterval(-300),
            notAfter: time.addingTimeInterval(2 * 365 * 86400), dnsNames: [Self.serverName]))
        try write(certificate, to: tlsCertificateURL)
    }

    private func finish(_ configuration: SMIConfiguration) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        _ = try openLog(configuration)
        try encoder.encode(configuration).write(to: configurationURL, options: .atomic)
    }

    private func write(_ certificate: Certificate, to file: URL) throws {
        try Data(certificate.pemEncoded.utf8).write(to: file, options: .atomic)
    }
}
