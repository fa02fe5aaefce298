// The demo's people and the client-side work they do: enrolment over EST, path
// validation with OCSP, and questions to their domain's PDP over mutual TLS.
import Foundation
import SEMClient
import SEMCredentials
import SEMCrypto
import SEMTransport

/// A user with both certificates and their keys.
struct DemoUser {
    let address: String
    let domain: DemoDomain
    let signing: CertifiedKey
    let encryption: CertifiedKey

    var signer: CMSSigner {
        get throws {
            try CMSSigner(key: signing.key, certificate: signing.certificate,
                          chain: [domain.pki.identity.issuer.certificate])
        }
    }
}

enum DemoPeople {
    /// Enrols `address` in `domain` with `code`: a signing certificate for a key made in
    /// `signingKeys` (a token or key files), then an encryption certificate whose key goes
    /// to the key archive. As with `sem enroll`, the encryption key is made in software,
    /// so that the archive can hold it, and kept in an encrypted key file under `keyDirectory`.
    static func enrol(_ address: String, in domain: DemoDomain, code: String, signingKeys: any KeyStore,
                      keyDirectory: URL, passphrase: String) throws -> DemoUser {
        let est = try ESTClient(host: "127.0.0.1", port: domain.ports.caHTTPS, serverName: "ca.\(domain.name)",
                                root: domain.root)
        let keys = try EncryptedKeyFileStore(directory: keyDirectory, passphrase: Secret(passphrase))
        let signingKey = try signingKeys.generateKey(label: "signing", algorithm: .ecP256)
        let encryptionKey = try keys.generateKey(label: "encryption", algorithm: .ecP256)
        let (signing, encryption) = try ClientEnrolment.obtainCertificates(from: est, address: address, code: Secret(code),
                                                                           signingKey: signingKey,
                                                                           encryptionKey: encryptionKey)
        return DemoUser(address: address, domain: domain,
                        signing: try CertifiedKey(certificate: signing, key: signingKey),
                        encryption: try CertifiedKey(certificate: encryption, key: encryptionKey))
    }

    /// Validates `certificate` for `purpose` against `domain`'s root, asking the OCSP
    /// responder the certificate names (CRL as the fallback).
    static func validate(_ certificate: Certificate, of domain: DemoDomain, purpose: CertificatePurpose,
                         intermediates: [Certificate] = []) -> ValidationVerdict {
        PathValidator(trustAnchors: [domain.root], knownIntermediates: [domain.pki.identity.issuer.certificate],
                      revocationChecker: OnlineRevocationChecker())
            .validate(certificate, intermediates: intermediates, policy: ValidationPolicy(purpose: purpose))
    }

    /// Asks `domain`'s PDP, as its mail server would, and returns the raw JSON answer.
    static func askPDP(_ domain: DemoDomain, _ request: String, passphrase: String) throws -> String {
        let keys = try domain.directory.caConfiguration().keys.open(relativeTo: domain.directory.url,
                                                                    environment: ["SEM_KEY_PASSPHRASE": passphrase])
        let mail = try domain.directory.loadServerCredential(role: "mail", keyStore: keys)
        let validator = PathValidator(trustAnchors: [domain.root], revocationChecker: OnlineRevocationChecker())
        let tls = try TLSContext(.client(peerVerifier: PathValidatingPeerVerifier(validator: validator, purpose: .tlsServer),
                                         chain: mail.chain, key: mail.key.key))
        let client = HTTPClient(configuration: HTTPClientConfiguration(
            host: "127.0.0.1", port: domain.ports.pdpHTTPS, tls: tls, serverName: "pdp.\(domain.name)"))
        defer { client.close() }
        let response = try client.send(HTTPClientRequest(method: "POST", target: "/v1/decisions",
                                                         headers: ["Content-Type": "application/json"],
                                                         body: .bytes(Array(request.utf8))))
        let body = String(decoding: try response.body.readAll(limit: 64 * 1024), as: UTF8.self)
        guard response.status == 200 else { throw DemoFailure("the PDP answered \(response.status): \(body)") }
        return body
    }
}

extension ValidationVerdict {
    /// A short line for the demo: "valid (OCSP: good)" or the failure sentence.
    var summary: String {
        switch self {
        case .valid(let chain):
            let sources = chain.revocation.map { status -> String in
                if case .good(let source) = status { return source.rawValue }
                return "?"
            }
            return "valid, chain of \(chain.certificates.count), not revoked (\(sources.joined(separator: ", ")))"
        case .invalid(let failure):
            return "\(failure.code): \(failure)"
        }
    }
}
