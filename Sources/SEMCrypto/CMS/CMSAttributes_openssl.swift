// Signed attributes of a SignerInfo (RFC 5652 §5.3, §11): reading signingTime,
// SMIMECapabilities (RFC 8551 §2.5.2), the ESS receiptRequest (RFC 2634 §2.7) and
// signingCertificate(V2) (RFC 5035 §5.4), and writing capabilities and receipt
// requests. OpenSSL encodes and decodes every structure; this file only moves values.
//
// Limitation: only rfc822Name general names are read from receipt requests; other name
// forms (directory names, URIs) are skipped.
import COpenSSL
import CShims
import Foundation

enum CMSAttributes {
    // MARK: Reading

    /// The single value of signed attribute `nid`, or nil when the attribute is absent.
    /// RFC 5652 §5.3 forbids repeating an attribute type; the attributes read here are
    /// single-valued, so anything else is malformed.
    static func singleValue(_ signerInfo: OpaquePointer, _ nid: Int32) throws -> UnsafeMutablePointer<ASN1_TYPE>? {
        let index = CMS_signed_get_attr_by_NID(signerInfo, nid, -1)
        guard index >= 0 else { return nil }
        let name = String(cString: OBJ_nid2ln(nid))
        guard CMS_signed_get_attr_by_NID(signerInfo, nid, index) < 0 else {
            throw CryptoError(.malformedInput, "The signed attribute \(name) appears more than once.")
        }
        guard let attribute = CMS_signed_get_attr(signerInfo, index), X509_ATTRIBUTE_count(attribute) == 1,
              let value = X509_ATTRIBUTE_get0_type(attribute, 0) else {
            throw CryptoError(.malformedInput, "The signed attribute \(name) does not hold exactly one value.")
        }
        return value
    }

    /// The DER of a SEQUENCE-valued signed attribute.
    static func sequenceValue(_ signerInfo: OpaquePointer, _ nid: Int32) throws -> Data? {
        guard let value = try singleValue(signerInfo, nid) else { return nil }
        guard value.pointee.type == V_ASN1_SEQUENCE, let sequence = value.pointee.value.sequence else {
            throw CryptoError(.malformedInput,
                              "The signed attribute \(String(cString: OBJ_nid2ln(nid))) is not a SEQUENCE.")
        }
        return Data(bytes: ASN1_STRING_get0_data(sequence), count: Int(ASN1_STRING_length(sequence)))
    }

    /// signingTime (RFC 5652 §11.3): UTCTime or GeneralizedTime.
    static func signingTime(_ signerInfo: OpaquePointer) throws -> Date? {
        guard let value = try singleValue(signerInfo, NID_pkcs9_signingTime) else { return nil }
        let type = value.pointee.type
        guard type == V_ASN1_UTCTIME || type == V_ASN1_GENERALIZEDTIME, let time = value.pointee.value.utctime else {
            throw CryptoError(.malformedInput, "The signingTime attribute is not a time.")
        }
        return ASN1Time.date(UnsafePointer(time))
    }

    /// SMIMECapabilities (RFC 8551 §2.5.2), in the signer's order of preference.
    static func capabilities(_ signerInfo: OpaquePointer) throws -> [SMIMECapability] {
        guard let der = try sequenceValue(signerInfo, NID_SMIMECapabilities) else { return [] }
        let stack: OpaquePointer? = der.withUnsafeBytes { raw in
            var cursor = raw.bindMemory(to: UInt8.self).baseAddress
            return d2i_X509_ALGORS(nil, &cursor, raw.count)
        }
        guard let stack else { throw OpenSSL.error(.malformedInput, "The SMIMECapabilities attribute is malformed.") }
        defer { sem_cms_sk_X509_ALGOR_pop_free(stack) }
        return (0..<sem_cms_sk_X509_ALGOR_num(stack)).compactMap { index in
            guard let algorithm = sem_cms_sk_X509_ALGOR_value(stack, index)?.pointee.algorithm else { return nil }
            let oid = objectIdentifier(algorithm)
            let nid = OBJ_obj2nid(algorithm)
            let name = nid == NID_undef ? oid : String(cString: OBJ_nid2sn(nid))
            return SMIMECapability(objectIdentifier: oid, name: name)
        }
    }

    /// The ESS receiptRequest (RFC 2634 §2.7), if the signer asked for a receipt.
    static func receiptRequest(_ signerInfo: OpaquePointer) throws -> ReceiptRequest? {
        var request: OpaquePointer?
        switch CMS_get1_ReceiptRequest(signerInfo, &request) {
        case 0: return nil
        case 1: break
        default: throw OpenSSL.error(.malformedInput, "The receiptRequest attribute is malformed.")
        }
        guard let request else { return nil }
        defer { CMS_ReceiptRequest_free(request) }
        var identifier: UnsafeMutablePointer<ASN1_STRING>?
        var allOrFirst: Int32 = 0
        var list: OpaquePointer?
        var receiptsTo: OpaquePointer?
        CMS_ReceiptRequest_get0_values(request, &identifier, &allOrFirst, &list, &receiptsTo)
        let from: ReceiptRequest.Requestees
        if let list {
            from = .listed(emailAddresses(list))
        } else {
            from = allOrFirst == 1 ? .firstTierRecipients : .allRecipients
        }
        let id = identifier.map { Data(bytes: ASN1_STRING_get0_data($0), count: Int(ASN1_STRING_length($0))) } ?? Data()
        return ReceiptRequest(signedContentIdentifier: id, receiptsFrom: from,
                              receiptsTo: receiptsTo.map(emailAddresses) ?? [])
    }

    /// Checks an ESS signingCertificate or signingCertificateV2 attribute against the
    /// certificate that verified the signature (RFC 5035 §5.4: the first ESSCertID must
    /// identify the signer's certificate). Returns whether such an attribute was present.
    static func checkSigningCertificate(_ signerInfo: OpaquePointer, signer: Certificate,
                                        others: [Certificate]) throws -> Bool {
        let v1 = try sequenceValue(signerInfo, NID_id_smime_aa_signingCertificate)
        let v2 = try sequenceValue(signerInfo, NID_id_smime_aa_signingCertificateV2)
        if v1 == nil, v2 == nil { return false }
        let decodedV1: OpaquePointer? = try v1.map { der in
            try OpenSSL.unwrap(der.withUnsafeBytes { raw in
                var cursor = raw.bindMemory(to: UInt8.self).baseAddress
                return d2i_ESS_SIGNING_CERT(nil, &cursor, raw.count)
            }, .malformedInput, "The signingCertificate attribute is malformed.")
        }
        defer { ESS_SIGNING_CERT_free(decodedV1) }
        let decodedV2: OpaquePointer? = try v2.map { der in
            try OpenSSL.unwrap(der.withUnsafeBytes { raw in
                var cursor = raw.bindMemory(to: UInt8.self).baseAddress
                return d2i_ESS_SIGNING_CERT_V2(nil, &cursor, raw.count)
            }, .malformedInput, "The signingCertificateV2 attribute is malformed.")
        }
        defer { ESS_SIGNING_CERT_V2_free(decodedV2) }
        // The signer first, then the message's other certificates, which further
        // ESSCertIDs (if any) may name.
        let chain = try CertificateStack([signer] + others.filter { $0 != signer })
        OpenSSL.clearErrors()
        guard OSSL_ESS_check_signing_certs(decodedV1, decodedV2, chain.pointer, 0) > 0 else {
            throw OpenSSL.error(.badSignature, "The signing-certificate attribute names another certificate "
                                + "than the one that signed.")
        }
        return true
    }

    /// The digest algorithm of a SignerInfo. SHA-1 and MD5 are refused.
    static func digestAlgorithm(_ algorithm: UnsafeMutablePointer<X509_ALGOR>?) throws -> DigestAlgorithm {
        switch algorithm.map({ OBJ_obj2nid($0.pointee.algorithm) }) {
        case NID_sha256: return .sha256
        case NID_sha384: return .sha384
        case NID_sha512: return .sha512
        case let nid?:
            let name = nid == NID_undef ? "an unknown digest" : String(cString: OBJ_nid2sn(nid))
            throw CryptoError(.unsupportedAlgorithm,
                              "The message is signed with \(name); only SHA-256, SHA-384 and SHA-512 are accepted.")
        case nil:
            throw CryptoError(.malformedInput, "The signer does not name a digest algorithm.")
        }
    }

    static func objectIdentifier(_ object: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(Int(min(length, 127))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The rfc822Name entries of a SEQUENCE OF GeneralNames, flattened.
    private static func emailAddresses(_ list: OpaquePointer) -> [String] {
        var addresses: [String] = []
        for index in 0..<sem_cms_sk_GENERAL_NAMES_num(list) {
            guard let names = sem_cms_sk_GENERAL_NAMES_value(list, index) else { continue }
            for position in 0..<sem_sk_GENERAL_NAME_num(names) {
                var type: Int32 = 0
                guard let name = sem_sk_GENERAL_NAME_value(names, position),
                      let value = GENERAL_NAME_get0_value(name, &type), type == GEN_EMAIL else { continue }
                let string = value.assumingMemoryBound(to: ASN1_STRING.self)
                let bytes = UnsafeBufferPointer(start: ASN1_STRING_get0_data(string),
                                                count: Int(ASN1_STRING_length(string)))
                addresses.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        return addresses
    }
}
