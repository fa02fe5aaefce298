// The enrolment side of EST (RFC 7030): fetch the CA chain and obtain a certificate for
// a CSR with a one-time code, over TLS to the domain's CA, whose certificate is checked
// by path validation against the domain root with revocation by OCSP.
public import Foundation
public import SEMCrypto
public import SEMTransport

public struct ESTClient: Sendable {
    public let host: String
    public let port: UInt16
    /// The CA server's TLS name, e.g. ca.alpha.test.
    public let serverName: String
    /// The pinned domain root.
    public let root: Certificate
    let revocation: any RevocationChecker
    let tls: TLSContext

    /// `root` is the domain's root certificate, obtained out of band (its fingerprint is
    /// what a user compares when enrolling).
    public init(host: String, port: UInt16, serverName: String, root: Certificate,
                revocation: any RevocationChecker = OnlineRevocationChecker()) throws {
        self.host = host
        self.port = port
        self.serverName = serverName
        self.root = root
        self.revocation = revocation
        let validator = PathValidator(trustAnchors: [root], revocationChecker: revocation)
        tls = try TLSContext(.client(peerVerifier: PathValidatingPeerVerifier(validator: validator, purpose: .tlsServer)))
    }

    /// RFC 7030 §4.2: enrols `request` for `address` with the one-time `code`. `label`
    /// selects the certificate kind ("sem-signing" or "sem-encryption"); `archivedKey`
    /// is the CMS envelope of the private key for the key archive (encryption only).
    public func enrol(address: String, code: Secret, request: CertificateSigningRequest, label: String,
                      archivedKey: Data? = nil) throws -> Certificate {
        var headers: HTTPHeaders = ["Content-Type": "application/pkcs10"]
        let credentials = Data(address.utf8) + Data(":".utf8) + Data(code.bytes)
        headers.set("Authorization", "Basic " + credentials.base64EncodedString())
        if let archivedKey { headers.set("SEM-Key-Archive", archivedKey.base64EncodedString()) }
        let body = Data(request.derEncoded.base64EncodedString(options: [.lineLength64Characters]).utf8)
        let answer = try exchange(HTTPClientRequest(method: "POST", target: "/.well-known/est/\(label)/simpleenroll",
                                                    headers: headers, body: .bytes(Array(body))))
        guard let certificate = try certificates(in: answer).first(where: { request.publicKeyMatches($0) }) else {
            throw CredentialsError(.requestInvalid, "The CA answered without a certificate for the request.")
        }
        return certificate
    }

    /// RFC 7030 §4.1: the CA's chain (issuing CA and root).
    public func caCertificates() throws -> [Certificate] {
        try certificates(in: try exchange(HTTPClientRequest(target: "/.well-known/est/cacerts")))
    }

    /// The certificate the CA wants archived encryption keys enveloped to, checked to
    /// chain to the pinned root for e-mail encryption.
    public func keyArchiveCertificate() throws -> Certificate {
        let found = try certificates(in: try exchange(HTTPClientRequest(target: "/.well-known/est/sem-key-archive")))
        guard let certificate = found.first else {
            throw CredentialsError(.internalFailure, "The CA sent no key-archive certificate.")
        }
        let chain = try caCertificates()
        let verdict = PathValidator(trustAnchors: [root], revocationChecker: revocation)
            .validate(certificate, intermediates: chain, policy: ValidationPolicy(purpose: .emailEncryption))
        if let failure = verdict.failure {
            throw CredentialsError(.internalFailure, "The CA's key-archive certificate does not check out: \(failure)")
        }
        return certificate
    }

    private func exchange(_ request: HTTPClientRequest) throws -> Data {
        let client = HTTPClient(configuration: HTTPClientConfiguration(host: host, port: port, tls: tls,
                                                                        serverName: serverName))
        defer { client.close() }
        let response = try client.send(request)
        guard response.status == 200 else {
            let remote = response.remoteError()
            throw CredentialsError(CredentialsError.Code(rawValue: remote.code) ?? .internalFailure,
                                   "The CA refused: \(remote.message)")
        }
        return try response.body.readAll(limit: 1024 * 1024)
    }

    private func certificates(in body: Data) throws -> [Certificate] {
        let text = String(decoding: body, as: UTF8.self).filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: text) else {
            throw CredentialsError(.internalFailure, "The CA's answer is not base64.")
        }
        return try CMSCertificateBundle.decode(der)
    }
}

extension CertificateSigningRequest {
    /// Whether `certificate` certifies this request's key.
    func publicKeyMatches(_ certificate: Certificate) -> Bool {
        (try? publicKey) == certificate.publicKey
    }
}
