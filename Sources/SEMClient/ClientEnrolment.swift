// sem enroll: make the keys, obtain both certificates over EST with the one-time code, and
// write the client directory. The signing key is generated where the user keeps it (a
// PKCS#11 token, or an encrypted key file); the encryption key is generated in software,
// enveloped to the CA's key-archive certificate for recovery (the CA checks it matches the
// request), and kept in an encrypted key file. Secrets come from the environment or files
// named in the key-store configuration, never from sem.json.
public import Foundation
public import SEMCredentials
public import SEMCrypto

public enum ClientEnrolment {
    public struct Request: Sendable {
        public var address: String
        public var code: Secret
        public var ca: Endpoint
        public var mail: Endpoint
        /// The domain root, received out of band with the code.
        public var root: Certificate
        /// The federation's registry signer, when the domain belongs to one.
        public var smiSigner: Certificate?
        public var signingKeys: KeyStoreConfiguration
        public var keyAlgorithm: KeyAlgorithm
        /// Whether the local store's key is wrapped under a passphrase instead of the encryption key.
        public var storePassphrase: Bool = false
        /// The malware scanner for attachments (HOST:PORT), if any.
        public var scanner: String?

        public init(address: String, code: Secret, ca: Endpoint, mail: Endpoint, root: Certificate, smiSigner: Certificate?,
                    signingKeys: KeyStoreConfiguration, keyAlgorithm: KeyAlgorithm = .ecP256) {
            self.address = address.lowercased()
            self.code = code
            self.ca = ca
            self.mail = mail
            self.root = root
            self.smiSigner = smiSigner
            self.signingKeys = signingKeys
            self.keyAlgorithm = keyAlgorithm
        }
    }

    /// Enrols into `home`; refuses a directory that already holds a client.
    public static func enrol(_ request: Request, into home: ClientHome,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ClientConfiguration {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: home.configurationURL.path) else {
            throw ClientError(.invalidArgument, "\(home.url.path) already holds a client; choose another SEM_HOME.")
        }
        try manager.createDirectory(at: home.path("pki"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = ClientConfiguration(address: request.address, ca: request.ca, mail: request.mail,
                                                signingKeys: request.signingKeys)
        if request.storePassphrase { configuration.storeProtection = "passphrase" }
        configuration.scanner = request.scanner
        let signingStore = try configuration.signingKeys.open(relativeTo: home.url, environment: environment)
        let encryptionStore = try configuration.encryptionKeys.open(relativeTo: home.url, environment: environment)
        let est = try ESTClient(host: request.ca.host, port: request.ca.port, serverName: "ca.\(configuration.domain)",
                                root: request.root)
        let signingKey = try signingStore.generateKey(label: ClientHome.Label.signing, algorithm: request.keyAlgorithm)
        let encryptionKey = try encryptionStore.generateKey(label: ClientHome.Label.encryption, algorithm: request.keyAlgorithm)
        let (signing, encryption) = try obtainCertificates(from: est, address: request.address, code: request.code,
                                                           signingKey: signingKey, encryptionKey: encryptionKey)
        let chain = try est.caCertificates().filter { $0 != request.root }
        try home.writeCertificate(request.root, as: "root")
        try Data(chain.map(\.pemEncoded).joined().utf8).write(to: home.path("pki/chain.pem"), options: .atomic)
        try home.writeCertificate(signing, as: "signing")
        try home.writeCertificate(encryption, as: "encryption")
        if let smiSigner = request.smiSigner { try home.writeCertificate(smiSigner, as: "smi") }
        _ = try ClientStore(path: home.path("store.sqlite").path,
                            protection: try ClientSession.storeProtection(configuration, try CertifiedKey(certificate: encryption, key: encryptionKey),
                                                                          environment: environment))
        try home.write(configuration)
        return configuration
    }

    /// The two EST enrolments (RFC 7030 §4.2) that one code allows: the signing
    /// certificate for `signingKey`, then the encryption certificate for `encryptionKey`,
    /// whose private key travels enveloped (CMS) to the CA's key-archive certificate; the
    /// CA opens it only to check that it belongs to the request, and keeps it for recovery.
    public static func obtainCertificates(from est: ESTClient, address: String, code: Secret, signingKey: PrivateKey,
                                          encryptionKey: PrivateKey) throws -> (signing: Certificate, encryption: Certificate) {
        let subject = DistinguishedName([("CN", address)])
        let signing = try est.enrol(address: address, code: code,
                                    request: try CertificateSigningRequest(subject: subject, key: signingKey,
                                                                           emailAddresses: [address]),
                                    label: ClientHome.Label.signing)
        let archive = try CMSEnvelope.encrypt(try encryptionKey.pkcs8DER(), for: [try est.keyArchiveCertificate()])
        let encryption = try est.enrol(address: address, code: code,
                                       request: try CertificateSigningRequest(subject: subject, key: encryptionKey,
                                                                              emailAddresses: [address]),
                                       label: ClientHome.Label.encryption, archivedKey: archive)
        return (signing, encryption)
    }
}
