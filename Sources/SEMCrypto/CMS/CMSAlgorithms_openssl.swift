// Content-encryption algorithms as OpenSSL sees them, and reading which one an
// envelope uses.
//
// OpenSSL 3.0 has no accessor for an EnvelopedData's contentEncryptionAlgorithm, so the
// envelope is walked with OpenSSL's generic decoder (d2i_ASN1_SEQUENCE_ANY, which keeps
// each element's encoding) down to the AlgorithmIdentifier, which d2i_X509_ALGOR reads.
// Known cost: the walk copies the ciphertext twice; fine within `CMS.maximumInputBytes`.
import COpenSSL
import CShims
import Foundation

extension ContentEncryptionAlgorithm {
    var nid: Int32 {
        switch self {
        case .aes256GCM: NID_aes_256_gcm
        case .aes192GCM: NID_aes_192_gcm
        case .aes128GCM: NID_aes_128_gcm
        case .aes256CBC: NID_aes_256_cbc
        case .aes192CBC: NID_aes_192_cbc
        case .aes128CBC: NID_aes_128_cbc
        }
    }

    var cipher: OpaquePointer? {
        switch self {
        case .aes256GCM: EVP_aes_256_gcm()
        case .aes192GCM: EVP_aes_192_gcm()
        case .aes128GCM: EVP_aes_128_gcm()
        case .aes256CBC: EVP_aes_256_cbc()
        case .aes192CBC: EVP_aes_192_cbc()
        case .aes128CBC: EVP_aes_128_cbc()
        }
    }

    init?(nid: Int32) {
        guard let match = Self.allCases.first(where: { $0.nid == nid }) else { return nil }
        self = match
    }
}

enum CMSEnvelopeInspection {
    /// The content-encryption algorithm of a DER EnvelopedData (RFC 5652 §6.1) or
    /// AuthEnvelopedData (RFC 5083 §2.1) ContentInfo. Algorithms outside
    /// `ContentEncryptionAlgorithm` are refused with `.unsupportedAlgorithm`.
    static func contentEncryptionAlgorithm(of der: Data) throws -> ContentEncryptionAlgorithm {
        // ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER, content [0] EXPLICIT ANY }
        let contentInfo = try DecodedSequence(der)
        guard contentInfo.count == 2, let explicit = contentInfo.element(1, type: V_ASN1_OTHER) else {
            throw unreadable
        }
        // EnvelopedData ::= SEQUENCE { version, originatorInfo [0] OPTIONAL, recipientInfos SET,
        //   encryptedContentInfo EncryptedContentInfo, unprotectedAttrs [1] OPTIONAL }
        // AuthEnvelopedData has the same leading fields, then authEncryptedContentInfo.
        // The first SEQUENCE among the fields is therefore the EncryptedContentInfo.
        let envelope = try DecodedSequence(try explicitContent(explicit))
        let sequences = (0..<envelope.count).lazy.compactMap { envelope.element($0, type: V_ASN1_SEQUENCE) }
        guard let encryptedContentInfo = sequences.first else { throw unreadable }
        // EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, encryptedContent [0] OPTIONAL }
        let fields = try DecodedSequence(encryptedContentInfo)
        guard fields.count >= 2, let algorithmDER = fields.element(1, type: V_ASN1_SEQUENCE) else { throw unreadable }
        let algorithm: UnsafeMutablePointer<X509_ALGOR>? = algorithmDER.withUnsafeBytes { raw in
            var cursor = raw.bindMemory(to: UInt8.self).baseAddress
            return d2i_X509_ALGOR(nil, &cursor, raw.count)
        }
        guard let algorithm else { throw unreadable }
        defer { X509_ALGOR_free(algorithm) }
        let nid = OBJ_obj2nid(algorithm.pointee.algorithm)
        guard let known = ContentEncryptionAlgorithm(nid: nid) else {
            let name = nid == NID_undef
                ? CMSAttributes.objectIdentifier(algorithm.pointee.algorithm) : String(cString: OBJ_nid2sn(nid))
            throw CryptoError(.unsupportedAlgorithm,
                              "The message is encrypted with \(name); only AES-GCM and AES-CBC are accepted.")
        }
        return known
    }

    private static var unreadable: CryptoError {
        CryptoError(.malformedInput, "The envelope's content-encryption algorithm could not be read.")
    }

    /// The contents of a context-specific [0] constructed element (its header removed).
    private static func explicitContent(_ element: Data) throws -> Data {
        try element.withUnsafeBytes { raw -> Data in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { throw unreadable }
            var cursor: UnsafePointer<UInt8>? = base
            var length = 0
            var tag: Int32 = 0
            var tagClass: Int32 = 0
            let result = ASN1_get_object(&cursor, &length, &tag, &tagClass, raw.count)
            OpenSSL.clearErrors()
            guard result & 0x80 == 0, tagClass == V_ASN1_CONTEXT_SPECIFIC, tag == 0, let cursor else {
                throw unreadable
            }
            let offset = cursor - base
            // Indefinite length (0x21): the content runs to the end-of-contents octets.
            let available = raw.count - offset
            let count = result & 0x01 != 0 ? available : min(length, available)
            return Data(bytes: cursor, count: count)
        }
    }
}

/// A SEQUENCE decoded by OpenSSL into its elements, each kept as an ASN1_TYPE.
final class DecodedSequence {
    let stack: OpaquePointer

    init(_ der: Data, what: String = "envelope's content-encryption algorithm") throws {
        OpenSSL.clearErrors()
        let decoded: OpaquePointer? = der.withUnsafeBytes { raw in
            var cursor = raw.bindMemory(to: UInt8.self).baseAddress
            return d2i_ASN1_SEQUENCE_ANY(nil, &cursor, raw.count)
        }
        guard let decoded else {
            throw OpenSSL.error(.malformedInput, "The \(what) could not be read.")
        }
        stack = decoded
    }

    deinit { sem_cms_sk_ASN1_TYPE_pop_free(stack) }

    var count: Int { Int(sem_cms_sk_ASN1_TYPE_num(stack)) }

    /// Element `index` when it has `type`: for V_ASN1_SEQUENCE, V_ASN1_SET and V_ASN1_OTHER
    /// (any non-universal tag) the whole encoding; for string types such as
    /// V_ASN1_OCTET_STRING the contents only.
    func element(_ index: Int, type: Int32) -> Data? {
        guard index < count, let value = sem_cms_sk_ASN1_TYPE_value(stack, Int32(index)), value.pointee.type == type,
              let string = value.pointee.value.asn1_string else { return nil }
        return Data(bytes: ASN1_STRING_get0_data(string), count: Int(ASN1_STRING_length(string)))
    }
}
