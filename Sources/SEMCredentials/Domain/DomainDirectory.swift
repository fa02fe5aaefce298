// A domain on disk, as `semctl domain init` creates it:
//
//   <parent>/<domain>/
//     pki/      root-ca.pem, issuing-ca.pem, chain.pem, ocsp-responder.pem, key-archive.pem,
//               domain-admin.pem, tls-mail.pem, tls-ca.pem, tls-pdp.pem, root.crl
//     keys/     the private keys as encrypted PKCS#8 files (mode 0600), unless on a token
//     ca.json, pdp.json, mail.json, policy.json
//
// The root key is needed only to issue the issuing CA and could be moved offline after
// initialisation; every server loads only the keys of its own role.
public import Foundation
public import SEMCrypto

public struct DomainDirectory: Sendable {
    public let domain: String
    public let url: URL

    public init(domain: String, parent: URL) {
        self.domain = domain
        self.url = parent.appendingPathComponent(domain, isDirectory: true)
    }

    /// Opens an existing domain directory at `url` (its last component is the domain).
    public init(url: URL) {
        self.url = url
        self.domain = url.lastPathComponent
    }

    public func path(_ relative: String) -> URL { url.appendingPathComponent(relative) }
    public var pkiDirectory: URL { path("pki") }
    public func certificateURL(_ label: String) -> URL { pkiDirectory.appendingPathComponent("\(label).pem") }
    public func configurationURL(role: String) -> URL { path("\(role).json") }
    public var policyURL: URL { path("policy.json") }
    public var rootCRLURL: URL { pkiDirectory.appendingPathComponent("root.crl") }

    /// Ports the servers of a new domain listen on.
    public struct Ports: Sendable {
        public var mailHTTPS: UInt16, smtp: UInt16, caHTTPS: UInt16, caHTTP: UInt16, pdpHTTPS: UInt16

        public init(mailHTTPS: UInt16 = 8443, smtp: UInt16 = 2525, caHTTPS: UInt16 = 9443, caHTTP: UInt16 = 9080,
                    pdpHTTPS: UInt16 = 9444) {
            self.mailHTTPS = mailHTTPS
            self.smtp = smtp
            self.caHTTPS = caHTTPS
            self.caHTTP = caHTTP
            self.pdpHTTPS = pdpHTTPS
        }
    }

    /// Creates the directory, the PKI (keys in `keyStore`), the certificates and one
    /// configuration per role. Refuses to overwrite an existing domain directory.
    @discardableResult
    public func initialise(keyStore: any KeyStore, keyConfiguration: KeyStoreConfiguration, ports: Ports = Ports(),
                           host: String = "127.0.0.1", policyJSON: Data, at time: Date = Date()) throws -> DomainPKI {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: configurationURL(role: "ca").path) else {
            throw CredentialsError(.configurationInvalid, "The domain \(domain) already exists at \(url.path).")
        }
        try manager.createDirectory(at: pkiDirectory, withIntermediateDirectories: true,
                                    attributes: [.posixPermissions: 0o755])
        let caHTTP = "http://\(host):\(ports.caHTTP)"
        let pki = try DomainPKI.create(domain: domain, keyStore: keyStore, revocationBaseURL: caHTTP, at: time)
        let identity = pki.identity
        try write(identity.root.pemEncoded, to: certificateURL(DomainPKI.KeyLabel.root))
        try write(identity.issuer.certificate.pemEncoded, to: certificateURL(DomainPKI.KeyLabel.issuing))
        try write(identity.chain.map(\.pemEncoded).joined(), to: certificateURL("chain"))
        try write(identity.ocspResponder.certificate.pemEncoded, to: certificateURL(DomainPKI.KeyLabel.ocspResponder))
        try write(identity.keyArchive.certificate.pemEncoded, to: certificateURL(DomainPKI.KeyLabel.keyArchive))
        try write(pki.administrator.certificate.pemEncoded, to: certificateURL(DomainPKI.KeyLabel.administrator))
        for (role, server) in pki.servers {
            try write(server.certificate.pemEncoded, to: certificateURL(DomainPKI.KeyLabel.server(role)))
        }
        try pki.rootCRL.derEncoded.write(to: rootCRLURL, options: .atomic)
        try writeJSON(CAConfiguration(
            domain: domain, https: Endpoint(host: host, port: ports.caHTTPS), http: Endpoint(host: host, port: ports.caHTTP),
            database: "ca.sqlite", keys: keyConfiguration, crlURL: "\(caHTTP)/crl/issuing.crl", ocspURL: "\(caHTTP)/ocsp",
            certificateLifetimeDays: 365, directoryRequestsPerMinute: 120), to: configurationURL(role: "ca"))
        try writeJSON(PDPConfiguration(domain: domain, https: Endpoint(host: host, port: ports.pdpHTTPS),
                                       policy: "policy.json", facts: "facts.json", keys: keyConfiguration),
                      to: configurationURL(role: "pdp"))
        try writeJSON(MailConfiguration(
            domain: domain, https: Endpoint(host: host, port: ports.mailHTTPS), smtp: Endpoint(host: host, port: ports.smtp),
            database: "mail.sqlite", blobs: "blobs", keys: keyConfiguration,
            ca: Endpoint(host: host, port: ports.caHTTPS), pdp: Endpoint(host: host, port: ports.pdpHTTPS)),
            to: configurationURL(role: "mail"))
        try policyJSON.write(to: policyURL, options: .atomic)
        return pki
    }

    public func caConfiguration() throws -> CAConfiguration { try readJSON(configurationURL(role: "ca")) }
    public func pdpConfiguration() throws -> PDPConfiguration { try readJSON(configurationURL(role: "pdp")) }
    public func mailConfiguration() throws -> MailConfiguration { try readJSON(configurationURL(role: "mail")) }

    public func certificate(_ label: String) throws -> Certificate {
        do {
            return try Certificate(pemEncoded: try String(contentsOf: certificateURL(label), encoding: .utf8))
        } catch {
            throw CredentialsError(.configurationInvalid, "Cannot read \(certificateURL(label).path): \(error)")
        }
    }

    /// The CA's certificates and keys, loaded from the directory and `keyStore`.
    public func loadCAIdentity(keyStore: any KeyStore) throws -> CAIdentity {
        func keyed(_ label: String) throws -> CertifiedKey {
            try CertifiedKey(certificate: try certificate(label), key: try keyStore.privateKey(label: label))
        }
        let issuing = try keyed(DomainPKI.KeyLabel.issuing)
        let rootCRL: CertificateRevocationList
        do { rootCRL = try CertificateRevocationList(derEncoded: try Data(contentsOf: rootCRLURL)) } catch {
            throw CredentialsError(.configurationInvalid, "Cannot read the root CRL \(rootCRLURL.path): \(error)")
        }
        return CAIdentity(domain: domain, root: try certificate(DomainPKI.KeyLabel.root),
                          issuer: try CertificateIssuer(certificate: issuing.certificate, key: issuing.key),
                          ocspResponder: try keyed(DomainPKI.KeyLabel.ocspResponder),
                          keyArchive: try keyed(DomainPKI.KeyLabel.keyArchive), rootCRL: rootCRL)
    }

    /// A server role's TLS certificate and key, with the chain to present after it.
    public func loadServerCredential(role: String, keyStore: any KeyStore) throws -> (key: CertifiedKey, chain: [Certificate]) {
        let label = DomainPKI.KeyLabel.server(role)
        let key = try CertifiedKey(certificate: try certificate(label), key: try keyStore.privateKey(label: label))
        return (key, [key.certificate, try certificate(DomainPKI.KeyLabel.issuing)])
    }

    private func write(_ text: String, to file: URL) throws {
        try Data(text.utf8).write(to: file, options: .atomic)
    }

    private func writeJSON(_ value: some Encodable, to file: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(value).write(to: file, options: .atomic)
    }

    private func readJSON<T: Decodable>(_ file: URL) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: try Data(contentsOf: file))
        } catch {
            throw CredentialsError(.configurationInvalid, "Cannot read the configuration \(file.path): \(error)")
        }
    }
}
