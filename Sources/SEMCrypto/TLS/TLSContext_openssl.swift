// An OpenSSL SSL_CTX built from a `TLSConfiguration`.
//
// Peer verification: OpenSSL's own chain building is replaced, through
// SSL_CTX_set_cert_verify_callback, by the configured `TLSPeerVerifier`, so the
// system's path validation (trust anchors, purpose, revocation) decides, and its
// refusal aborts the handshake with an alert instead of after the fact. Because that
// replaces X509_verify_cert, the client's host-name check (RFC 6125) is done here too.
import COpenSSL
import CShims
import Foundation

/// Shared settings for many connections of one role.
///
/// `@unchecked Sendable`: the SSL_CTX is configured completely in `init` and only read
/// afterwards; OpenSSL documents SSL_new on a shared SSL_CTX as thread-safe.
public final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    public let configuration: TLSConfiguration

    public init(_ configuration: TLSConfiguration) throws {
        try Self.validate(configuration)
        OpenSSL.clearErrors()
        guard let context = SSL_CTX_new(TLS_method()) else {
            throw TLSError(.configurationInvalid, "OpenSSL could not create a TLS context.", detail: OpenSSL.drainErrors())
        }
        pointer = context
        self.configuration = configuration
        try configureVersions()
        try configureIdentity()
        configureVerification()
    }

    deinit { SSL_CTX_free(pointer) }

    private static func validate(_ configuration: TLSConfiguration) throws {
        switch configuration.role {
        case .server:
            guard !configuration.certificateChain.isEmpty, configuration.privateKey != nil else {
                throw TLSError(.configurationInvalid, "A TLS server needs a certificate and its private key.")
            }
            if configuration.clientAuthentication != .none, configuration.peerVerifier == nil {
                throw TLSError(.configurationInvalid,
                               "A server that asks for client certificates needs a verifier for them.")
            }
        case .client:
            guard configuration.peerVerifier != nil else {
                throw TLSError(.configurationInvalid, "A TLS client needs a verifier for the server's certificate.")
            }
            if configuration.privateKey != nil, configuration.certificateChain.isEmpty {
                throw TLSError(.configurationInvalid, "A client key was given without its certificate.")
            }
        }
    }

    private func configureVersions() throws {
        let minimum = configuration.versions == .tls13Only ? TLS1_3_VERSION : TLS1_2_VERSION
        guard sem_SSL_CTX_set_min_proto_version(pointer, minimum) == 1,
              sem_SSL_CTX_set_max_proto_version(pointer, TLS1_3_VERSION) == 1 else {
            throw TLSError(.configurationInvalid, "The TLS version range was refused.", detail: OpenSSL.drainErrors())
        }
        // TLS 1.2, where a configuration allows it, gets forward-secret AEAD suites only
        // (RFC 9325 §4.2): OpenSSL's default list still offers CBC suites with SHA-1 MACs
        // and static RSA key exchange. TLS 1.3 suites are all AEAD and stay as they are.
        if configuration.versions == .tls12OrLater,
           SSL_CTX_set_cipher_list(pointer, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL") != 1 {
            throw TLSError(.configurationInvalid, "The TLS 1.2 cipher list was refused.", detail: OpenSSL.drainErrors())
        }
        // Partial writes let the write loop resume after WANT_WRITE with the same buffer.
        _ = sem_SSL_CTX_set_mode(pointer, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
    }

    private func configureIdentity() throws {
        guard let leaf = configuration.certificateChain.first, let key = configuration.privateKey else { return }
        guard SSL_CTX_use_certificate(pointer, leaf.pointer) == 1 else {
            throw TLSError(.configurationInvalid, "The TLS certificate was refused.", detail: OpenSSL.drainErrors())
        }
        for intermediate in configuration.certificateChain.dropFirst() {
            // SSL_CTX_add1_chain_cert is a macro over SSL_CTX_ctrl.
            guard SSL_CTX_ctrl(pointer, SSL_CTRL_CHAIN_CERT, 1, UnsafeMutableRawPointer(intermediate.pointer)) == 1 else {
                throw TLSError(.configurationInvalid, "An intermediate certificate was refused.",
                               detail: OpenSSL.drainErrors())
            }
        }
        guard SSL_CTX_use_PrivateKey(pointer, key.pointer) == 1, SSL_CTX_check_private_key(pointer) == 1 else {
            throw TLSError(.configurationInvalid, "The private key does not match the TLS certificate.",
                           detail: OpenSSL.drainErrors())
        }
    }

    private func configureVerification() {
        var mode = SSL_VERIFY_NONE
        switch configuration.role {
        case .client: mode = SSL_VERIFY_PEER
        case .server:
            switch configuration.clientAuthentication {
            case .none: break
            case .required: mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
            // Without FAIL_IF_NO_PEER_CERT a client may send no certificate; one it sends
            // still goes through the verify callback below.
            case .optional: mode = SSL_VERIFY_PEER
            }
        }
        SSL_CTX_set_verify(pointer, mode, nil)
        SSL_CTX_set_cert_verify_callback(pointer, { store, _ in
            TLSContext.verifyPeerChain(store: store)
        }, nil)
    }

    /// Called by OpenSSL during the handshake with the peer's chain; returns 1 to go on.
    private static func verifyPeerChain(store: OpaquePointer?) -> Int32 {
        guard let store,
              let sslRaw = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
              let stateRaw = SSL_get_ex_data(OpaquePointer(sslRaw), 0),
              let leaf = X509_STORE_CTX_get0_cert(store) else {
            return 0
        }
        let state = Unmanaged<TLSConnectionState>.fromOpaque(stateRaw).takeUnretainedValue()
        var chain = [Certificate.retaining(leaf)]
        if let untrusted = X509_STORE_CTX_get0_untrusted(store) {
            for index in 0..<sem_sk_X509_num(untrusted) {
                guard let cert = sem_sk_X509_value(untrusted, index), X509_cmp(cert, leaf) != 0 else { continue }
                chain.append(Certificate.retaining(cert))
            }
        }
        let verdict = state.verify(chain: chain)
        if case .reject = verdict {
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
            return 0
        }
        return 1
    }
}

/// Per-connection data the verify callback needs; reached through SSL ex-data slot 0.
final class TLSConnectionState {
    let verifier: (any TLSPeerVerifier)?
    let expectedHostName: String?
    private(set) var rejection: String?
    private(set) var peerChain: [Certificate] = []

    init(verifier: (any TLSPeerVerifier)?, expectedHostName: String?) {
        self.verifier = verifier
        self.expectedHostName = expectedHostName
    }

    func verify(chain: [Certificate]) -> TLSPeerVerdict {
        peerChain = chain
        guard let verifier else {
            rejection = "No verifier is configured for peer certificates."
            return .reject(reason: rejection!)
        }
        if let host = expectedHostName, let leaf = chain.first {
            // RFC 6125 §6.4: match the reference identity against the DNS-ID SANs.
            let matched = host.withCString { X509_check_host(leaf.pointer, $0, strlen($0), 0, nil) } == 1
            if !matched {
                rejection = "The server certificate is not valid for the name \(host)."
                return .reject(reason: rejection!)
            }
        }
        let verdict = verifier.verifyPeer(chain: chain)
        if case .reject(let reason) = verdict { rejection = reason }
        return verdict
    }
}
