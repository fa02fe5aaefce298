// Revocation answers from evidence at hand: OCSP responses first, CRLs as the fallback
// (architecture R3). Fetching the evidence over HTTP is the transport layer's job; this
// type only judges what it is given.
public import Foundation

/// A `RevocationChecker` over a set of CRLs and OCSP responses.
///
/// For each certificate it tries, in order: a verified OCSP response that names it
/// (RFC 6960 §3.2), then a CRL from its issuer that verifies with the issuer's key and is
/// current (RFC 5280 §6.3.3). Anything that does not verify is ignored and recorded in
/// the "unknown" explanation, so an attacker who supplies a forged answer gains nothing.
public struct RevocationEvidence: RevocationChecker {
    public var crls: [CertificateRevocationList]
    public var ocspResponses: [OCSPResponse]
    /// Allowed disagreement between our clock and the issuer's.
    public var clockSkew: TimeInterval

    public init(crls: [CertificateRevocationList] = [], ocspResponses: [OCSPResponse] = [],
                clockSkew: TimeInterval = 300) {
        self.crls = crls
        self.ocspResponses = ocspResponses
        self.clockSkew = clockSkew
    }

    public func status(of certificate: Certificate, issuer: Certificate, at time: Date) -> RevocationStatus {
        var problems: [String] = []
        if let answer = ocspStatus(of: certificate, issuer: issuer, at: time, problems: &problems) { return answer }
        if let answer = crlStatus(of: certificate, issuer: issuer, at: time, problems: &problems) { return answer }
        if problems.isEmpty { problems.append("no CRL or OCSP response covers it") }
        return .unknown(problems.joined(separator: "; "))
    }

    private func ocspStatus(of certificate: Certificate, issuer: Certificate, at time: Date,
                            problems: inout [String]) -> RevocationStatus? {
        for response in ocspResponses
        where response.singleResponses.contains(where: { $0.certID.identifies(certificate, issuer: issuer) }) {
            do {
                switch try response.verifiedStatus(of: certificate, issuer: issuer, expectedNonce: nil, at: time,
                                                   clockSkew: clockSkew) {
                case .good: return .good(source: .ocsp)
                case .revoked(let date, let reason): return .revoked(date: date, reason: reason, source: .ocsp)
                case .unknown: problems.append("the OCSP responder does not know the certificate")
                }
            } catch let error as CryptoError {
                problems.append("an OCSP response was refused (\(error.reason))")
            } catch {
                problems.append("an OCSP response was refused")
            }
        }
        return nil
    }

    private func crlStatus(of certificate: Certificate, issuer: Certificate, at time: Date,
                           problems: inout [String]) -> RevocationStatus? {
        for crl in crls where crl.issuer == issuer.subject {
            // RFC 5280 §6.3.3 (f): the CRL issuer must be allowed to sign CRLs.
            if let usage = issuer.keyUsage, !usage.contains(.cRLSign) {
                problems.append("the issuer may not sign CRLs")
                continue
            }
            guard crl.isSignature(verifiedBy: issuer.publicKey) else {
                problems.append("a CRL naming the issuer has a bad signature")
                continue
            }
            guard crl.thisUpdate <= time.addingTimeInterval(clockSkew) else {
                problems.append("the CRL is not valid yet")
                continue
            }
            guard let nextUpdate = crl.nextUpdate, time <= nextUpdate.addingTimeInterval(clockSkew) else {
                problems.append("the CRL is out of date")
                continue
            }
            if let entry = crl.entry(forSerial: certificate.serialNumber), entry.revocationDate <= time {
                return .revoked(date: entry.revocationDate, reason: entry.reason, source: .crl)
            }
            return .good(source: .crl)
        }
        return nil
    }
}

/// Accepts a certificate chain for TLS when path validation succeeds for `purpose`.
public struct PathValidatingPeerVerifier: TLSPeerVerifier {
    public let validator: PathValidator
    public let policy: ValidationPolicy

    public init(validator: PathValidator, purpose: CertificatePurpose, acceptablePolicies: [String] = []) {
        self.validator = validator
        self.policy = ValidationPolicy(purpose: purpose, acceptablePolicies: acceptablePolicies)
    }

    public func verifyPeer(chain: [Certificate]) -> TLSPeerVerdict {
        guard let leaf = chain.first else { return .reject(reason: "The peer sent no certificate.") }
        switch validator.validate(leaf, intermediates: Array(chain.dropFirst()), policy: policy) {
        case .valid: return .accept
        case .invalid(let failure): return .reject(reason: failure.description)
        }
    }
}

/// Asks several checkers in order and keeps the first definite answer (good or
/// revoked); when none has one, the explanations of all are joined.
public struct FirstAnswerRevocationChecker: RevocationChecker {
    public let checkers: [any RevocationChecker]

    public init(_ checkers: [any RevocationChecker]) { self.checkers = checkers }

    public func status(of certificate: Certificate, issuer: Certificate, at time: Date) -> RevocationStatus {
        var details: [String] = []
        for checker in checkers {
            let answer = checker.status(of: certificate, issuer: issuer, at: time)
            guard case .unknown(let detail) = answer else { return answer }
            details.append(detail)
        }
        return .unknown(details.isEmpty ? "no revocation source was consulted" : details.joined(separator: "; "))
    }
}
