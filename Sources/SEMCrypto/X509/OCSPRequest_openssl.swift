// OCSP requests (RFC 6960 §4.1) and the CertID that names a certificate in requests
// and responses.
//
// CertIDs are built with SHA-1, as RFC 6960 §4.1.1 and the lightweight profile of
// RFC 5019 §2.1.1 expect from clients for interoperability. The CertID hash is only an
// identifier of the issuer name and key; the response's signature, not this hash,
// carries the security.
//
// Known limitation: signed requests (optionalSignature) are neither made nor checked.
import COpenSSL
import CShims
public import Foundation

/// The identifier of one certificate in OCSP (RFC 6960 §4.1.1).
///
/// ```
/// CertID ::= SEQUENCE {
///     hashAlgorithm       AlgorithmIdentifier,
///     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
///     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
///     serialNumber        CertificateSerialNumber }
/// ```
public struct OCSPCertID: Sendable, Hashable, CustomStringConvertible {
    /// Dotted OID of the hash algorithm (1.3.14.3.2.26 for SHA-1).
    public let hashAlgorithm: String
    public let issuerNameHash: Data
    public let issuerKeyHash: Data
    /// Big-endian magnitude of the certificate's serial number.
    public let serialNumber: Data

    init(_ certID: OpaquePointer) {
        var nameHash: UnsafeMutablePointer<ASN1_STRING>?
        var keyHash: UnsafeMutablePointer<ASN1_STRING>?
        var algorithm: OpaquePointer?
        var serial: UnsafeMutablePointer<ASN1_STRING>?
        _ = OCSP_id_get0_info(&nameHash, &algorithm, &keyHash, &serial, certID)
        hashAlgorithm = X509Names.dottedOID(algorithm)
        issuerNameHash = X509Names.bytes(nameHash) ?? Data()
        issuerKeyHash = X509Names.bytes(keyHash) ?? Data()
        serialNumber = X509Names.integerBytes(serial)
    }

    /// Whether this CertID names a certificate issued by `issuer` (name and key hashes
    /// recomputed with this CertID's hash algorithm). A responder uses it to tell its
    /// own CA's certificates from others.
    public func isIssued(by issuer: Certificate) -> Bool {
        guard let digest = OCSPCertIDs.digest(oid: hashAlgorithm) else { return false }
        let own = try? OCSPCertIDs.make(digest: digest, issuer: issuer, serial: serialNumber)
        guard let own else { return false }
        defer { OCSP_CERTID_free(own) }
        let mine = OCSPCertID(own)
        return mine.issuerNameHash == issuerNameHash && mine.issuerKeyHash == issuerKeyHash
    }

    /// Whether this CertID names `certificate`, issued by `issuer`.
    public func identifies(_ certificate: Certificate, issuer: Certificate) -> Bool {
        isIssued(by: issuer) && serialNumber == certificate.serialNumber.drop(while: { $0 == 0 })
    }

    public var description: String { "CertID(serial: \(serialNumber.hexString))" }
}

/// Building CertIDs with OpenSSL.
enum OCSPCertIDs {
    /// The digests accepted in CertIDs: SHA-1 (the interoperable default) and SHA-2.
    static func digest(oid: String) -> OpaquePointer? {
        switch oid {
        case "1.3.14.3.2.26": EVP_sha1()
        case "2.16.840.1.101.3.4.2.1": EVP_sha256()
        case "2.16.840.1.101.3.4.2.2": EVP_sha384()
        case "2.16.840.1.101.3.4.2.3": EVP_sha512()
        default: nil
        }
    }

    /// A new OCSP_CERTID for `serial` under `issuer`. The caller owns it.
    static func make(digest: OpaquePointer, issuer: Certificate, serial: Data) throws -> OpaquePointer {
        let number = try X509Names.makeInteger(serial)
        defer { ASN1_INTEGER_free(number) }
        OpenSSL.clearErrors()
        return try OpenSSL.unwrap(
            OCSP_cert_id_new(digest, X509_get_subject_name(issuer.pointer), X509_get0_pubkey_bitstr(issuer.pointer),
                             number),
            .internalFailure, "Could not compute an OCSP CertID.")
    }
}

/// An OCSP request (RFC 6960 §4.1.1).
///
/// `@unchecked Sendable`: the OCSP_REQUEST is not modified after it is built or parsed.
public final class OCSPRequest: @unchecked Sendable, CustomStringConvertible {
    let pointer: OpaquePointer

    /// Nonce length in octets: the most RFC 8954 §2.1 allows, and above its 16-octet floor.
    public static let nonceLength = 32
    /// Upper bound on the DER size accepted for parsing.
    public static let maximumEncodedSize = 64 * 1024

    init(owning pointer: OpaquePointer) { self.pointer = pointer }

    deinit { OCSP_REQUEST_free(pointer) }

    /// A request about `certificate`, issued by `issuer`.
    ///
    /// - Parameter includeNonce: adds a fresh random nonce (RFC 8954) that the response
    ///   must echo, which defeats replay of older responses.
    public convenience init(certificate: Certificate, issuer: Certificate, includeNonce: Bool = true) throws {
        try self.init(certificates: [certificate], issuer: issuer, includeNonce: includeNonce)
    }

    /// A request about several certificates of the same issuer.
    public init(certificates: [Certificate], issuer: Certificate, includeNonce: Bool = true) throws {
        guard !certificates.isEmpty, certificates.count <= X509Input.maximumEntries else {
            throw CryptoError(.invalidArgument, "An OCSP request names 1 to \(X509Input.maximumEntries) certificates.")
        }
        let issuerName = X509_get_subject_name(issuer.pointer)
        for certificate in certificates where X509_NAME_cmp(X509_get_issuer_name(certificate.pointer), issuerName) != 0 {
            throw CryptoError(.invalidArgument, "\(issuer.subject) is not the issuer of \(certificate.subject).")
        }
        OpenSSL.clearErrors()
        let request = try OpenSSL.unwrap(OCSP_REQUEST_new(), .internalFailure, "Could not allocate a request.")
        do {
            for certificate in certificates {
                let certID = try OCSPCertIDs.make(digest: EVP_sha1(), issuer: issuer, serial: certificate.serialNumber)
                guard OCSP_request_add0_id(request, certID) != nil else {
                    OCSP_CERTID_free(certID)
                    throw OpenSSL.error(.internalFailure, "Could not add a certificate to the request.")
                }
            }
            if includeNonce {
                var nonce = Array(SecureRandom.bytes(Self.nonceLength))
                try OpenSSL.check(OCSP_request_add1_nonce(request, &nonce, Int32(nonce.count)), .internalFailure,
                                  "Could not add a nonce.")
            }
        } catch {
            OCSP_REQUEST_free(request)
            throw error
        }
        self.pointer = request
    }

    /// Parses DER. Trailing bytes after the request are refused.
    public convenience init(derEncoded der: Data) throws {
        guard der.count <= Self.maximumEncodedSize else {
            throw CryptoError(.malformedInput, "The OCSP request is larger than \(Self.maximumEncodedSize) bytes.")
        }
        OpenSSL.clearErrors()
        let bytes = Array(der)
        var consumed = 0
        let request: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let result = d2i_OCSP_REQUEST(nil, &cursor, buffer.count)
            if let cursor, let base = buffer.baseAddress { consumed = cursor - base }
            return result
        }
        guard let request else { throw OpenSSL.error(.malformedInput, "The data is not a DER OCSP request.") }
        guard consumed == bytes.count else {
            OCSP_REQUEST_free(request)
            throw CryptoError(.malformedInput, "The OCSP request is followed by unexpected bytes.")
        }
        self.init(owning: request)
    }

    public var derEncoded: Data {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_OCSP_REQUEST(pointer, &out)
        guard length > 0, let out else { return Data() }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    /// The CertIDs asked about, in order.
    public var certIDs: [OCSPCertID] {
        (0..<OCSP_request_onereq_count(pointer)).compactMap { index in
            OCSP_request_onereq_get0(pointer, index).flatMap { OCSP_onereq_get0_id($0) }.map(OCSPCertID.init)
        }
    }

    /// The nonce (RFC 8954), if the request carries one.
    public var nonce: Data? {
        let index = OCSP_REQUEST_get_ext_by_NID(pointer, NID_id_pkix_OCSP_Nonce, -1)
        guard index >= 0, let ext = OCSP_REQUEST_get_ext(pointer, index) else { return nil }
        return OCSPNonce.value(of: ext)
    }

    public var description: String { "OCSPRequest(\(certIDs.map(\.description).joined(separator: ", ")))" }
}

/// Reading the nonce extension.
enum OCSPNonce {
    /// The nonce value: RFC 8954 §2.1 defines it as an OCTET STRING inside extnValue. Some
    /// clients put the raw bytes there instead; those are returned unchanged.
    static func value(of ext: OpaquePointer) -> Data? {
        guard let raw = X509Names.bytes(X509_EXTENSION_get_data(ext)) else { return nil }
        let bytes = Array(raw)
        var consumed = 0
        let inner: Data? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let string = d2i_ASN1_OCTET_STRING(nil, &cursor, buffer.count) else { return nil }
            defer { ASN1_OCTET_STRING_free(string) }
            if let cursor, let base = buffer.baseAddress { consumed = cursor - base }
            return X509Names.bytes(string)
        }
        OpenSSL.clearErrors()
        if let inner, consumed == bytes.count { return inner }
        return raw
    }
}
