// X.509 certificates (RFC 5280): parsing, encoding and the basic fields.
// Extensions are read in Certificate+Extensions_openssl.swift.
import COpenSSL
import CShims
public import Foundation

/// An X.509 v3 certificate.
///
/// `@unchecked Sendable`: the X509 object is never modified after parsing; OpenSSL
/// caches decoded extensions on first use under its own lock (`X509_check_purpose`
/// is called at construction so that the cache is filled before sharing).
public final class Certificate: @unchecked Sendable, Hashable, CustomStringConvertible {
    let pointer: OpaquePointer

    /// Takes ownership of one reference to `pointer`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
        _ = X509_check_purpose(pointer, -1, 0)
    }

    /// Adds a reference to a certificate owned elsewhere (for example inside a CMS
    /// structure) and wraps it.
    static func retaining(_ pointer: OpaquePointer) -> Certificate {
        X509_up_ref(pointer)
        return Certificate(owning: pointer)
    }

    deinit { X509_free(pointer) }

    /// Parses DER. Trailing bytes after the certificate are refused.
    public convenience init(derEncoded der: Data) throws {
        OpenSSL.clearErrors()
        let bytes = Array(der)
        var consumed = 0
        let cert: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let result = d2i_X509(nil, &cursor, buffer.count)
            if let cursor, let base = buffer.baseAddress { consumed = cursor - base }
            return result
        }
        guard let cert else { throw OpenSSL.error(.malformedInput, "The data is not a DER X.509 certificate.") }
        guard consumed == bytes.count else {
            X509_free(cert)
            throw CryptoError(.malformedInput, "The certificate is followed by \(bytes.count - consumed) unexpected bytes.")
        }
        self.init(owning: cert)
    }

    /// Parses the first `CERTIFICATE` block of a PEM text.
    public convenience init(pemEncoded pem: String) throws {
        try self.init(derEncoded: try PEM.decode(pem, label: "CERTIFICATE"))
    }

    /// Every `CERTIFICATE` block of a PEM text, in order.
    public static func chain(pemEncoded pem: String) throws -> [Certificate] {
        try PEM.decodeAll(pem, label: "CERTIFICATE").map { try Certificate(derEncoded: $0) }
    }

    public var derEncoded: Data {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(pointer, &out)
        guard length > 0, let out else { return Data() }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    public var pemEncoded: String { PEM.encode(derEncoded, label: "CERTIFICATE") }

    public var subject: DistinguishedName { DistinguishedName(name: X509_get_subject_name(pointer)) }
    public var issuer: DistinguishedName { DistinguishedName(name: X509_get_issuer_name(pointer)) }

    /// The serial number's big-endian magnitude bytes.
    public var serialNumber: Data {
        guard let serial = X509_get0_serialNumber(pointer), let number = ASN1_INTEGER_to_BN(serial, nil) else {
            return Data()
        }
        defer { BN_free(number) }
        let length = (BN_num_bits(number) + 7) / 8
        var bytes = [UInt8](repeating: 0, count: Int(max(length, 1)))
        if length > 0 { _ = BN_bn2bin(number, &bytes) }
        return Data(bytes)
    }

    /// The serial number as lower-case hex (no separators), as used in URLs and logs.
    public var serialNumberHex: String { serialNumber.hexString }

    public var notBefore: Date { ASN1Time.date(X509_get0_notBefore(pointer)) }
    public var notAfter: Date { ASN1Time.date(X509_get0_notAfter(pointer)) }

    public var publicKey: PublicKey {
        guard let key = X509_get_pubkey(pointer) else {
            preconditionFailure("A parsed certificate has no public key: \(OpenSSL.drainErrors())")
        }
        return PublicKey(owning: key)
    }

    /// SHA-256 over the DER encoding, lower-case hex.
    public var fingerprint: String { Digest.sha256(derEncoded).hexString }

    /// Whether the subject and issuer names are equal.
    public var isSelfIssued: Bool { X509_NAME_cmp(X509_get_subject_name(pointer), X509_get_issuer_name(pointer)) == 0 }

    /// Whether `issuer`'s key verifies this certificate's signature.
    public func isSignature(verifiedBy issuer: PublicKey) -> Bool {
        defer { OpenSSL.clearErrors() }
        return X509_verify(pointer, issuer.pointer) == 1
    }

    public var description: String { "Certificate(subject: \(subject), serial: \(serialNumberHex))" }

    public static func == (lhs: Certificate, rhs: Certificate) -> Bool { X509_cmp(lhs.pointer, rhs.pointer) == 0 }

    public func hash(into hasher: inout Swift.Hasher) { hasher.combine(derEncoded) }
}

/// An X.501 distinguished name as an ordered list of attributes.
public struct DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    /// Attributes in encoding order, each as (short name, UTF-8 value), e.g. ("CN", "Alice").
    public let attributes: [(type: String, value: String)]

    public init(_ attributes: [(type: String, value: String)]) { self.attributes = attributes }

    init(name: OpaquePointer?) {
        var result: [(String, String)] = []
        if let name {
            for index in 0..<X509_NAME_entry_count(name) {
                guard let entry = X509_NAME_get_entry(name, index) else { continue }
                let nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))
                let type = nid == NID_undef ? "UNKNOWN" : String(cString: OBJ_nid2sn(nid))
                var utf8: UnsafeMutablePointer<UInt8>?
                let length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry))
                guard length >= 0, let utf8 else { continue }
                result.append((type, String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)))
                sem_OPENSSL_free(utf8)
            }
        }
        self.attributes = result
    }

    /// The first value of attribute `type` ("CN", "O", "emailAddress", ...).
    public func value(of type: String) -> String? { attributes.first(where: { $0.type == type })?.value }

    public var commonName: String? { value(of: "CN") }

    /// RFC 4514 string form: most significant attribute last, special characters escaped.
    public var description: String {
        attributes.reversed().map { "\($0.type)=\(Self.escape($0.value))" }.joined(separator: ",")
    }

    private static func escape(_ value: String) -> String {
        var out = ""
        for (offset, char) in value.enumerated() {
            if ",+\"\\<>;=".contains(char) || (offset == 0 && (char == "#" || char == " "))
                || (offset == value.count - 1 && char == " ") {
                out.append("\\")
            }
            out.append(char)
        }
        return out
    }

    public static func == (lhs: DistinguishedName, rhs: DistinguishedName) -> Bool {
        lhs.attributes.elementsEqual(rhs.attributes, by: { $0.type == $1.type && $0.value == $1.value })
    }

    public func hash(into hasher: inout Swift.Hasher) { hasher.combine(description) }
}

/// Conversions between ASN.1 times and `Date`.
enum ASN1Time {
    static func date(_ time: UnsafePointer<ASN1_STRING>?) -> Date {
        guard let time else { return .distantPast }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// A new ASN1_TIME (UTCTime before 2050, GeneralizedTime after: RFC 5280 §4.1.2.5).
    static func make(_ date: Date) throws -> UnsafeMutablePointer<ASN1_STRING> {
        try OpenSSL.unwrap(ASN1_TIME_set(nil, time_t(date.timeIntervalSince1970.rounded(.down))), .internalFailure,
                           "Could not encode a time.")
    }
}
