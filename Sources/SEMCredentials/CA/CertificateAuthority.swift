// The domain's certificate authority as a service: users and enrolment codes, issuing
// the two user certificates from CSRs, taking the encryption key into the archive,
// revocation with CRL and OCSP answers, and the directory of current certificates.
// Transport (EST over HTTPS, OCSP and CRL over HTTP) sits on top in CAHTTPService.
public import Foundation
public import SEMCrypto
public import SEMLogging

/// The key material a CA server runs with.
public struct CAIdentity: Sendable {
    public let domain: String
    public let root: Certificate
    /// The issuing CA, which signs user and server certificates and the CRL.
    public let issuer: CertificateIssuer
    /// The delegated OCSP responder (RFC 6960 §4.2.2.2).
    public let ocspResponder: CertifiedKey
    /// The key-archive certificate and key: clients envelope their encryption keys to it.
    public let keyArchive: CertifiedKey
    /// The root's CRL covering the issuing CA, served beside the issuing CA's own CRL.
    public let rootCRL: CertificateRevocationList

    public init(domain: String, root: Certificate, issuer: CertificateIssuer, ocspResponder: CertifiedKey,
                keyArchive: CertifiedKey, rootCRL: CertificateRevocationList) {
        self.domain = domain
        self.root = root
        self.issuer = issuer
        self.ocspResponder = ocspResponder
        self.keyArchive = keyArchive
        self.rootCRL = rootCRL
    }

    /// The issuing CA followed by the root, as handed to clients.
    public var chain: [Certificate] { [issuer.certificate, root] }
}

public final class CertificateAuthority: Sendable {
    public let identity: CAIdentity
    public let store: CAStore
    /// Written into every certificate: where its CRL and its OCSP responder live.
    public let crlURL: String
    public let ocspURL: String
    public let certificateLifetime: TimeInterval
    /// How long a CRL or an OCSP answer stays current (its nextUpdate).
    public let revocationInformationLifetime: TimeInterval
    let logger: Logger

    public init(identity: CAIdentity, store: CAStore, crlURL: String, ocspURL: String,
                certificateLifetime: TimeInterval = 365 * 86400, revocationInformationLifetime: TimeInterval = 3600,
                logger: Logger = .disabled) {
        self.identity = identity
        self.store = store
        self.crlURL = crlURL
        self.ocspURL = ocspURL
        self.certificateLifetime = certificateLifetime
        self.revocationInformationLifetime = revocationInformationLifetime
        self.logger = logger.component("ca")
    }

    // MARK: Users

    /// Registers `address` at `assurance` and returns a one-time enrolment code.
    public func addUser(_ address: String, assurance: AssuranceLevel, codeLifetime: TimeInterval = 7 * 86400,
                        at time: Date = Date()) throws -> String {
        try checkLocal(address)
        return try store.database.transaction { _ in
            try store.addUser(address, assurance: assurance, at: time)
            let code = try store.issueEnrolmentCode(for: address, validFor: codeLifetime, at: time)
            logger.notice("user.added", ["address": address, "assurance": assurance.rawValue])
            return code
        }
    }

    /// A fresh code for an existing user (the previous ones stay as they are).
    public func newEnrolmentCode(for address: String, lifetime: TimeInterval = 7 * 86400,
                                 at time: Date = Date()) throws -> String {
        try store.issueEnrolmentCode(for: address, validFor: lifetime, at: time)
    }

    // MARK: Enrolment

    /// Issues a signing or encryption certificate for `address` from `request`.
    ///
    /// For an encryption certificate, `archivedKey` must be a CMS EnvelopedData or
    /// AuthEnvelopedData addressed to the key-archive certificate whose content is the
    /// private key as PKCS#8 DER. The CA opens it only to check that the key belongs to
    /// the request's public key, then stores the envelope as it arrived, or re-wrapped
    /// to the recovery certificate once recovery officers are set.
    public func enrol(address: String, code: Secret, request: CertificateSigningRequest, kind: CertificateKind,
                      archivedKey: Data? = nil, at time: Date = Date()) throws -> Certificate {
        try checkLocal(address)
        guard let assurance = try store.assurance(of: address) else {
            throw CredentialsError(.enrolmentCodeInvalid, "The enrolment code is not valid for \(address).")
        }
        let publicKey = try checkRequest(request, address: address)
        if kind == .encryption {
            try checkArchivedKey(archivedKey, matches: publicKey)
        } else if kind == .server {
            throw CredentialsError(.requestInvalid, "Server certificates are not issued through enrolment.")
        }
        let certificate = try issue(kind == .signing ? .userSigning : .userEncryption, for: address,
                                    publicKey: publicKey, assurance: assurance, at: time)
        try store.database.transaction { _ in
            try store.redeemEnrolmentCode(code, address: address, kind: kind, at: time)
            try store.record(IssuedCertificate(serialHex: certificate.serialNumberHex, address: address, kind: kind,
                                               der: certificate.derEncoded, notAfter: certificate.notAfter,
                                               revokedAt: nil, revocationReason: nil), at: time)
            if kind == .encryption, let archivedKey {
                // Once recovery officers are set, the key is kept only for the recovery
                // certificate, whose key exists as the officers' shares (docs/RECOVERY.md).
                // Looked up inside the transaction, which `recovery officers set` also
                // takes, so no key slips past a re-wrap in progress.
                if let recovery = try store.recoveryCertificate() {
                    try store.archive(envelope: try rewrap(archivedKey, to: recovery), serialHex: certificate.serialNumberHex,
                                      address: address, recipient: ArchiveRecipient.keyRecovery, at: time)
                } else {
                    try store.archive(envelope: archivedKey, serialHex: certificate.serialNumberHex, address: address,
                                      at: time)
                }
            }
        }
        logger.notice("certificate.issued", ["address": address, "kind": kind.rawValue,
                                             "serial": certificate.serialNumberHex])
        return certificate
    }

    private func checkRequest(_ request: CertificateSigningRequest, address: String) throws -> PublicKey {
        guard request.isSignatureValid else {
            throw CredentialsError(.requestInvalid, "The certification request's signature does not verify.")
        }
        let requested = request.emailAddresses.map { $0.lowercased() }
        guard requested.isEmpty || requested == [address] else {
            throw CredentialsError(.addressMismatch,
                                   "The request names \(requested.joined(separator: ", ")) but enrols \(address).")
        }
        let publicKey: PublicKey
        do { publicKey = try request.publicKey } catch {
            throw CredentialsError(.requestInvalid, "The request's public key is not usable: \(error)")
        }
        if case .rsa(let bits) = publicKey.algorithm, bits < KeyAlgorithm.minimumRSABits {
            throw CredentialsError(.requestInvalid, "RSA keys need at least \(KeyAlgorithm.minimumRSABits) bits.")
        }
        return publicKey
    }

    private func checkArchivedKey(_ envelope: Data?, matches publicKey: PublicKey) throws {
        guard let envelope else {
            throw CredentialsError(.keyArchiveRequired,
                                   "An encryption certificate needs the private key enveloped to the key archive.")
        }
        do {
            var opened = try CMSEnvelope.decrypt(envelope, key: identity.keyArchive.key,
                                                 certificate: identity.keyArchive.certificate).content
            defer { opened.wipe() }
            let key = try PrivateKey(derEncoded: opened)
            guard key.matches(publicKey) else {
                throw CredentialsError(.keyArchiveMismatch,
                                       "The archived key does not belong to the public key in the request.")
            }
        } catch let error as CredentialsError {
            throw error
        } catch {
            throw CredentialsError(.keyArchiveMismatch, "The archived key could not be opened: \(error)")
        }
    }

    /// Opens an envelope addressed to the key archive and seals its content for `recipient`.
    func rewrap(_ envelope: Data, to recipient: Certificate) throws -> Data {
        var opened = try CMSEnvelope.decrypt(envelope, key: identity.keyArchive.key,
                                             certificate: identity.keyArchive.certificate).content
        defer { opened.wipe() }
        return try CMSEnvelope.encrypt(opened, for: [recipient])
    }

    /// Issues a certificate of `profile` with the domain's policy, CRL and OCSP locations.
    func issue(_ profile: CertificateProfile, for address: String, publicKey: PublicKey, assurance: AssuranceLevel,
               at time: Date) throws -> Certificate {
        let notAfter = min(time.addingTimeInterval(certificateLifetime), identity.issuer.certificate.notAfter)
        let parameters = CertificateParameters(
            subject: DistinguishedName([("O", identity.domain), ("CN", address)]), publicKey: publicKey,
            notBefore: time.addingTimeInterval(-300), notAfter: notAfter, emailAddresses: [address],
            policies: [assurance.policyOID], crlDistributionPoint: crlURL, ocspResponderURL: ocspURL)
        return try identity.issuer.issue(profile, parameters)
    }

    func checkLocal(_ address: String) throws {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].lowercased() == identity.domain,
              address == address.lowercased(), address.utf8.count <= 254,
              address.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "<" && $0 != ">" }) else {
            throw CredentialsError(.invalidAddress, "\(address) is not a lower-case address in \(identity.domain).")
        }
    }
}
