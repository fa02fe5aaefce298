// TLS settings as plain Swift values. The OpenSSL objects built from them live in
// TLSContext_openssl.swift; the socket work belongs to SEMTransport.
import Foundation

/// Protocol versions a context accepts. TLS 1.3 is the only default; TLS 1.2 exists
/// for legacy SMTP peers and must be asked for by configuration.
public enum TLSVersionPolicy: Sendable, Equatable {
    case tls13Only
    case tls12OrLater
}

/// What the peer verifier decided about a presented chain.
public enum TLSPeerVerdict: Sendable, Equatable {
    case accept
    case reject(reason: String)
}

/// Decides whether a peer's certificate chain is acceptable. The system's own path
/// validation (trust anchors, purpose, revocation) sits behind this protocol, so that
/// OpenSSL's built-in checks are never the only gate.
public protocol TLSPeerVerifier: Sendable {
    /// `chain[0]` is the peer's certificate, followed by whatever intermediates it sent.
    func verifyPeer(chain: [Certificate]) -> TLSPeerVerdict
}

/// Settings for one side of TLS connections.
public struct TLSConfiguration: Sendable {
    public enum Role: Sendable { case client, server }

    /// How a server treats client certificates.
    public enum ClientAuthentication: Sendable, Equatable {
        /// No certificate is asked for.
        case none
        /// A certificate is asked for, and the handshake fails without one (mutual TLS).
        case required
        /// A certificate is asked for; a client may send none, but one it sends must pass
        /// the verifier. The application decides what a connection without one may do.
        case optional
    }

    public var role: Role
    /// Our certificate followed by its intermediates (not the root). Required for a
    /// server; for a client only when the server asks for one.
    public var certificateChain: [Certificate]
    public var privateKey: PrivateKey?
    public var versions: TLSVersionPolicy
    public var clientAuthentication: ClientAuthentication
    /// Checks the peer's chain. Required for a client (servers are always verified) and
    /// for a server that asks for client certificates: verification is never skipped.
    public var peerVerifier: (any TLSPeerVerifier)?
    public var handshakeTimeout: Duration
    public var ioTimeout: Duration

    public init(role: Role, certificateChain: [Certificate] = [], privateKey: PrivateKey? = nil,
                versions: TLSVersionPolicy = .tls13Only, clientAuthentication: ClientAuthentication = .none,
                peerVerifier: (any TLSPeerVerifier)? = nil,
                handshakeTimeout: Duration = .seconds(15), ioTimeout: Duration = .seconds(60)) {
        self.role = role
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.versions = versions
        self.clientAuthentication = clientAuthentication
        self.peerVerifier = peerVerifier
        self.handshakeTimeout = handshakeTimeout
        self.ioTimeout = ioTimeout
    }

    public static func server(chain: [Certificate], key: PrivateKey, clientAuthentication: ClientAuthentication = .none,
                              peerVerifier: (any TLSPeerVerifier)? = nil) -> TLSConfiguration {
        TLSConfiguration(role: .server, certificateChain: chain, privateKey: key,
                         clientAuthentication: clientAuthentication, peerVerifier: peerVerifier)
    }

    public static func client(peerVerifier: any TLSPeerVerifier, chain: [Certificate] = [],
                              key: PrivateKey? = nil) -> TLSConfiguration {
        TLSConfiguration(role: .client, certificateChain: chain, privateKey: key, peerVerifier: peerVerifier)
    }
}

/// A TLS failure. Codes are stable; the reason is a sentence for a person.
public struct TLSError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case configurationInvalid = "tls-configuration-invalid"
        case handshakeFailed = "tls-handshake-failed"
        case peerRejected = "tls-peer-rejected"
        case timedOut = "tls-timeout"
        case connectionClosed = "tls-connection-closed"
        case ioFailed = "tls-io-failed"
    }

    public let code: Code
    public let reason: String
    public let detail: String?

    public init(_ code: Code, _ reason: String, detail: String? = nil) {
        self.code = code
        self.reason = reason
        self.detail = (detail?.isEmpty ?? true) ? nil : detail
    }

    public var description: String {
        if let detail { return "\(code.rawValue): \(reason) (\(detail))" }
        return "\(code.rawValue): \(reason)"
    }

    public static func == (lhs: TLSError, rhs: TLSError) -> Bool { lhs.code == rhs.code }
}
