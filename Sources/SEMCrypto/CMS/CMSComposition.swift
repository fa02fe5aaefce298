// Sign-then-encrypt and decrypt-then-verify, the S/MIME 4.0 composition (RFC 8551
// §3.7): the SignedData is enveloped, so the signature (and who signed) is hidden from
// everyone but the recipients.
//
// At this layer the envelope's content is the DER SignedData itself. The message layer
// wraps the signed part in MIME (application/pkcs7-mime; smime-type=signed-data) and
// carries the protected headers (To, From, Subject) inside it, which is also what stops
// a recipient from re-encrypting the signed part to someone else unnoticed.
public import Foundation

extension CMSSigner {
    /// Signs `content` (attached), then encrypts the SignedData for `recipients`.
    ///
    /// Include the sender's own encryption certificate in `recipients` to be able to
    /// read the sent message later.
    public func signAndEncrypt(_ content: Data, for recipients: [Certificate],
                               encryption: ContentEncryptionAlgorithm = .aes256GCM,
                               options: CMSSigningOptions = CMSSigningOptions()) throws -> Data {
        guard !options.detached else {
            throw CryptoError(.invalidArgument,
                              "Sign-then-encrypt carries the content inside the signature; detached is not possible.")
        }
        var signed = try sign(content, options: options)
        defer { signed.wipe() }
        return try CMSEnvelope.encrypt(signed, for: recipients, algorithm: encryption)
    }
}

extension CMSEnvelope {
    /// Decrypts an envelope with `key` and `certificate`, then verifies the SignedData
    /// inside it. The returned signer certificates still need path validation.
    ///
    /// - Parameter certificates: further certificates to find the signer in.
    /// - Throws: every error of `decrypt` and of `CMSVerifier.verify`.
    public static func decryptAndVerify(_ der: Data, key: PrivateKey, certificate: Certificate,
                                        certificates: [Certificate] = []) throws -> CMSOpenedMessage {
        // The inner SignedData holds the plaintext: keep the only copy and wipe it after use.
        var (inner, algorithm) = try decryptContent(der, key: key, certificate: certificate)
        defer { inner.wipe() }
        let verified = try CMSVerifier.verify(inner, certificates: certificates)
        return CMSOpenedMessage(encryption: algorithm, verified: verified)
    }
}
