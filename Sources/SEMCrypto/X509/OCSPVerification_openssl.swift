// Checking an OCSP response for one certificate (RFC 6960 §3.2 and §4.2.2.2).
//
// Steps, each with its own refusal:
//   1. the responder answered `successful`                       (responder-error)
//   2. the signer's certificate is found in the response or is the CA (bad-signature)
//   3. the signature verifies with that certificate               (bad-signature)
//   4. the signer is the CA itself, or a certificate issued by the CA that carries
//      id-kp-OCSPSigning and is valid now                         (certificate-unsuitable)
//   5. the nonce that was sent comes back unchanged                (not-fresh)
//   6. a SingleResponse names the certificate                      (responder-error)
//   7. thisUpdate/nextUpdate enclose the time, within the skew     (not-fresh)
//
// Known limitation: the revocation status of a delegated responder certificate that
// lacks id-pkix-ocsp-nocheck is not checked (RFC 6960 §4.2.2.2.1 leaves the method to
// the client); responders of this system always carry nocheck and are short-lived.
import COpenSSL
import CShims
public import Foundation

extension OCSPResponse {
    /// Checks the response and returns the status of `certificate`.
    ///
    /// - Parameters:
    ///   - certificate: the certificate asked about.
    ///   - issuer: its issuing CA, already validated by the caller.
    ///   - expectedNonce: the nonce of the request that was sent; when given, the
    ///     response must echo it. Pass nil for responders that pre-produce responses.
    ///   - time: the time to check against.
    ///   - clockSkew: tolerance for clocks that disagree, in seconds.
    ///   - maximumAge: when the response has no nextUpdate, how old thisUpdate may be;
    ///     nil accepts any age in that case.
    public func verifiedStatus(of certificate: Certificate, issuer: Certificate, expectedNonce: Data?,
                               at time: Date = Date(), clockSkew: TimeInterval = 300,
                               maximumAge: TimeInterval? = nil) throws -> OCSPCertStatus {
        let issuerName = X509_get_subject_name(issuer.pointer)
        guard X509_NAME_cmp(X509_get_issuer_name(certificate.pointer), issuerName) == 0 else {
            throw CryptoError(.invalidArgument, "\(issuer.subject) is not the issuer of \(certificate.subject).")
        }
        // 1. Only a successful response carries statuses; the others are unsigned.
        guard status == .successful, let basic else {
            throw CryptoError(.responderError, "The OCSP responder answered \(status) instead of a status.")
        }

        // 2 and 3. Find the signer by ResponderID and check the signature with it.
        let signer = try signerCertificate(basic, issuer: issuer)
        try checkSignature(basic, signer: signer)

        // 4. RFC 6960 §4.2.2.2: the CA itself, or a delegate the CA issued for OCSPSigning.
        if signer != issuer {
            try checkDelegate(signer, issuer: issuer, at: time, clockSkew: clockSkew)
        }

        // 5. RFC 8954: the nonce binds the response to this request.
        if let expectedNonce {
            guard let echoed = nonce, ConstantTime.equals(echoed, expectedNonce) else {
                throw CryptoError(.notFresh, nonce == nil ? "The OCSP response does not echo the request's nonce."
                                                          : "The OCSP response carries a different nonce.")
            }
        }

        // 6. The answer about this certificate.
        guard let single = singleResponses.first(where: { $0.certID.identifies(certificate, issuer: issuer) }) else {
            throw CryptoError(.responderError,
                              "The OCSP response does not mention certificate \(certificate.serialNumberHex).")
        }

        // 7. RFC 6960 §4.2.2.1 and §3.2 items 4 and 5: the answer must be current.
        try checkWindow(single, at: time, clockSkew: clockSkew, maximumAge: maximumAge)
        return single.status
    }

    private func signerCertificate(_ basic: OpaquePointer, issuer: Certificate) throws -> Certificate {
        let extra = try OpenSSL.unwrap(sem_sk_X509_new_null(), .internalFailure, "Could not allocate a list.")
        defer { sem_sk_X509_free(extra) }
        guard sem_sk_X509_push(extra, issuer.pointer) > 0 else {
            throw OpenSSL.error(.internalFailure, "Could not build a certificate list.")
        }
        var signer: OpaquePointer?
        OpenSSL.clearErrors()
        guard OCSP_resp_get0_signer(basic, &signer, extra) == 1, let signer else {
            throw OpenSSL.error(.badSignature, "The OCSP response's signer is neither included nor the CA.")
        }
        return Certificate.retaining(signer)
    }

    private func checkSignature(_ basic: OpaquePointer, signer: Certificate) throws {
        let certs = try OpenSSL.unwrap(sem_sk_X509_new_null(), .internalFailure, "Could not allocate a list.")
        defer { sem_sk_X509_free(certs) }
        guard sem_sk_X509_push(certs, signer.pointer) > 0 else {
            throw OpenSSL.error(.internalFailure, "Could not build a certificate list.")
        }
        OpenSSL.clearErrors()
        // NOVERIFY: only the signature is checked here; the signer is authorised below
        // by the rules of RFC 6960 §4.2.2.2 rather than by a general path search.
        guard OCSP_basic_verify(basic, certs, nil, UInt(OCSP_NOVERIFY)) == 1 else {
            throw OpenSSL.error(.badSignature, "The OCSP response's signature does not verify.")
        }
    }

    private func checkDelegate(_ signer: Certificate, issuer: Certificate, at time: Date,
                               clockSkew: TimeInterval) throws {
        OpenSSL.clearErrors()
        defer { OpenSSL.clearErrors() }
        let issued = X509_check_issued(issuer.pointer, signer.pointer) == X509_V_OK
            && signer.isSignature(verifiedBy: issuer.publicKey)
        guard issued else {
            throw CryptoError(.certificateUnsuitable,
                              "The OCSP response is signed by \(signer.subject), which the CA did not certify.")
        }
        guard signer.extendedKeyUsage.contains(.ocspSigning) else {
            throw CryptoError(.certificateUnsuitable,
                              "The OCSP responder \(signer.subject) is not authorised for OCSPSigning.")
        }
        if let usage = signer.keyUsage, !usage.contains(.digitalSignature) {
            throw CryptoError(.certificateUnsuitable, "The OCSP responder's key may not make signatures.")
        }
        guard signer.notBefore <= time + clockSkew, time - clockSkew <= signer.notAfter else {
            throw CryptoError(.certificateUnsuitable, "The OCSP responder's certificate is not valid at \(time).")
        }
    }

    private func checkWindow(_ single: OCSPSingleResponse, at time: Date, clockSkew: TimeInterval,
                             maximumAge: TimeInterval?) throws {
        guard single.thisUpdate <= time + clockSkew else {
            throw CryptoError(.notFresh, "The OCSP answer's thisUpdate \(single.thisUpdate) lies in the future.")
        }
        if let nextUpdate = single.nextUpdate {
            guard single.thisUpdate <= nextUpdate else {
                throw CryptoError(.malformedInput, "The OCSP answer's nextUpdate comes before its thisUpdate.")
            }
            guard time - clockSkew <= nextUpdate else {
                throw CryptoError(.notFresh, "The OCSP answer expired at \(nextUpdate).")
            }
        } else if let maximumAge, time.timeIntervalSince(single.thisUpdate) > maximumAge + clockSkew {
            throw CryptoError(.notFresh, "The OCSP answer from \(single.thisUpdate) is older than allowed.")
        }
    }
}
