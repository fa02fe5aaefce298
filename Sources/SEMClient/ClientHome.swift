// The client's directory, $SEM_HOME (default ~/.config/sem):
//
//   sem.json          ClientConfiguration
//   keys/             encrypted key files (PKCS#8, PBKDF2, AES-256; mode 0600): the
//                     encryption key always, the signing key unless it is on a token
//   pki/              root.pem (the pinned domain root), chain.pem (issuing CA),
//                     signing.pem, encryption.pem, smi.pem (the pinned federation anchor)
//   store.sqlite      the encrypted local store (ClientStore)
//   trust-list.der    the last accepted trust list
public import Foundation
public import SEMCredentials
import SEMCrypto
import SEMMessage

/// `sem.json`.
public struct ClientConfiguration: Codable, Sendable, Equatable {
    public var address: String
    public var domain: String
    /// The CA's EST endpoint and the mail server's API, `host:port` (names ca.<domain>
    /// and mail.<domain> are checked in TLS).
    public var ca: Endpoint
    public var mail: Endpoint
    /// Where the signing key lives: an encrypted key file or a PKCS#11 token.
    public var signingKeys: KeyStoreConfiguration
    /// Where the encryption key lives (a key file: it is archived, so it is made in software).
    public var encryptionKeys: KeyStoreConfiguration
    /// Attachments larger than this are uploaded once and referred to; smaller ones travel inside.
    public var attachmentThreshold: Int
    /// "passphrase" when the local store's key is wrapped under a passphrase (scrypt,
    /// from $SEM_STORE_PASSPHRASE or typed); absent or "encryption-key" for the encryption key.
    public var storeProtection: String?

    public var storeUsesPassphrase: Bool { storeProtection == "passphrase" }
    /// A clamd-compatible malware scanner, HOST:PORT, that every attachment is scanned
    /// with after decryption and before it is saved; none when absent.
    public var scanner: String?

    public init(address: String, ca: Endpoint, mail: Endpoint, signingKeys: KeyStoreConfiguration,
                encryptionKeys: KeyStoreConfiguration = .file(), attachmentThreshold: Int = 256 << 10) {
        self.address = address.lowercased()
        domain = MailAddress(self.address).domain
        self.ca = ca
        self.mail = mail
        self.signingKeys = signingKeys
        self.encryptionKeys = encryptionKeys
        self.attachmentThreshold = attachmentThreshold
    }
}

/// The files of a client directory.
public struct ClientHome: Sendable {
    public let url: URL

    public init(url: URL) { self.url = url.standardizedFileURL }

    /// $SEM_HOME, or ~/.config/sem.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ClientHome {
        if let path = environment["SEM_HOME"], !path.isEmpty { return ClientHome(url: URL(fileURLWithPath: path)) }
        return ClientHome(url: FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/sem"))
    }

    public func path(_ relative: String) -> URL { url.appendingPathComponent(relative) }
    public var configurationURL: URL { path("sem.json") }

    public enum Label {
        public static let signing = "sem-signing"
        public static let encryption = "sem-encryption"
    }

    public func configuration() throws -> ClientConfiguration {
        do { return try JSONDecoder().decode(ClientConfiguration.self, from: try Data(contentsOf: configurationURL)) } catch {
            throw ClientError(.notEnrolled, "No client is set up in \(url.path) (run sem enroll): \(error)")
        }
    }

    func write(_ configuration: ClientConfiguration) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(configuration).write(to: configurationURL, options: .atomic)
    }

    func certificate(_ name: String) throws -> Certificate {
        do { return try Certificate(pemEncoded: try String(contentsOf: path("pki/\(name).pem"), encoding: .utf8)) } catch {
            throw ClientError(.notEnrolled, "Cannot read pki/\(name).pem in \(url.path): \(error)")
        }
    }

    func certificateIfPresent(_ name: String) -> Certificate? { try? certificate(name) }

    func writeCertificate(_ certificate: Certificate, as name: String) throws {
        try Data(certificate.pemEncoded.utf8).write(to: path("pki/\(name).pem"), options: .atomic)
    }
}

/// The one error type of SEMClient: a stable code and a sentence.
public struct ClientError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable {
        case notEnrolled = "not-enrolled"
        case invalidArgument = "invalid-argument"
        case verificationFailed = "verification-failed"
        case notFound = "not-found"
        case refused = "refused"
        case storage = "storage"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
    public static func == (lhs: ClientError, rhs: ClientError) -> Bool { lhs.code == rhs.code }
}
