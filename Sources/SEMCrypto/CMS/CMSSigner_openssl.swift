// Creating CMS SignedData (RFC 5652 §5) for S/MIME 4.0 (RFC 8551 §2.5).
//
// Signed attributes: contentType, messageDigest and signingTime (OpenSSL adds them when
// the SignerInfo is signed), SMIMECapabilities in our order of preference,
// signingCertificateV2 (RFC 5035, added by CMS_add1_signer with CMS_CADES), and an ESS
// receiptRequest when asked for. The private key is used only through EVP_PKEY calls, so
// a key on a PKCS#11 token signs exactly like one in memory.
import COpenSSL
import CShims
public import Foundation

/// Signs content as CMS SignedData with one private key and its certificate.
public struct CMSSigner: Sendable {
    public let key: PrivateKey
    public let certificate: Certificate
    /// Further certificates to carry in the message (normally the issuing CA chain),
    /// so that recipients can build the signer's path.
    public let chain: [Certificate]

    /// Fails when the key does not belong to the certificate or the certificate may not
    /// sign mail (key type, keyUsage, extendedKeyUsage).
    public init(key: PrivateKey, certificate: Certificate, chain: [Certificate] = []) throws {
        guard key.matches(certificate.publicKey) else {
            throw CryptoError(.invalidArgument,
                              "The private key does not belong to the certificate of \(certificate.subject).")
        }
        try CMSCertificateCheck.requireSigning(certificate)
        self.key = key
        self.certificate = certificate
        self.chain = chain
    }

    /// Signs `content` and returns the DER ContentInfo holding the SignedData.
    ///
    /// With `options.detached` the content is left out and must be supplied again to
    /// verify. The content is signed as binary: no line-ending conversion takes place.
    public func sign(_ content: Data, options: CMSSigningOptions = CMSSigningOptions()) throws -> Data {
        try CMS.checkSize(content.count, "content to sign")
        OpenSSL.clearErrors()
        let extra = try CertificateStack(chain.filter { $0 != certificate })
        // CMS_PARTIAL: build the structure, add our attributes, then CMS_final.
        // CMS_NOSMIMECAP: OpenSSL's default capability list is replaced by ours.
        // CMS_CADES: adds signingCertificateV2 with the signing digest (RFC 5035 §3).
        var flags = UInt32(CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES)
        if options.detached { flags |= UInt32(CMS_DETACHED) }
        guard let created = CMS_sign(nil, nil, extra.pointer, nil, flags) else {
            throw OpenSSL.error(.internalFailure, "Could not start a signed message.")
        }
        let info = CMSContentInfo(owning: created)

        // The signer and its attributes.
        let signerInfo = CMS_add1_signer(info.pointer, certificate.pointer, key.pointer, options.digest.evp, flags)
        guard let signerInfo else {
            throw OpenSSL.error(.internalFailure,
                                "The key and certificate could not be set up to sign with \(options.digest.rawValue).")
        }
        try CMSAttributes.addCapabilities(options.capabilities, to: signerInfo)
        if let request = options.receiptRequest {
            try CMSAttributes.addReceiptRequest(request, to: signerInfo, signer: certificate)
        }

        // Digest the content and sign.
        let input = try MemoryBIO(input: content)
        guard CMS_final(info.pointer, input.pointer, nil, flags) == 1 else {
            throw OpenSSL.error(key.location == .memory ? .internalFailure : .tokenFailure,
                                "Signing the message failed.")
        }
        return try info.derEncoded()
    }
}
