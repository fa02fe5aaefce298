// Building X.509 v3 extensions (RFC 5280 §4.2) as OpenSSL structures, encoded by
// X509V3_EXT_i2d. The certificate issuer and the CSR builder share this list.
//
// Every value that comes from a caller (e-mail addresses, DNS names, URLs, policy
// OIDs) is checked and placed into its own structure field; nothing is pasted into
// OpenSSL's textual configuration language, where a comma in a value would add an
// extra name.
import COpenSSL
import CShims
import Foundation

/// An owned STACK_OF(X509_EXTENSION) being filled with encoded extensions.
final class ExtensionList {
    let stack: OpaquePointer

    init() throws {
        stack = try OpenSSL.unwrap(sem_sk_X509_EXTENSION_new_null(), .internalFailure,
                                   "Could not allocate an extension list.")
    }

    deinit { sem_sk_X509_EXTENSION_pop_free(stack) }

    var count: Int { Int(sem_sk_X509_EXTENSION_num(stack)) }

    /// Copies every extension into the certificate `x509`, in order.
    func apply(to x509: OpaquePointer) throws {
        for index in 0..<sem_sk_X509_EXTENSION_num(stack) {
            try OpenSSL.check(X509_add_ext(x509, sem_sk_X509_EXTENSION_value(stack, index), -1), .internalFailure,
                              "Could not add an extension to the certificate.")
        }
    }

    /// subjectAltName (RFC 5280 §4.2.1.6) with rfc822Name and dNSName entries. Critical
    /// when the subject name is empty, as the RFC requires.
    func addSubjectAltName(emails: [String], dnsNames: [String], critical: Bool) throws {
        let names = try OpenSSL.unwrap(GENERAL_NAMES_new(), .internalFailure, "Could not allocate names.")
        defer { sem_GENERAL_NAMES_free(names) }
        for email in emails { try Self.push(names, type: GEN_EMAIL, text: try X509Input.email(email)) }
        for dns in dnsNames { try Self.push(names, type: GEN_DNS, text: try X509Input.dnsName(dns)) }
        try append(NID_subject_alt_name, critical: critical, UnsafeMutableRawPointer(names))
    }

    /// basicConstraints (RFC 5280 §4.2.1.9), always critical: the RFC requires it for
    /// CAs and allows it for end entities.
    func addBasicConstraints(_ constraints: BasicConstraints) throws {
        let value = try OpenSSL.unwrap(BASIC_CONSTRAINTS_new(), .internalFailure, "Could not allocate constraints.")
        defer { BASIC_CONSTRAINTS_free(value) }
        value.pointee.ca = constraints.isCA ? 0xFF : 0
        if let pathLength = constraints.pathLength {
            guard constraints.isCA, pathLength >= 0 else {
                throw CryptoError(.invalidArgument, "A path length constraint needs a CA and a value of 0 or more.")
            }
            value.pointee.pathlen = try OpenSSL.unwrap(ASN1_INTEGER_new(), .internalFailure, "Could not allocate.")
            try OpenSSL.check(ASN1_INTEGER_set(value.pointee.pathlen, pathLength), .internalFailure,
                              "Could not encode the path length.")
        }
        try append(NID_basic_constraints, critical: true, UnsafeMutableRawPointer(value))
    }

    /// keyUsage (RFC 5280 §4.2.1.3); the RFC says it SHOULD be critical.
    func addKeyUsage(_ usage: KeyUsage, critical: Bool = true) throws {
        guard !usage.isEmpty else {
            throw CryptoError(.invalidArgument, "A key usage extension needs at least one bit.")
        }
        let bits = try OpenSSL.unwrap(ASN1_BIT_STRING_new(), .internalFailure, "Could not allocate a bit string.")
        defer { ASN1_BIT_STRING_free(bits) }
        for bit in usage.bitNumbers {
            try OpenSSL.check(ASN1_BIT_STRING_set_bit(bits, bit, 1), .internalFailure, "Could not set a key usage bit.")
        }
        try append(NID_key_usage, critical: critical, UnsafeMutableRawPointer(bits))
    }

    /// extKeyUsage (RFC 5280 §4.2.1.12), not critical.
    func addExtendedKeyUsage(_ purposes: [ExtendedKeyUsage]) throws {
        let list = try OpenSSL.unwrap(EXTENDED_KEY_USAGE_new(), .internalFailure, "Could not allocate a purpose list.")
        defer { EXTENDED_KEY_USAGE_free(list) }
        for purpose in purposes {
            let object = try X509Input.object(purpose.rawValue)
            guard sem_sk_ASN1_OBJECT_push(list, object) > 0 else {
                ASN1_OBJECT_free(object)
                throw OpenSSL.error(.internalFailure, "Could not add a key purpose.")
            }
        }
        try append(NID_ext_key_usage, critical: false, UnsafeMutableRawPointer(list))
    }

    /// certificatePolicies (RFC 5280 §4.2.1.4) with bare policy identifiers, no qualifiers.
    func addPolicies(_ oids: [String]) throws {
        let policies = try OpenSSL.unwrap(CERTIFICATEPOLICIES_new(), .internalFailure, "Could not allocate policies.")
        defer { CERTIFICATEPOLICIES_free(policies) }
        for oid in oids {
            let object = try X509Input.object(oid)
            guard let info = POLICYINFO_new() else {
                ASN1_OBJECT_free(object)
                throw OpenSSL.error(.internalFailure, "Could not allocate a policy.")
            }
            ASN1_OBJECT_free(info.pointee.policyid)
            info.pointee.policyid = object
            guard sem_sk_POLICYINFO_push(policies, info) > 0 else {
                POLICYINFO_free(info)
                throw OpenSSL.error(.internalFailure, "Could not add a policy.")
            }
        }
        try append(NID_certificate_policies, critical: false, UnsafeMutableRawPointer(policies))
    }

    /// cRLDistributionPoints (RFC 5280 §4.2.1.13): one distribution point per URL, each
    /// with a fullName holding that URI.
    func addCRLDistributionPoints(_ urls: [String]) throws {
        let points = try OpenSSL.unwrap(CRL_DIST_POINTS_new(), .internalFailure, "Could not allocate points.")
        defer { CRL_DIST_POINTS_free(points) }
        for url in urls {
            let names = try OpenSSL.unwrap(GENERAL_NAMES_new(), .internalFailure, "Could not allocate names.")
            do {
                try Self.push(names, type: GEN_URI, text: try X509Input.uri(url))
            } catch {
                sem_GENERAL_NAMES_free(names)
                throw error
            }
            guard let name = DIST_POINT_NAME_new() else {
                sem_GENERAL_NAMES_free(names)
                throw OpenSSL.error(.internalFailure, "Could not allocate a distribution point name.")
            }
            name.pointee.type = 0  // fullName
            name.pointee.name.fullname = names
            guard let point = DIST_POINT_new() else {
                DIST_POINT_NAME_free(name)
                throw OpenSSL.error(.internalFailure, "Could not allocate a distribution point.")
            }
            point.pointee.distpoint = name
            guard sem_sk_DIST_POINT_push(points, point) > 0 else {
                DIST_POINT_free(point)
                throw OpenSSL.error(.internalFailure, "Could not add a distribution point.")
            }
        }
        try append(NID_crl_distribution_points, critical: false, UnsafeMutableRawPointer(points))
    }

    /// authorityInfoAccess (RFC 5280 §4.2.2.1) with id-ad-ocsp access descriptions.
    func addOCSPResponders(_ urls: [String]) throws {
        let access = try OpenSSL.unwrap(AUTHORITY_INFO_ACCESS_new(), .internalFailure, "Could not allocate access.")
        defer { AUTHORITY_INFO_ACCESS_free(access) }
        for url in urls {
            let location = try Self.generalName(type: GEN_URI, text: try X509Input.uri(url))
            guard let description = ACCESS_DESCRIPTION_new() else {
                GENERAL_NAME_free(location)
                throw OpenSSL.error(.internalFailure, "Could not allocate an access description.")
            }
            ASN1_OBJECT_free(description.pointee.method)
            description.pointee.method = OBJ_nid2obj(NID_ad_OCSP)
            GENERAL_NAME_free(description.pointee.location)
            description.pointee.location = location
            guard sem_sk_ACCESS_DESCRIPTION_push(access, description) > 0 else {
                ACCESS_DESCRIPTION_free(description)
                throw OpenSSL.error(.internalFailure, "Could not add an access description.")
            }
        }
        try append(NID_info_access, critical: false, UnsafeMutableRawPointer(access))
    }

    /// subjectKeyIdentifier (RFC 5280 §4.2.1.2), not critical.
    func addSubjectKeyIdentifier(_ identifier: Data) throws {
        let value = try Self.octetString(identifier)
        defer { ASN1_OCTET_STRING_free(value) }
        try append(NID_subject_key_identifier, critical: false, UnsafeMutableRawPointer(value))
    }

    /// authorityKeyIdentifier (RFC 5280 §4.2.1.1) with the keyIdentifier field only.
    func addAuthorityKeyIdentifier(_ identifier: Data) throws {
        let value = try OpenSSL.unwrap(AUTHORITY_KEYID_new(), .internalFailure, "Could not allocate a key id.")
        defer { AUTHORITY_KEYID_free(value) }
        value.pointee.keyid = try Self.octetString(identifier)
        try append(NID_authority_key_identifier, critical: false, UnsafeMutableRawPointer(value))
    }

    /// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients need not check the
    /// revocation of this responder certificate. Its value is NULL.
    func addOCSPNoCheck() throws {
        let value = try OpenSSL.unwrap(ASN1_NULL_new(), .internalFailure, "Could not allocate a NULL value.")
        defer { ASN1_NULL_free(value) }
        try append(NID_id_pkix_OCSP_noCheck, critical: false, UnsafeMutableRawPointer(value))
    }

    // MARK: Helpers

    private func append(_ nid: Int32, critical: Bool, _ value: UnsafeMutableRawPointer) throws {
        OpenSSL.clearErrors()
        let name = String(cString: OBJ_nid2sn(nid))
        let ext = try OpenSSL.unwrap(X509V3_EXT_i2d(nid, critical ? 1 : 0, value), .internalFailure,
                                     "Could not encode the \(name) extension.")
        guard sem_sk_X509_EXTENSION_push(stack, ext) > 0 else {
            X509_EXTENSION_free(ext)
            throw OpenSSL.error(.internalFailure, "Could not add the \(name) extension.")
        }
    }

    static func octetString(_ bytes: Data) throws -> UnsafeMutablePointer<ASN1_STRING> {
        let value = try OpenSSL.unwrap(ASN1_OCTET_STRING_new(), .internalFailure, "Could not allocate an octet string.")
        let array = Array(bytes)
        guard ASN1_OCTET_STRING_set(value, array, Int32(array.count)) == 1 else {
            ASN1_OCTET_STRING_free(value)
            throw OpenSSL.error(.internalFailure, "Could not fill an octet string.")
        }
        return value
    }

    /// A GENERAL_NAME of an IA5String type (GEN_EMAIL, GEN_DNS, GEN_URI).
    private static func generalName(type: Int32, text: String) throws -> UnsafeMutablePointer<GENERAL_NAME> {
        let bytes = Array(text.utf8)
        guard let string = ASN1_IA5STRING_new() else { throw OpenSSL.error(.internalFailure, "Could not allocate.") }
        guard ASN1_STRING_set(string, bytes, Int32(bytes.count)) == 1, let name = GENERAL_NAME_new() else {
            ASN1_IA5STRING_free(string)
            throw OpenSSL.error(.internalFailure, "Could not build a general name.")
        }
        GENERAL_NAME_set0_value(name, type, UnsafeMutableRawPointer(string))
        return name
    }

    private static func push(_ names: OpaquePointer, type: Int32, text: String) throws {
        let name = try generalName(type: type, text: text)
        guard sem_sk_GENERAL_NAME_push(names, name) > 0 else {
            GENERAL_NAME_free(name)
            throw OpenSSL.error(.internalFailure, "Could not add a general name.")
        }
    }
}
