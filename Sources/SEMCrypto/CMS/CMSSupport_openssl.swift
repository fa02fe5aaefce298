// Plumbing shared by the CMS operations: an owned CMS_ContentInfo, an owned stack of
// certificates, the error-queue classification that turns OpenSSL's CMS reason codes
// into `CryptoError` codes, and S/MIME (application/pkcs7-mime) armour.
import COpenSSL
import CShims
public import Foundation

/// An owned CMS_ContentInfo (RFC 5652 §3). Used within one call and never shared.
final class CMSContentInfo {
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) { self.pointer = pointer }

    deinit { CMS_ContentInfo_free(pointer) }

    /// Parses DER (or BER, as RFC 5652 allows). Trailing bytes are refused.
    static func parse(_ der: Data, what: String) throws -> CMSContentInfo {
        try CMS.checkSize(der.count, what)
        OpenSSL.clearErrors()
        let bytes = Array(der)
        var consumed = 0
        let parsed: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            let result = d2i_CMS_ContentInfo(nil, &cursor, buffer.count)
            if let cursor { consumed = cursor - base }
            return result
        }
        guard let parsed else { throw OpenSSL.error(.malformedInput, "The \(what) is not a valid CMS structure.") }
        let info = CMSContentInfo(owning: parsed)
        guard consumed == bytes.count else {
            throw CryptoError(.malformedInput, "The \(what) is followed by \(bytes.count - consumed) unexpected bytes.")
        }
        return info
    }

    /// The outer content type (RFC 5652 §3 `contentType`) as a NID.
    var contentType: Int32 { OBJ_obj2nid(CMS_get0_type(pointer)) }

    /// The encapsulated content type of a SignedData (RFC 5652 §5.2 `eContentType`).
    var encapsulatedContentType: Int32 { OBJ_obj2nid(CMS_get0_eContentType(pointer)) }

    /// Throws `.malformedInput` unless the outer content type is one of `types`.
    func require(_ types: Set<Int32>, _ what: String) throws {
        guard types.contains(contentType) else {
            let name = contentType == NID_undef ? "unknown content" : String(cString: OBJ_nid2ln(contentType))
            throw CryptoError(.malformedInput, "The \(what) holds \(name), not the expected CMS type.")
        }
    }

    func derEncoded() throws -> Data {
        OpenSSL.clearErrors()
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_CMS_ContentInfo(pointer, &out)
        guard length > 0, let out else { throw OpenSSL.error(.internalFailure, "Could not encode the CMS structure.") }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    /// Every certificate carried in the structure, in order.
    func certificates() -> [Certificate] {
        guard let stack = CMS_get1_certs(pointer) else { return [] }
        defer { sem_sk_X509_pop_free(stack) }
        return (0..<sem_sk_X509_num(stack)).compactMap { index in
            sem_sk_X509_value(stack, index).map { Certificate.retaining($0) }
        }
    }
}

/// An owned STACK_OF(X509) whose entries hold their own references.
final class CertificateStack {
    let pointer: OpaquePointer

    init(_ certificates: [Certificate]) throws {
        pointer = try OpenSSL.unwrap(sem_sk_X509_new_null(), .internalFailure, "Could not allocate a certificate list.")
        for certificate in certificates {
            X509_up_ref(certificate.pointer)
            guard sem_sk_X509_push(pointer, certificate.pointer) > 0 else {
                X509_free(certificate.pointer)
                throw OpenSSL.error(.internalFailure, "Could not fill a certificate list.")
            }
        }
    }

    deinit { sem_sk_X509_pop_free(pointer) }
}

extension MemoryBIO {
    /// A memory BIO answers a read past its end with "retry later" (-1) by default; for
    /// input that is complete, report end of data (0) instead, as decoders such as
    /// base64 need to see it to flush their last block (BIO_set_mem_eof_return).
    convenience init(input bytes: some DataProtocol) throws {
        try self.init(bytes)
        _ = BIO_ctrl(pointer, BIO_C_SET_BUF_MEM_EOF_RETURN, 0, nil)
    }

    /// Overwrites whatever the buffer holds, for output that must not survive a failure.
    func wipe() {
        var base: UnsafeMutablePointer<CChar>?
        let length = sem_BIO_get_mem_data(pointer, &base)
        if length > 0, let base { OPENSSL_cleanse(base, length) }
    }
}

/// The drained error queue of a failed CMS call, with the CMS reason codes it held.
struct CMSFailure {
    let reasons: Set<Int32>
    let detail: String

    /// Empties the thread's error queue.
    static func drain() -> CMSFailure {
        var reasons = Set<Int32>()
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            // OpenSSL 3 packs errors as library << 23 | reason, the top bit marking
            // system errors (err.h, ERR_PACK).
            let isSystem = code & (1 << 31) != 0
            if !isSystem, Int32((code >> 23) & 0xFF) == ERR_LIB_CMS {
                reasons.insert(Int32(code & 0x7FFFFF))
            }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
            messages.append(String(decoding: text, as: UTF8.self))
        }
        return CMSFailure(reasons: reasons, detail: messages.joined(separator: "; "))
    }

    func has(_ reason: Int32) -> Bool { reasons.contains(reason) }

    func error(_ code: CryptoError.Code, _ reason: String, file: String = #fileID, line: Int = #line) -> CryptoError {
        CryptoError(code, reason, detail: detail, file: file, line: line)
    }
}

extension CMS {
    /// Wraps a CMS structure in S/MIME armour: the `application/pkcs7-mime` entity of
    /// RFC 8551 §3.2 with the smime-type that fits the content, base64 body.
    ///
    /// Detached signatures need `multipart/signed`, which the message layer builds;
    /// they are refused here.
    public static func smimeEncoded(_ der: Data) throws -> String {
        let info = try CMSContentInfo.parse(der, what: "CMS message")
        if info.contentType == NID_pkcs7_signed, CMS_is_detached(info.pointer) == 1 {
            throw CryptoError(.invalidArgument, "A detached signature cannot be armoured as application/pkcs7-mime.")
        }
        OpenSSL.clearErrors()
        let out = try MemoryBIO()
        try OpenSSL.check(SMIME_write_CMS(out.pointer, info.pointer, nil, Int32(CMS_BINARY)), .internalFailure,
                          "Could not write the S/MIME entity.")
        return String(decoding: out.readAll(), as: UTF8.self)
    }

    /// Reads an `application/pkcs7-mime` entity (as `smimeEncoded` writes it) back to DER.
    public static func der(fromSMIME text: String) throws -> Data {
        try checkSize(text.utf8.count, "S/MIME entity")
        OpenSSL.clearErrors()
        let input = try MemoryBIO(input: Data(text.utf8))
        var detachedContent: OpaquePointer?
        guard let parsed = SMIME_read_CMS(input.pointer, &detachedContent) else {
            throw OpenSSL.error(.malformedInput, "The text is not an S/MIME application/pkcs7-mime entity.")
        }
        let info = CMSContentInfo(owning: parsed)
        if let detachedContent {
            BIO_free_all(detachedContent)
            throw CryptoError(.invalidArgument,
                              "The entity is multipart/signed; only application/pkcs7-mime is read here.")
        }
        return try info.derEncoded()
    }
}
