// Certificate path validation (RFC 5280 §6) from a leaf through intermediates to a
// configured set of trust anchors, followed by the system's own checks: key usage and
// extended key usage for the purpose, accepted policies, and revocation of every
// certificate below the anchor.
//
// OpenSSL builds the chain and checks signatures, validity and basic constraints
// (X509_verify_cert with X509_V_FLAG_X509_STRICT); its purpose checks are not relied
// on for S/MIME encryption because OpenSSL insists on keyEncipherment there, which an
// EC key-agreement certificate (RFC 5753 §7.2) rightly lacks.
import COpenSSL
import CShims
public import Foundation

/// Answers whether a certificate has been revoked.
public protocol RevocationChecker: Sendable {
    func status(of certificate: Certificate, issuer: Certificate, at time: Date) -> RevocationStatus
}

/// Settings for one validation.
public struct ValidationPolicy: Sendable {
    public var purpose: CertificatePurpose
    /// The time at which the chain must be valid; `nil` means now.
    public var time: Date?
    /// When not empty, the leaf must assert at least one of these policy OIDs.
    public var acceptablePolicies: [String]
    public var revocationMode: RevocationMode

    public init(purpose: CertificatePurpose, time: Date? = nil, acceptablePolicies: [String] = [],
                revocationMode: RevocationMode = .hardFail) {
        self.purpose = purpose
        self.time = time
        self.acceptablePolicies = acceptablePolicies
        self.revocationMode = revocationMode
    }
}

/// Validates certificate paths against fixed trust anchors.
public struct PathValidator: Sendable {
    public let trustAnchors: [Certificate]
    /// Intermediate CA certificates the validator may use to build paths even when the
    /// peer does not send them (TLS clients often send only their own certificate).
    /// They are not trusted: a path through them must still end at an anchor.
    public let knownIntermediates: [Certificate]
    public let revocationChecker: any RevocationChecker

    public init(trustAnchors: [Certificate], knownIntermediates: [Certificate] = [],
                revocationChecker: any RevocationChecker) {
        self.trustAnchors = trustAnchors
        self.knownIntermediates = knownIntermediates
        self.revocationChecker = revocationChecker
    }

    /// Validates `leaf`, using `intermediates` (in any order) to build the path.
    public func validate(_ leaf: Certificate, intermediates: [Certificate] = [],
                         policy: ValidationPolicy) -> ValidationVerdict {
        let time = policy.time ?? Date()
        let chain: [Certificate]
        switch buildChain(leaf, intermediates: intermediates, purpose: policy.purpose, time: time) {
        case .success(let built): chain = built
        case .failure(let failure): return .invalid(failure)
        }
        if let failure = checkUsage(leaf, purpose: policy.purpose) { return .invalid(failure) }
        if !policy.acceptablePolicies.isEmpty {
            let asserted = Set(leaf.policies)
            if asserted.isDisjoint(with: policy.acceptablePolicies) {
                return .invalid(ValidationFailure(.policyNotAccepted(required: policy.acceptablePolicies),
                                                  subject: leaf.subject.description, depth: 0))
            }
        }
        var statuses: [RevocationStatus] = []
        for depth in 0..<(chain.count - 1) {
            let status = revocationChecker.status(of: chain[depth], issuer: chain[depth + 1], at: time)
            let subject = chain[depth].subject.description
            switch status {
            case .revoked(let date, let reason, _):
                return .invalid(ValidationFailure(.revoked(date: date, reason: reason), subject: subject, depth: depth))
            case .unknown(let detail) where policy.revocationMode == .hardFail:
                return .invalid(ValidationFailure(.revocationUnknown(detail), subject: subject, depth: depth))
            default:
                statuses.append(status)
            }
        }
        return .valid(ValidatedChain(certificates: chain, revocation: statuses))
    }

    /// Builds and checks the path with OpenSSL; returns it leaf first, anchor last.
    private func buildChain(_ leaf: Certificate, intermediates: [Certificate], purpose: CertificatePurpose,
                            time: Date) -> Result<[Certificate], ValidationFailure> {
        guard let store = X509_STORE_new() else { return .failure(ValidationFailure(.malformed("out of memory"))) }
        defer { X509_STORE_free(store) }
        for anchor in trustAnchors { X509_STORE_add_cert(store, anchor.pointer) }
        guard let untrusted = sem_sk_X509_new_null() else {
            return .failure(ValidationFailure(.malformed("out of memory")))
        }
        defer { sem_sk_X509_free(untrusted) }
        for certificate in intermediates + knownIntermediates { _ = sem_sk_X509_push(untrusted, certificate.pointer) }
        guard let context = X509_STORE_CTX_new() else { return .failure(ValidationFailure(.malformed("out of memory"))) }
        defer { X509_STORE_CTX_free(context) }
        OpenSSL.clearErrors()
        guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1 else {
            return .failure(ValidationFailure(.malformed(OpenSSL.drainErrors())))
        }
        let parameters = X509_STORE_CTX_get0_param(context)
        X509_VERIFY_PARAM_set_time(parameters, time_t(time.timeIntervalSince1970.rounded(.down)))
        X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_X509_STRICT))
        if let openSSLPurpose = purpose.openSSLPurpose {
            X509_STORE_CTX_set_purpose(context, openSSLPurpose)
        }
        if X509_verify_cert(context) != 1 {
            let code = X509_STORE_CTX_get_error(context)
            let depth = Int(X509_STORE_CTX_get_error_depth(context))
            let culprit = X509_STORE_CTX_get_current_cert(context).map { Certificate.retaining($0) }
            OpenSSL.clearErrors()
            return .failure(ValidationFailure(Self.reason(forOpenSSLError: code, certificate: culprit),
                                              subject: culprit?.subject.description, depth: depth))
        }
        guard let built = X509_STORE_CTX_get1_chain(context) else {
            return .failure(ValidationFailure(.malformed("no chain was built")))
        }
        defer { sem_sk_X509_pop_free(built) }
        var chain: [Certificate] = []
        for index in 0..<sem_sk_X509_num(built) {
            if let certificate = sem_sk_X509_value(built, index) { chain.append(Certificate.retaining(certificate)) }
        }
        return .success(chain)
    }

    /// Maps X509_V_ERR_* codes onto reasons a person can act on.
    private static func reason(forOpenSSLError code: Int32, certificate: Certificate?) -> ValidationFailure.Reason {
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return .expired(notAfter: certificate?.notAfter ?? .distantPast)
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return .notYetValid(notBefore: certificate?.notBefore ?? .distantFuture)
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return .unknownIssuer
        case X509_V_ERR_CERT_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE,
             X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
            return .badSignature
        case X509_V_ERR_INVALID_PURPOSE:
            return .wrongUsage("its extended key usage does not allow this purpose.")
        case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
            return .invalidCA
        case X509_V_ERR_INVALID_CA:
            return .invalidCA
        case X509_V_ERR_PATH_LENGTH_EXCEEDED, X509_V_ERR_CERT_CHAIN_TOO_LONG:
            return .pathTooLong
        default:
            return .malformed(String(cString: X509_verify_cert_error_string(Int(code))))
        }
    }

    /// Key usage and extended key usage of the leaf for `purpose`. An absent keyUsage
    /// extension places no restriction (RFC 5280 §4.2.1.3); an absent extendedKeyUsage
    /// is accepted for S/MIME (RFC 8550 §4.4.4) but not for TLS or OCSP roles, which
    /// the system always marks explicitly.
    private func checkUsage(_ leaf: Certificate, purpose: CertificatePurpose) -> ValidationFailure? {
        let keyUsage = leaf.keyUsage
        let extended = leaf.extendedKeyUsage
        func allows(_ usage: KeyUsage) -> Bool { keyUsage.map { !$0.isDisjoint(with: usage) } ?? true }
        func isFor(_ usage: ExtendedKeyUsage, absentAllowed: Bool) -> Bool {
            extended.isEmpty ? absentAllowed : extended.contains(usage)
        }
        let problem: String?
        switch purpose {
        case .emailSigning:
            // RFC 8550 §4.4.2: digitalSignature and/or nonRepudiation.
            problem = !allows([.digitalSignature, .nonRepudiation]) ? "it does not allow signing."
                : !isFor(.emailProtection, absentAllowed: true) ? "it is not for e-mail protection." : nil
        case .emailEncryption:
            let isRSA = leaf.publicKey.algorithm.isRSA
            problem = !allows(isRSA ? .keyEncipherment : .keyAgreement)
                ? (isRSA ? "it does not allow key encipherment." : "it does not allow key agreement.")
                : !isFor(.emailProtection, absentAllowed: true) ? "it is not for e-mail protection." : nil
        case .tlsServer:
            problem = !isFor(.serverAuth, absentAllowed: false) ? "it is not a TLS server certificate." : nil
        case .tlsClient:
            problem = !isFor(.clientAuth, absentAllowed: false) ? "it is not a TLS client certificate." : nil
        case .ocspSigning:
            problem = !isFor(.ocspSigning, absentAllowed: false) ? "it is not an OCSP responder certificate." : nil
        case .trustListSigning:
            problem = !allows([.digitalSignature, .nonRepudiation]) ? "it does not allow signing." : nil
        }
        return problem.map { ValidationFailure(.wrongUsage($0), subject: leaf.subject.description, depth: 0) }
    }
}

extension CertificatePurpose {
    /// The OpenSSL purpose that agrees with our rules, where one does.
    var openSSLPurpose: Int32? {
        switch self {
        case .emailSigning: X509_PURPOSE_SMIME_SIGN
        case .tlsServer: X509_PURPOSE_SSL_SERVER
        case .tlsClient: X509_PURPOSE_SSL_CLIENT
        case .emailEncryption, .ocspSigning, .trustListSigning: nil
        }
    }
}
