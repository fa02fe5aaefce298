// The JSON configuration files of a domain's servers, one per role. Secrets never sit in
// these files: a key-file passphrase or token PIN comes from the environment variable or
// file named here.
import Foundation

/// Where a role's private keys live.
public struct KeyStoreConfiguration: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case file, pkcs11 }

    public var kind: Kind
    /// For `file`: the key directory, relative to the domain directory.
    public var directory: String?
    /// For `pkcs11`: the module path and the token label.
    public var module: String?
    public var token: String?
    /// Name of the environment variable holding the passphrase (file) or PIN (token).
    public var secretEnvironmentVariable: String
    /// Alternatively, a file (mode 0600) holding the secret; used when the variable is unset.
    public var secretFile: String?

    public static func file(directory: String = "keys", secretFile: String? = nil) -> KeyStoreConfiguration {
        KeyStoreConfiguration(kind: .file, directory: directory, module: nil, token: nil,
                              secretEnvironmentVariable: "SEM_KEY_PASSPHRASE", secretFile: secretFile)
    }

    public static func pkcs11(module: String, token: String, secretFile: String? = nil) -> KeyStoreConfiguration {
        KeyStoreConfiguration(kind: .pkcs11, directory: nil, module: module, token: token,
                              secretEnvironmentVariable: "SEM_TOKEN_PIN", secretFile: secretFile)
    }
}

/// A `host:port` to listen on or connect to.
public struct Endpoint: Codable, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Configuration of a domain's CA server (`semd ca`).
public struct CAConfiguration: Codable, Sendable, Equatable {
    public var role = "ca"
    public var domain: String
    /// EST enrolment and the directory (TLS; the directory needs a client certificate).
    public var https: Endpoint
    /// CRL and OCSP, which RFC 5280 §4.2.1.13 and RFC 6960 expect over plain HTTP.
    public var http: Endpoint
    public var database: String
    public var keys: KeyStoreConfiguration
    public var crlURL: String
    public var ocspURL: String
    /// Lifetime of user certificates, in days.
    public var certificateLifetimeDays: Int
    /// Directory look-ups allowed per authenticated caller per minute.
    public var directoryRequestsPerMinute: Int
}

/// Configuration of a domain's policy decision point (`semd pdp`).
public struct PDPConfiguration: Codable, Sendable, Equatable {
    public var role = "pdp"
    public var domain: String
    public var https: Endpoint
    public var policy: String
    /// Group members and agreements from outside the policy (docs/POLICY.md §8), if any.
    public var facts: String?
    public var keys: KeyStoreConfiguration
}

/// Configuration of a domain's mail server (`semd mail`).
public struct MailConfiguration: Codable, Sendable, Equatable {
    public var role = "mail"
    public var domain: String
    /// The client API.
    public var https: Endpoint
    /// Inbound SMTP from other registered servers.
    public var smtp: Endpoint
    public var database: String
    public var blobs: String
    public var keys: KeyStoreConfiguration
    /// Where the domain's CA and PDP answer.
    public var ca: Endpoint
    public var pdp: Endpoint
    /// "remote" (the default): ask the PDP at `pdp`; "embedded": decide in process with
    /// the policy and facts named in pdp.json.
    public var pdpMode: String?
    /// Largest message accepted, in bytes (default 25 MiB).
    public var maximumMessageBytes: Int?
    /// Largest attachment accepted, in bytes (default 1 GiB).
    public var maximumAttachmentBytes: Int64?
    /// Delays before each retry of an outbound delivery, in seconds.
    public var retrySchedule: [Double]?
    /// How often outbound delivery looks for due messages, in seconds (default 0.5).
    public var queueIntervalSeconds: Double?
    /// Mail from servers that are not registered: "refuse" (the default) or "quarantine".
    public var legacyPeers: String?
    /// A clamd-compatible malware scanner, HOST:PORT, that quarantined legacy mail is
    /// scanned with before it is stored (its plaintext exists on the server only then).
    public var scanner: String?
}
