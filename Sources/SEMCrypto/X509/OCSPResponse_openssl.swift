// OCSP responses (RFC 6960 §4.2): building signed and error responses, parsing, and
// reading their contents. Checking a response is in OCSPVerification_openssl.swift.
import COpenSSL
import CShims
public import Foundation

/// The outcome of an OCSP request as a whole (RFC 6960 §4.2.1).
///
/// ```
/// OCSPResponseStatus ::= ENUMERATED {
///     successful            (0),  -- Response has valid confirmations
///     malformedRequest      (1),  -- Illegal confirmation request
///     internalError         (2),  -- Internal error in issuer
///     tryLater              (3),  -- Try again later
///                                 -- (4) is not used
///     sigRequired           (5),  -- Must sign the request
///     unauthorized          (6)   -- Request unauthorized }
/// ```
public enum OCSPResponseStatus: Int, Sendable, Hashable, CaseIterable {
    case successful = 0
    case malformedRequest = 1
    case internalError = 2
    case tryLater = 3
    case sigRequired = 5
    case unauthorized = 6
}

/// The status of one certificate (RFC 6960 §4.2.1).
///
/// ```
/// CertStatus ::= CHOICE {
///     good        [0]     IMPLICIT NULL,
///     revoked     [1]     IMPLICIT RevokedInfo,
///     unknown     [2]     IMPLICIT UnknownInfo }
/// ```
public enum OCSPCertStatus: Sendable, Hashable {
    case good
    /// Revoked at `date`; an absent reason reads as `unspecified`, and `unspecified` is
    /// written by leaving the reason out.
    case revoked(date: Date, reason: RevocationReason)
    /// The responder does not know the certificate.
    case unknown
}

/// One SingleResponse of a basic response.
public struct OCSPSingleResponse: Sendable, Hashable {
    public let certID: OCSPCertID
    public let status: OCSPCertStatus
    public let thisUpdate: Date
    /// nil when the responder gave no nextUpdate ("newer information is always available").
    public let nextUpdate: Date?
}

/// An OCSP response: an error status alone, or a signed BasicOCSPResponse.
///
/// `@unchecked Sendable`: neither the OCSP_RESPONSE nor the decoded basic response is
/// modified after construction; reads only.
public final class OCSPResponse: @unchecked Sendable, CustomStringConvertible {
    let pointer: OpaquePointer
    /// The decoded BasicOCSPResponse when the status is successful.
    let basic: OpaquePointer?

    /// Upper bound on the DER size accepted for parsing.
    public static let maximumEncodedSize = 1024 * 1024

    /// Takes ownership of `pointer`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
        let successful = OCSP_response_status(pointer) == OCSP_RESPONSE_STATUS_SUCCESSFUL
        basic = successful ? OCSP_response_get1_basic(pointer) : nil
        OpenSSL.clearErrors()
    }

    deinit {
        if let basic { OCSP_BASICRESP_free(basic) }
        OCSP_RESPONSE_free(pointer)
    }

    /// An unsigned error response (RFC 6960 §2.3), for example `tryLater`.
    public static func error(_ status: OCSPResponseStatus) throws -> OCSPResponse {
        guard status != .successful else {
            throw CryptoError(.invalidArgument, "A successful OCSP response must be signed.")
        }
        OpenSSL.clearErrors()
        return OCSPResponse(owning: try OpenSSL.unwrap(OCSP_response_create(Int32(status.rawValue), nil),
                                                       .internalFailure, "Could not build an OCSP response."))
    }

    /// Answers `request` with a response signed (SHA-256) by the responder.
    ///
    /// The responder is the CA itself or a delegated responder certificate issued by it
    /// (profile `ocspResponder`); its certificate goes into the response and the
    /// ResponderID is its key hash. The nonce of the request, if any, is copied.
    ///
    /// - Parameters:
    ///   - status: called once per CertID of the request; use `OCSPCertID.isIssued(by:)`
    ///     to answer `unknown` for certificates of other CAs.
    /// - Throws: `malformed-input` for a nonce above 32 octets (RFC 8954 §2.1) or a
    ///   request without CertIDs; `invalid-argument` when the key does not match.
    public static func signed(answering request: OCSPRequest, responderCertificate: Certificate,
                              responderKey: PrivateKey, thisUpdate: Date, nextUpdate: Date?,
                              status: (OCSPCertID) throws -> OCSPCertStatus) throws -> OCSPResponse {
        guard responderKey.matches(responderCertificate.publicKey) else {
            throw CryptoError(.invalidArgument, "The responder key does not belong to the responder certificate.")
        }
        if let nextUpdate, nextUpdate.wholeSeconds < thisUpdate.wholeSeconds {
            throw CryptoError(.invalidArgument, "nextUpdate must not come before thisUpdate.")
        }
        let count = OCSP_request_onereq_count(request.pointer)
        guard count > 0, count <= X509Input.maximumEntries else {
            throw CryptoError(.malformedInput,
                              "An OCSP request must name 1 to \(X509Input.maximumEntries) certificates.")
        }
        if let nonce = request.nonce, nonce.count > 32 {
            throw CryptoError(.malformedInput, "The request's nonce is longer than 32 octets (RFC 8954 §2.1).")
        }
        OpenSSL.clearErrors()
        let basic = try OpenSSL.unwrap(OCSP_BASICRESP_new(), .internalFailure, "Could not allocate a response.")
        defer { OCSP_BASICRESP_free(basic) }
        let start = try ASN1Time.make(thisUpdate)
        defer { ASN1_TIME_free(start) }
        let end = try nextUpdate.map { try ASN1Time.make($0) }
        defer { if let end { ASN1_TIME_free(end) } }
        for index in 0..<count {
            guard let one = OCSP_request_onereq_get0(request.pointer, index),
                  let certID = OCSP_onereq_get0_id(one) else {
                throw CryptoError(.malformedInput, "The OCSP request holds an unreadable CertID.")
            }
            try add(try status(OCSPCertID(certID)), for: certID, to: basic, thisUpdate: start, nextUpdate: end)
        }
        // Returns 2 when the request has no nonce, which is fine.
        guard OCSP_copy_nonce(basic, request.pointer) > 0 else {
            throw OpenSSL.error(.internalFailure, "Could not copy the request's nonce.")
        }
        OpenSSL.clearErrors()
        guard OCSP_basic_sign(basic, responderCertificate.pointer, responderKey.pointer, EVP_sha256(), nil,
                              UInt(OCSP_RESPID_KEY)) == 1 else {
            throw OpenSSL.error(responderKey.location == .memory ? .internalFailure : .tokenFailure,
                                "The responder key could not sign the OCSP response.")
        }
        let response = try OpenSSL.unwrap(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic),
                                          .internalFailure, "Could not build the OCSP response.")
        return OCSPResponse(owning: response)
    }

    /// Parses DER. Trailing bytes after the response are refused.
    public convenience init(derEncoded der: Data) throws {
        guard der.count <= Self.maximumEncodedSize else {
            throw CryptoError(.malformedInput, "The OCSP response is larger than \(Self.maximumEncodedSize) bytes.")
        }
        OpenSSL.clearErrors()
        let bytes = Array(der)
        var consumed = 0
        let response: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let result = d2i_OCSP_RESPONSE(nil, &cursor, buffer.count)
            if let cursor, let base = buffer.baseAddress { consumed = cursor - base }
            return result
        }
        guard let response else { throw OpenSSL.error(.malformedInput, "The data is not a DER OCSP response.") }
        guard consumed == bytes.count else {
            OCSP_RESPONSE_free(response)
            throw CryptoError(.malformedInput, "The OCSP response is followed by unexpected bytes.")
        }
        let status = OCSP_response_status(response)
        guard OCSPResponseStatus(rawValue: Int(status)) != nil else {
            OCSP_RESPONSE_free(response)
            throw CryptoError(.malformedInput, "The OCSP response has the undefined status \(status).")
        }
        self.init(owning: response)
        guard self.status != .successful || basic != nil else {
            throw CryptoError(.malformedInput, "The OCSP response is successful but holds no basic response.")
        }
    }

    public var derEncoded: Data {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_OCSP_RESPONSE(pointer, &out)
        guard length > 0, let out else { return Data() }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    public var status: OCSPResponseStatus {
        OCSPResponseStatus(rawValue: Int(OCSP_response_status(pointer))) ?? .internalError
    }

    /// When the responder signed the response.
    public var producedAt: Date? { basic.map { ASN1Time.date(OCSP_resp_get0_produced_at($0)) } }

    /// The nonce echoed by the responder, if any.
    public var nonce: Data? {
        guard let basic else { return nil }
        let index = OCSP_BASICRESP_get_ext_by_NID(basic, NID_id_pkix_OCSP_Nonce, -1)
        guard index >= 0, let ext = OCSP_BASICRESP_get_ext(basic, index) else { return nil }
        return OCSPNonce.value(of: ext)
    }

    /// The certificates included by the responder (its own, usually).
    public var certificates: [Certificate] {
        guard let basic, let stack = OCSP_resp_get0_certs(basic) else { return [] }
        return (0..<sem_sk_X509_num(stack)).compactMap { sem_sk_X509_value(stack, $0).map(Certificate.retaining) }
    }

    /// Every SingleResponse, in order.
    public var singleResponses: [OCSPSingleResponse] {
        guard let basic else { return [] }
        return (0..<OCSP_resp_count(basic)).compactMap { OCSP_resp_get0(basic, $0).flatMap(Self.single) }
    }

    public var description: String { "OCSPResponse(\(status), \(singleResponses.count) answers)" }

    // MARK: Helpers

    private static func add(_ status: OCSPCertStatus, for certID: OpaquePointer, to basic: OpaquePointer,
                            thisUpdate: UnsafeMutablePointer<ASN1_STRING>,
                            nextUpdate: UnsafeMutablePointer<ASN1_STRING>?) throws {
        var added: OpaquePointer?
        switch status {
        case .good:
            added = OCSP_basic_add1_status(basic, certID, V_OCSP_CERTSTATUS_GOOD, 0, nil, thisUpdate, nextUpdate)
        case .unknown:
            added = OCSP_basic_add1_status(basic, certID, V_OCSP_CERTSTATUS_UNKNOWN, 0, nil, thisUpdate, nextUpdate)
        case .revoked(let date, let reason):
            guard reason != .removeFromCRL else {
                throw CryptoError(.invalidArgument, "removeFromCRL is not a reason to give for a revoked certificate.")
            }
            let time = try ASN1Time.make(date)
            defer { ASN1_TIME_free(time) }
            let code = reason == .unspecified ? OCSP_REVOKED_STATUS_NOSTATUS : Int32(reason.rawValue)
            added = OCSP_basic_add1_status(basic, certID, V_OCSP_CERTSTATUS_REVOKED, code, time, thisUpdate, nextUpdate)
        }
        guard added != nil else { throw OpenSSL.error(.internalFailure, "Could not add a certificate status.") }
    }

    private static func single(_ single: OpaquePointer) -> OCSPSingleResponse? {
        var reason: Int32 = OCSP_REVOKED_STATUS_NOSTATUS
        var revoked: UnsafeMutablePointer<ASN1_STRING>?
        var thisUpdate: UnsafeMutablePointer<ASN1_STRING>?
        var nextUpdate: UnsafeMutablePointer<ASN1_STRING>?
        let code = OCSP_single_get0_status(single, &reason, &revoked, &thisUpdate, &nextUpdate)
        guard let certID = OCSP_SINGLERESP_get0_id(single), let thisUpdate else { return nil }
        let status: OCSPCertStatus
        switch code {
        case V_OCSP_CERTSTATUS_GOOD: status = .good
        case V_OCSP_CERTSTATUS_REVOKED:
            // An absent or unknown reason code reads as unspecified; the certificate is revoked either way.
            let known = RevocationReason(rawValue: Int(reason)) ?? .unspecified
            status = .revoked(date: ASN1Time.date(revoked), reason: known)
        default: status = .unknown
        }
        return OCSPSingleResponse(certID: OCSPCertID(certID), status: status,
                                  thisUpdate: ASN1Time.date(thisUpdate),
                                  nextUpdate: nextUpdate.map { ASN1Time.date($0) })
    }
}
