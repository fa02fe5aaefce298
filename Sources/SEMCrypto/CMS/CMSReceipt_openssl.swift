// ESS signed receipts (RFC 2634 §2.4, §2.8): a recipient signs a Receipt that binds the
// original SignedData's signature value, content type and signedContentIdentifier,
// plus a msgSigDigest attribute over the original's signed attributes. The originator
// checks that binding against the message it sent.
//
// As with message verification, signer certificates are not path-validated here; the
// caller must validate the receipt signer's certificate.
import COpenSSL
import CShims
public import Foundation

/// Creates and verifies RFC 2634 signed receipts.
public enum CMSReceipt {
    /// Verifies a received SignedData that carries a receipt request and returns a signed
    /// receipt for it, signed by `signer` (the recipient).
    ///
    /// RFC 2634 §2.3 asks the recipient to check that it is among the requested
    /// recipients (`ReceiptRequest.asks`) and that policy allows a receipt; that decision
    /// is the caller's. The original is verified here, because a receipt may only be
    /// returned for a message whose signature verified (§2.4 step 1).
    ///
    /// - Throws: any error of `CMSVerifier.verify`; `.invalidArgument` when the message
    ///   does not ask for a receipt.
    public static func create(for original: Data, detachedContent: Data? = nil, certificates: [Certificate] = [],
                              signer: CMSSigner) throws -> Data {
        let info = try CMSContentInfo.parse(original, what: "signed message")
        try info.require([NID_pkcs7_signed], "signed message")
        // §2.3: receipts are never requested for, or returned for, receipts.
        guard info.encapsulatedContentType == NID_pkcs7_data else {
            throw CryptoError(.invalidArgument, "Only a signed message with data content can be receipted.")
        }
        let verified = try CMSVerifier.verify(info, detachedContent: detachedContent, certificates: certificates)
        guard let index = verified.signers.firstIndex(where: { $0.receiptRequest != nil }),
              let stack = CMS_get0_SignerInfos(info.pointer),
              let requesting = sem_sk_CMS_SignerInfo_value(stack, Int32(index)) else {
            throw CryptoError(.invalidArgument, "The message does not ask for a signed receipt.")
        }

        OpenSSL.clearErrors()
        let chain = try CertificateStack(signer.chain.filter { $0 != signer.certificate })
        // Same attribute policy as messages: our own capabilities list (none here) and
        // signingCertificateV2 (CMS_CADES).
        let flags = UInt32(CMS_NOSMIMECAP | CMS_CADES | CMS_BINARY)
        let receipt = CMS_sign_receipt(requesting, signer.certificate.pointer, signer.key.pointer, chain.pointer, flags)
        guard let receipt else {
            throw OpenSSL.error(signer.key.location == .memory ? .internalFailure : .tokenFailure,
                                "Signing the receipt failed.")
        }
        return try CMSContentInfo(owning: receipt).derEncoded()
    }

    /// Verifies a signed receipt against the original SignedData it answers (normally the
    /// message this side sent and kept).
    ///
    /// - Throws: `.malformedInput` when `receipt` is not a signed receipt;
    ///   `.badSignature` when the receipt's signature fails or the receipt belongs to a
    ///   different message; `.certificateUnsuitable` when the receipt signer's
    ///   certificate is neither in the receipt nor in `certificates`.
    public static func verify(_ receipt: Data, original: Data,
                              certificates: [Certificate] = []) throws -> CMSVerifiedReceipt {
        let receiptInfo = try CMSContentInfo.parse(receipt, what: "receipt")
        try receiptInfo.require([NID_pkcs7_signed], "receipt")
        guard receiptInfo.encapsulatedContentType == NID_id_smime_ct_receipt else {
            throw CryptoError(.malformedInput, "The signed data is not a receipt (RFC 2634 id-ct-receipt).")
        }
        let originalInfo = try CMSContentInfo.parse(original, what: "original message")
        try originalInfo.require([NID_pkcs7_signed], "original message")

        OpenSSL.clearErrors()
        let extra = try CertificateStack(certificates)
        let flags = UInt32(CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY)
        guard CMS_verify_receipt(receiptInfo.pointer, originalInfo.pointer, extra.pointer, nil, flags) == 1 else {
            throw classify(CMSFailure.drain())
        }
        let signers = try CMSVerifier.signerInfos(receiptInfo, others: receiptInfo.certificates() + certificates)
        return CMSVerifiedReceipt(signer: signers[0], signedContentIdentifier: try contentIdentifier(receiptInfo))
    }

    private static func classify(_ failure: CMSFailure) -> CryptoError {
        let mismatch: [Int32] = [CMS_R_NO_MATCHING_SIGNATURE, CMS_R_MSGSIGDIGEST_VERIFICATION_FAILURE,
                                 CMS_R_MSGSIGDIGEST_WRONG_LENGTH, CMS_R_CONTENTIDENTIFIER_MISMATCH,
                                 CMS_R_CONTENT_TYPE_MISMATCH, CMS_R_NO_RECEIPT_REQUEST]
        let malformed: [Int32] = [CMS_R_NO_MSGSIGDIGEST, CMS_R_RECEIPT_DECODE_ERROR, CMS_R_NEED_ONE_SIGNER,
                                  CMS_R_NO_CONTENT]
        if failure.has(CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) {
            return failure.error(.certificateUnsuitable, "The receipt signer's certificate is neither in the receipt "
                                 + "nor among the certificates supplied.")
        }
        if mismatch.contains(where: failure.has) {
            return failure.error(.badSignature, "The receipt does not belong to this message.")
        }
        if malformed.contains(where: failure.has) {
            return failure.error(.malformedInput, "The receipt is incomplete or malformed.")
        }
        return failure.error(.badSignature, "The receipt's signature does not verify.")
    }

    /// The signedContentIdentifier inside a receipt's content.
    ///
    /// ```
    /// Receipt ::= SEQUENCE { version ESSVersion, contentType ContentType,
    ///   signedContentIdentifier ContentIdentifier, originatorSignatureValue OCTET STRING }
    /// ```
    private static func contentIdentifier(_ info: CMSContentInfo) throws -> Data {
        guard let content = CMS_get0_content(info.pointer)?.pointee else {
            throw CryptoError(.malformedInput, "The receipt has no content.")
        }
        let der = Data(bytes: ASN1_STRING_get0_data(content), count: Int(ASN1_STRING_length(content)))
        let fields = try DecodedSequence(der, what: "receipt content")
        guard fields.count == 4, let identifier = fields.element(2, type: V_ASN1_OCTET_STRING) else {
            throw CryptoError(.malformedInput, "The receipt content is not an RFC 2634 Receipt.")
        }
        return identifier
    }
}
