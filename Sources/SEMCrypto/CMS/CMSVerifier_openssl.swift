// Verifying CMS SignedData (RFC 5652 §5.6): every SignerInfo's signature over its
// signed attributes and the content digest against messageDigest.
//
// Chain validation is deliberately NOT done here (CMS_NO_SIGNER_CERT_VERIFY): a separate
// path-validation component checks trust anchors, validity periods, key usage and
// revocation. A successful result proves only that the returned certificates' keys
// signed this content; the caller MUST validate each returned signer certificate before
// trusting the signature.
import COpenSSL
import CShims
public import Foundation

/// Verifies CMS SignedData.
public enum CMSVerifier {
    /// Verifies a DER SignedData and returns its content and signers.
    ///
    /// - Parameters:
    ///   - der: the ContentInfo.
    ///   - detachedContent: the content, for a detached signature; must be nil otherwise.
    ///   - certificates: certificates to look for signers in, besides those the message carries.
    /// - Throws: `.malformedInput` for bytes that are not a SignedData with id-data
    ///   content; `.badSignature` when a signature or digest does not verify;
    ///   `.certificateUnsuitable` when a signer's certificate is neither in the message
    ///   nor in `certificates`; `.unsupportedAlgorithm` for SHA-1 or keys below policy.
    public static func verify(_ der: Data, detachedContent: Data? = nil,
                              certificates: [Certificate] = []) throws -> CMSVerifiedContent {
        let info = try CMSContentInfo.parse(der, what: "signed message")
        try info.require([NID_pkcs7_signed], "signed message")
        // Signed receipts (id-ct-receipt) and other inner types are not messages.
        guard info.encapsulatedContentType == NID_pkcs7_data else {
            throw CryptoError(.malformedInput, "The signed message does not carry plain data content.")
        }
        // Version numbers lie outside the signature and OpenSSL does not check them; a
        // changed one must not pass as the signed original (RFC 5652 §5.1, §5.3).
        let consistent = der.withUnsafeBytes { bytes in
            sem_cms_signed_data_versions_consistent(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count)
        }
        guard consistent != 0 else {
            throw CryptoError(.badSignature, "The signed message's version numbers do not fit its content: "
                              + "the message was altered.")
        }
        return try verify(info, detachedContent: detachedContent, certificates: certificates)
    }

    /// Verifies an already parsed SignedData; shared with receipt creation.
    static func verify(_ info: CMSContentInfo, detachedContent: Data?,
                       certificates: [Certificate]) throws -> CMSVerifiedContent {
        let isDetached = CMS_is_detached(info.pointer) == 1
        if isDetached, detachedContent == nil {
            throw CryptoError(.invalidArgument,
                              "The signature is detached; the signed content must be supplied to verify it.")
        }
        if !isDetached, detachedContent != nil {
            throw CryptoError(.invalidArgument,
                              "The message carries its own content; supplying content as well is ambiguous.")
        }
        if let detachedContent { try CMS.checkSize(detachedContent.count, "signed content") }

        OpenSSL.clearErrors()
        let extra = try CertificateStack(certificates)
        let detached = try detachedContent.map { try MemoryBIO(input: $0) }
        let output = try MemoryBIO()
        // Signatures and digests only; see the file note on chain validation.
        let flags = UInt32(CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY)
        guard CMS_verify(info.pointer, extra.pointer, nil, detached?.pointer, output.pointer, flags) == 1 else {
            // Content that failed verification is never handed out.
            output.wipe()
            let failure = CMSFailure.drain()
            if failure.has(CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) {
                throw failure.error(.certificateUnsuitable, "The signer's certificate is neither in the message "
                                    + "nor among the certificates supplied.")
            }
            if failure.has(CMS_R_NO_SIGNERS) {
                throw failure.error(.malformedInput, "The signed message has no signers.")
            }
            throw failure.error(.badSignature,
                                "The signature does not verify: the message was altered or not signed by this key.")
        }

        let carried = info.certificates()
        let signers = try signerInfos(info, others: carried + certificates)
        return CMSVerifiedContent(content: detachedContent ?? output.readAllAndWipe(), isDetached: isDetached,
                                  signers: signers, certificates: carried)
    }

    /// The details of every SignerInfo of a SignedData that CMS_verify accepted (which
    /// attached each signer's certificate).
    static func signerInfos(_ info: CMSContentInfo, others: [Certificate]) throws -> [CMSSignerInfo] {
        guard let stack = CMS_get0_SignerInfos(info.pointer), sem_sk_CMS_SignerInfo_num(stack) > 0 else {
            throw CryptoError(.malformedInput, "The signed message has no signers.")
        }
        return try (0..<sem_sk_CMS_SignerInfo_num(stack)).map { index in
            guard let signerInfo = sem_sk_CMS_SignerInfo_value(stack, index) else {
                throw CryptoError(.internalFailure, "A signer could not be read.")
            }
            return try details(signerInfo, others: others)
        }
    }

    private static func details(_ signerInfo: OpaquePointer, others: [Certificate]) throws -> CMSSignerInfo {
        var key: OpaquePointer?
        var signer: OpaquePointer?
        var digestAlgorithm: UnsafeMutablePointer<X509_ALGOR>?
        var signatureAlgorithm: UnsafeMutablePointer<X509_ALGOR>?
        CMS_SignerInfo_get0_algs(signerInfo, &key, &signer, &digestAlgorithm, &signatureAlgorithm)
        guard let signer, let key else {
            throw CryptoError(.certificateUnsuitable, "A signer's certificate was not found.")
        }
        let certificate = Certificate.retaining(signer)
        try KeyAlgorithm.validate(key)
        let digest = try CMSAttributes.digestAlgorithm(digestAlgorithm)
        try checkSignatureAlgorithm(signatureAlgorithm, digestAlgorithm, key: key)
        let bound = try CMSAttributes.checkSigningCertificate(signerInfo, signer: certificate, others: others)
        return CMSSignerInfo(certificate: certificate, digest: digest,
                             signingTime: try CMSAttributes.signingTime(signerInfo),
                             capabilities: try CMSAttributes.capabilities(signerInfo),
                             receiptRequest: try CMSAttributes.receiptRequest(signerInfo),
                             hasSigningCertificateAttribute: bound)
    }

    /// The SignerInfo's signatureAlgorithm lies outside the signature, and OpenSSL verifies
    /// with the key and the digestAlgorithm field alone: a changed identifier (another
    /// digest, or an unknown OID) would still verify. RFC 5753 §2.1.1 and RFC 5754 §3 tie
    /// them together, so: a signature algorithm that names a digest must name the one
    /// used; one that names none must be the key's own algorithm (rsaEncryption,
    /// id-ecPublicKey); anything unknown is refused.
    private static func checkSignatureAlgorithm(_ signatureAlgorithm: UnsafeMutablePointer<X509_ALGOR>?,
                                                _ digestAlgorithm: UnsafeMutablePointer<X509_ALGOR>?,
                                                key: OpaquePointer) throws {
        var signatureObject: OpaquePointer?
        var digestObject: OpaquePointer?
        X509_ALGOR_get0(&signatureObject, nil, nil, signatureAlgorithm)
        X509_ALGOR_get0(&digestObject, nil, nil, digestAlgorithm)
        let signatureNID = OBJ_obj2nid(signatureObject)
        var namedDigest: Int32 = NID_undef
        var keyType: Int32 = NID_undef
        let fits: Bool
        if OBJ_find_sigid_algs(signatureNID, &namedDigest, &keyType) == 1 {
            fits = namedDigest == NID_undef || namedDigest == OBJ_obj2nid(digestObject)
        } else {
            fits = signatureNID != NID_undef && signatureNID == EVP_PKEY_get_base_id(key)
        }
        guard fits else {
            throw CryptoError(.badSignature, "The signer's signature algorithm does not fit its digest and key: "
                              + "the message was altered.")
        }
    }
}
