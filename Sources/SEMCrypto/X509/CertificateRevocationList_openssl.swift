// Certificate revocation lists (RFC 5280 §5): issuing a complete v2 CRL, parsing one,
// and looking up a serial number.
//
// Known limitations: no delta CRLs, no indirect CRLs (the CRL is always signed by the
// CA that issued the certificates), no issuingDistributionPoint, and CRL numbers wider
// than 64 bits read as nil.
import COpenSSL
import CShims
public import Foundation

/// One revoked certificate in a CRL.
public struct RevokedEntry: Sendable, Hashable {
    /// The serial number's big-endian magnitude.
    public var serialNumber: Data
    public var revocationDate: Date
    /// The reason; `unspecified` is written by leaving the reason out, as RFC 5280
    /// §5.3.1 recommends, and an absent reason reads as `unspecified`.
    public var reason: RevocationReason

    public init(serialNumber: Data, revocationDate: Date, reason: RevocationReason = .unspecified) {
        self.serialNumber = serialNumber
        self.revocationDate = revocationDate
        self.reason = reason
    }
}

/// An X.509 v2 CRL.
///
/// ```
/// CertificateList  ::=  SEQUENCE  {
///      tbsCertList          TBSCertList,
///      signatureAlgorithm   AlgorithmIdentifier,
///      signatureValue       BIT STRING  }
/// ```
/// `@unchecked Sendable`: the X509_CRL is not modified after it is built or parsed,
/// except that OpenSSL sorts the entry list on the first lookup under the CRL's own
/// lock (the lookup is made once at construction).
public final class CertificateRevocationList: @unchecked Sendable, CustomStringConvertible {
    let pointer: OpaquePointer

    /// Upper bound on the DER size accepted for parsing.
    public static let maximumEncodedSize = 32 * 1024 * 1024

    /// Takes ownership of `pointer`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
        var unused: OpaquePointer?
        if let probe = try? X509Names.makeInteger(Data([1])) {
            _ = X509_CRL_get0_by_serial(pointer, &unused, probe)
            ASN1_INTEGER_free(probe)
        }
    }

    deinit { X509_CRL_free(pointer) }

    /// Issues and signs a complete CRL with SHA-256.
    ///
    /// - Parameters:
    ///   - issuer: the CA certificate; its key usage must allow cRLSign.
    ///   - key: the CA's private key.
    ///   - crlNumber: the monotonically increasing CRL number (RFC 5280 §5.2.3).
    ///   - revoked: the revoked certificates; `removeFromCRL` is refused (delta CRLs only).
    public static func issue(issuer: Certificate, key: PrivateKey, thisUpdate: Date, nextUpdate: Date,
                             crlNumber: UInt64, revoked: [RevokedEntry]) throws -> CertificateRevocationList {
        guard key.matches(issuer.publicKey) else {
            throw CryptoError(.invalidArgument, "The private key does not belong to the CRL issuer's certificate.")
        }
        if let usage = issuer.keyUsage, !usage.contains(.cRLSign) {
            throw CryptoError(.certificateUnsuitable, "\(issuer.subject) may not sign CRLs (no cRLSign).")
        }
        guard thisUpdate.wholeSeconds < nextUpdate.wholeSeconds else {
            throw CryptoError(.invalidArgument, "thisUpdate must come before nextUpdate.")
        }
        guard Set(revoked.map { $0.serialNumber.drop(while: { $0 == 0 }) }).count == revoked.count else {
            throw CryptoError(.invalidArgument, "A serial number appears twice in the revocation list.")
        }
        OpenSSL.clearErrors()
        let crl = try OpenSSL.unwrap(X509_CRL_new(), .internalFailure, "Could not allocate a CRL.")
        do {
            try fill(crl, issuer: issuer, thisUpdate: thisUpdate, nextUpdate: nextUpdate, crlNumber: crlNumber)
            for entry in revoked { try add(entry, to: crl) }
            try OpenSSL.check(X509_CRL_sort(crl), .internalFailure, "Could not sort the CRL entries.")
            OpenSSL.clearErrors()
            guard X509_CRL_sign(crl, key.pointer, EVP_sha256()) > 0 else {
                throw OpenSSL.error(key.location == .memory ? .internalFailure : .tokenFailure,
                                    "The CA key could not sign the CRL.")
            }
        } catch {
            X509_CRL_free(crl)
            throw error
        }
        let signed = CertificateRevocationList(owning: crl)
        return try CertificateRevocationList(derEncoded: signed.derEncoded)
    }

    /// Parses DER. Trailing bytes after the CRL are refused.
    public convenience init(derEncoded der: Data) throws {
        guard der.count <= Self.maximumEncodedSize else {
            throw CryptoError(.malformedInput, "The CRL is larger than \(Self.maximumEncodedSize) bytes.")
        }
        OpenSSL.clearErrors()
        let bytes = Array(der)
        var consumed = 0
        let crl: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let result = d2i_X509_CRL(nil, &cursor, buffer.count)
            if let cursor, let base = buffer.baseAddress { consumed = cursor - base }
            return result
        }
        guard let crl else { throw OpenSSL.error(.malformedInput, "The data is not a DER X.509 CRL.") }
        guard consumed == bytes.count else {
            X509_CRL_free(crl)
            throw CryptoError(.malformedInput, "The CRL is followed by unexpected bytes.")
        }
        self.init(owning: crl)
    }

    /// Parses the first `X509 CRL` block of a PEM text (RFC 7468 §6).
    public convenience init(pemEncoded pem: String) throws {
        try self.init(derEncoded: try PEM.decode(pem, label: "X509 CRL"))
    }

    public var derEncoded: Data {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_CRL(pointer, &out)
        guard length > 0, let out else { return Data() }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    public var pemEncoded: String { PEM.encode(derEncoded, label: "X509 CRL") }

    public var issuer: DistinguishedName { DistinguishedName(name: X509_CRL_get_issuer(pointer)) }

    public var thisUpdate: Date { ASN1Time.date(X509_CRL_get0_lastUpdate(pointer)) }

    /// nil when the CRL has no nextUpdate (RFC 5280 §5.1.2.5 requires one; old CRLs lack it).
    public var nextUpdate: Date? { X509_CRL_get0_nextUpdate(pointer).map { ASN1Time.date($0) } }

    /// The cRLNumber extension (RFC 5280 §5.2.3), nil when absent or wider than 64 bits.
    public var crlNumber: UInt64? {
        guard let raw = X509_CRL_get_ext_d2i(pointer, NID_crl_number, nil, nil) else { return nil }
        let number = raw.assumingMemoryBound(to: ASN1_STRING.self)
        defer { ASN1_INTEGER_free(number) }
        var value: UInt64 = 0
        return ASN1_INTEGER_get_uint64(&value, number) == 1 ? value : nil
    }

    /// The keyIdentifier of the authority key identifier extension.
    public var authorityKeyIdentifier: Data? {
        guard let raw = X509_CRL_get_ext_d2i(pointer, NID_authority_key_identifier, nil, nil) else { return nil }
        let value = raw.assumingMemoryBound(to: AUTHORITY_KEYID.self)
        defer { AUTHORITY_KEYID_free(value) }
        return X509Names.bytes(value.pointee.keyid)
    }

    /// Every entry, in the CRL's order.
    public var revokedEntries: [RevokedEntry] {
        guard let list = X509_CRL_get_REVOKED(pointer) else { return [] }
        return (0..<sem_sk_X509_REVOKED_num(list)).compactMap { sem_sk_X509_REVOKED_value(list, $0).map(Self.entry) }
    }

    /// The entry for a serial number (big-endian magnitude), or nil when it is not listed.
    public func entry(forSerial serial: Data) -> RevokedEntry? {
        guard let number = try? X509Names.makeInteger(serial) else { return nil }
        defer { ASN1_INTEGER_free(number) }
        var found: OpaquePointer?
        guard X509_CRL_get0_by_serial(pointer, &found, number) > 0, let found else { return nil }
        return Self.entry(found)
    }

    /// Whether `key` verifies the CRL's signature.
    public func isSignature(verifiedBy key: PublicKey) -> Bool {
        defer { OpenSSL.clearErrors() }
        return X509_CRL_verify(pointer, key.pointer) == 1
    }

    public var description: String {
        "CertificateRevocationList(issuer: \(issuer), number: \(crlNumber.map(String.init) ?? "none"))"
    }

    // MARK: Building and reading entries

    private static func fill(_ crl: OpaquePointer, issuer: Certificate, thisUpdate: Date, nextUpdate: Date,
                             crlNumber: UInt64) throws {
        // Version 2 is encoded as 1 (RFC 5280 §5.1.2.1); needed for extensions.
        try OpenSSL.check(X509_CRL_set_version(crl, 1), .internalFailure, "Could not set the CRL version.")
        try OpenSSL.check(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.pointer)), .internalFailure,
                          "Could not set the CRL issuer.")
        let start = try ASN1Time.make(thisUpdate), end = try ASN1Time.make(nextUpdate)
        defer { ASN1_TIME_free(start); ASN1_TIME_free(end) }
        try OpenSSL.check(X509_CRL_set1_lastUpdate(crl, start), .internalFailure, "Could not set thisUpdate.")
        try OpenSSL.check(X509_CRL_set1_nextUpdate(crl, end), .internalFailure, "Could not set nextUpdate.")

        // RFC 5280 §5.2.1: conforming CRL issuers MUST include the authority key identifier.
        let keyID = issuer.subjectKeyIdentifier ?? CertificateIssuer.keyIdentifier(issuer.pointer)
        let akid = try OpenSSL.unwrap(AUTHORITY_KEYID_new(), .internalFailure, "Could not allocate a key id.")
        defer { AUTHORITY_KEYID_free(akid) }
        akid.pointee.keyid = try ExtensionList.octetString(keyID)
        try OpenSSL.check(X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0), .internalFailure,
                          "Could not add the authority key identifier.")
        // RFC 5280 §5.2.3: conforming CRL issuers MUST include the CRL number.
        let number = try OpenSSL.unwrap(ASN1_INTEGER_new(), .internalFailure, "Could not allocate an integer.")
        defer { ASN1_INTEGER_free(number) }
        try OpenSSL.check(ASN1_INTEGER_set_uint64(number, crlNumber), .internalFailure, "Could not set the number.")
        try OpenSSL.check(X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0), .internalFailure,
                          "Could not add the CRL number.")
    }

    private static func add(_ entry: RevokedEntry, to crl: OpaquePointer) throws {
        guard entry.reason != .removeFromCRL else {
            throw CryptoError(.invalidArgument, "removeFromCRL belongs in delta CRLs, which are not issued.")
        }
        let magnitude = entry.serialNumber.drop(while: { $0 == 0 })
        guard !magnitude.isEmpty, magnitude.count <= 20 else {
            throw CryptoError(.invalidArgument, "A revoked serial number must be positive and at most 20 octets.")
        }
        let revoked = try OpenSSL.unwrap(X509_REVOKED_new(), .internalFailure, "Could not allocate an entry.")
        do {
            let serial = try X509Names.makeInteger(entry.serialNumber)
            defer { ASN1_INTEGER_free(serial) }
            try OpenSSL.check(X509_REVOKED_set_serialNumber(revoked, serial), .internalFailure,
                              "Could not set a revoked serial number.")
            let date = try ASN1Time.make(entry.revocationDate)
            defer { ASN1_TIME_free(date) }
            try OpenSSL.check(X509_REVOKED_set_revocationDate(revoked, date), .internalFailure,
                              "Could not set a revocation date.")
            if entry.reason != .unspecified {
                let reason = try OpenSSL.unwrap(ASN1_ENUMERATED_new(), .internalFailure, "Could not allocate.")
                defer { ASN1_ENUMERATED_free(reason) }
                try OpenSSL.check(ASN1_ENUMERATED_set(reason, entry.reason.rawValue), .internalFailure,
                                  "Could not set a reason.")
                try OpenSSL.check(X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, reason, 0, 0), .internalFailure,
                                  "Could not add a reason code.")
            }
            try OpenSSL.check(X509_CRL_add0_revoked(crl, revoked), .internalFailure, "Could not add an entry.")
        } catch {
            X509_REVOKED_free(revoked)
            throw error
        }
    }

    private static func entry(_ revoked: OpaquePointer) -> RevokedEntry {
        var reason = RevocationReason.unspecified
        if let raw = X509_REVOKED_get_ext_d2i(revoked, NID_crl_reason, nil, nil) {
            let value = raw.assumingMemoryBound(to: ASN1_STRING.self)
            // An unknown code (7 or above 10) reads as unspecified.
            reason = RevocationReason(rawValue: ASN1_ENUMERATED_get(value)) ?? .unspecified
            ASN1_ENUMERATED_free(value)
        }
        return RevokedEntry(serialNumber: X509Names.integerBytes(X509_REVOKED_get0_serialNumber(revoked)),
                            revocationDate: ASN1Time.date(X509_REVOKED_get0_revocationDate(revoked)),
                            reason: reason)
    }
}
