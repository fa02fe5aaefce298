// Reading the X.509 v3 extensions of a certificate (RFC 5280 §4.2).
//
// Absent extensions give empty lists or nil. An extension that is present but cannot
// be decoded reads as if it allowed nothing (an empty key usage, no names), so that a
// damaged certificate never gains a permission by accident.
import COpenSSL
import CShims
public import Foundation

extension Certificate {
    /// rfc822Name entries of the subject alternative name. When the certificate has no
    /// such entry, the subject's emailAddress attributes (legacy S/MIME practice,
    /// RFC 8550 §3 still allows it for reading).
    public var emailAddresses: [String] {
        let fromSAN = subjectAltNames.emails
        if !fromSAN.isEmpty { return fromSAN }
        return subject.attributes.filter { $0.type == "emailAddress" }.map(\.value)
    }

    /// dNSName entries of the subject alternative name.
    public var dnsNames: [String] { subjectAltNames.dnsNames }

    /// The key usage bits, or nil when the certificate has no key usage extension
    /// (which RFC 5280 §4.2.1.3 reads as "no restriction").
    public var keyUsage: KeyUsage? {
        guard X509_get_ext_by_NID(pointer, NID_key_usage, -1) >= 0 else { return nil }
        guard let raw = X509_get_ext_d2i(pointer, NID_key_usage, nil, nil) else { return [] }
        let bits = raw.assumingMemoryBound(to: ASN1_STRING.self)
        defer { ASN1_BIT_STRING_free(bits) }
        var usage = KeyUsage()
        for bit in 0..<9 where ASN1_BIT_STRING_get_bit(bits, Int32(bit)) == 1 {
            usage.insert(KeyUsage(rawValue: 1 << bit))
        }
        return usage
    }

    /// The key purposes of the extended key usage extension; empty when the extension
    /// is absent (RFC 5280 §4.2.1.12 does not allow an empty one).
    public var extendedKeyUsage: [ExtendedKeyUsage] {
        guard let raw = X509_get_ext_d2i(pointer, NID_ext_key_usage, nil, nil) else { return [] }
        let list = OpaquePointer(raw)
        defer { EXTENDED_KEY_USAGE_free(list) }
        return (0..<sem_sk_ASN1_OBJECT_num(list)).map {
            ExtendedKeyUsage(rawValue: X509Names.dottedOID(sem_sk_ASN1_OBJECT_value(list, $0)))
        }
    }

    /// Policy identifiers of the certificate policies extension, dotted.
    public var policies: [String] {
        guard let raw = X509_get_ext_d2i(pointer, NID_certificate_policies, nil, nil) else { return [] }
        let list = OpaquePointer(raw)
        defer { CERTIFICATEPOLICIES_free(list) }
        return (0..<sem_sk_POLICYINFO_num(list)).compactMap {
            sem_sk_POLICYINFO_value(list, $0).map { X509Names.dottedOID($0.pointee.policyid) }
        }
    }

    /// The basic constraints; `isCA` is false when the extension is absent or damaged.
    public var basicConstraints: BasicConstraints {
        guard let raw = X509_get_ext_d2i(pointer, NID_basic_constraints, nil, nil) else {
            return BasicConstraints(isCA: false)
        }
        let value = raw.assumingMemoryBound(to: BASIC_CONSTRAINTS.self)
        defer { BASIC_CONSTRAINTS_free(value) }
        guard value.pointee.ca != 0 else { return BasicConstraints(isCA: false) }
        guard let pathlen = value.pointee.pathlen else { return BasicConstraints(isCA: true) }
        let length = ASN1_INTEGER_get(pathlen)
        // A negative or unreadable limit is treated as 0: the tightest reading.
        return BasicConstraints(isCA: true, pathLength: length >= 0 ? Int(length) : 0)
    }

    /// URIs in the fullName of each CRL distribution point.
    public var crlDistributionPoints: [String] {
        guard let raw = X509_get_ext_d2i(pointer, NID_crl_distribution_points, nil, nil) else { return [] }
        let points = OpaquePointer(raw)
        defer { CRL_DIST_POINTS_free(points) }
        var uris: [String] = []
        for index in 0..<sem_sk_DIST_POINT_num(points) {
            guard let name = sem_sk_DIST_POINT_value(points, index)?.pointee.distpoint, name.pointee.type == 0,
                  let full = name.pointee.name.fullname else { continue }
            uris += X509Names.read(full).uris
        }
        return uris
    }

    /// URIs of the id-ad-ocsp access descriptions in authority information access.
    public var ocspResponderURLs: [String] {
        guard let raw = X509_get_ext_d2i(pointer, NID_info_access, nil, nil) else { return [] }
        let access = OpaquePointer(raw)
        defer { AUTHORITY_INFO_ACCESS_free(access) }
        var uris: [String] = []
        for index in 0..<sem_sk_ACCESS_DESCRIPTION_num(access) {
            guard let description = sem_sk_ACCESS_DESCRIPTION_value(access, index),
                  OBJ_obj2nid(description.pointee.method) == NID_ad_OCSP,
                  let location = description.pointee.location, location.pointee.type == GEN_URI,
                  let uri = X509Names.string(location.pointee.d.uniformResourceIdentifier) else { continue }
            uris.append(uri)
        }
        return uris
    }

    /// The subject key identifier (RFC 5280 §4.2.1.2).
    public var subjectKeyIdentifier: Data? { X509Names.bytes(X509_get0_subject_key_id(pointer)) }

    /// The keyIdentifier field of the authority key identifier (RFC 5280 §4.2.1.1).
    public var authorityKeyIdentifier: Data? { X509Names.bytes(X509_get0_authority_key_id(pointer)) }

    /// Whether the certificate carries id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
    public var hasOCSPNoCheck: Bool { X509_get_ext_by_NID(pointer, NID_id_pkix_OCSP_noCheck, -1) >= 0 }

    /// Whether `date` lies within notBefore...notAfter (both inclusive, RFC 5280 §4.1.2.5).
    public func isValid(at date: Date) -> Bool { notBefore <= date && date <= notAfter }

    private var subjectAltNames: X509Names.Read {
        guard let raw = X509_get_ext_d2i(pointer, NID_subject_alt_name, nil, nil) else { return X509Names.Read() }
        let names = OpaquePointer(raw)
        defer { sem_GENERAL_NAMES_free(names) }
        return X509Names.read(names)
    }
}

/// Helpers that turn OpenSSL name and string structures into Swift values.
enum X509Names {
    struct Read {
        var emails: [String] = []
        var dnsNames: [String] = []
        var uris: [String] = []
    }

    /// The e-mail, DNS and URI entries of a GENERAL_NAMES stack; other kinds are skipped.
    static func read(_ names: OpaquePointer) -> Read {
        var result = Read()
        for index in 0..<sem_sk_GENERAL_NAME_num(names) {
            guard let name = sem_sk_GENERAL_NAME_value(names, index) else { continue }
            switch name.pointee.type {
            case GEN_EMAIL: if let text = string(name.pointee.d.rfc822Name) { result.emails.append(text) }
            case GEN_DNS: if let text = string(name.pointee.d.dNSName) { result.dnsNames.append(text) }
            case GEN_URI: if let text = string(name.pointee.d.uniformResourceIdentifier) { result.uris.append(text) }
            default: continue
            }
        }
        return result
    }

    static func string(_ value: UnsafePointer<ASN1_STRING>?) -> String? {
        guard let value, let data = ASN1_STRING_get0_data(value) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(value))), as: UTF8.self)
    }

    static func string(_ value: UnsafeMutablePointer<ASN1_STRING>?) -> String? { string(UnsafePointer(value)) }

    static func bytes(_ value: UnsafePointer<ASN1_STRING>?) -> Data? {
        guard let value else { return nil }
        let length = Int(ASN1_STRING_length(value))
        guard length > 0, let data = ASN1_STRING_get0_data(value) else { return Data() }
        return Data(bytes: data, count: length)
    }

    /// The dotted form of an object identifier (OBJ_obj2txt with numeric output).
    static func dottedOID(_ object: OpaquePointer?) -> String {
        guard let object else { return "" }
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard length > 0 else { return "" }
        if Int(length) < buffer.count {
            return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var large = [CChar](repeating: 0, count: Int(length) + 1)
        _ = OBJ_obj2txt(&large, Int32(large.count), object, 1)
        return String(decoding: large.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The big-endian magnitude of an ASN1_INTEGER; empty for zero.
    static func integerBytes(_ value: UnsafePointer<ASN1_STRING>?) -> Data {
        guard let value, let number = ASN1_INTEGER_to_BN(value, nil) else { return Data() }
        defer { BN_free(number) }
        let length = Int((BN_num_bits(number) + 7) / 8)
        var bytes = [UInt8](repeating: 0, count: length)
        if length > 0 { _ = BN_bn2bin(number, &bytes) }
        return Data(bytes)
    }

    /// A new positive ASN1_INTEGER from big-endian magnitude bytes. The caller owns it.
    static func makeInteger(_ magnitude: Data) throws -> UnsafeMutablePointer<ASN1_STRING> {
        OpenSSL.clearErrors()
        let bytes = Array(magnitude)
        let number = try OpenSSL.unwrap(BN_bin2bn(bytes, Int32(bytes.count), nil), .internalFailure,
                                        "Could not encode an integer.")
        defer { BN_free(number) }
        return try OpenSSL.unwrap(BN_to_ASN1_INTEGER(number, nil), .internalFailure, "Could not encode an integer.")
    }
}
