// Encrypting and decrypting CMS envelopes: AuthEnvelopedData with AES-GCM (RFC 5083,
// RFC 5084) or EnvelopedData with AES-CBC (RFC 5652 §6, RFC 3565).
//
// Key management per recipient (RFC 8551 §2.3):
// - RSA: key transport with RSAES-OAEP, SHA-256 for OAEP and MGF1 (RFC 8017 §7.1,
//   RFC 4055 §4.1); PKCS#1 v1.5 is never produced.
// - EC: ephemeral-static ECDH key agreement with the X9.63 KDF over SHA-256 and AES key
//   wrap (RFC 5753 §3.1, dhSinglePass-stdDH-sha256kdf-scheme); OpenSSL's default KDF
//   digest, SHA-1, is replaced.
//
// Decryption uses the private key only through EVP_PKEY calls, so token keys work. The
// certificate selects the RecipientInfo. OpenSSL's countermeasure against Bleichenbacher
// style attacks stays on: when an RSA-wrapped key fails to decrypt, OpenSSL continues
// with a random key, so the failure shows up as a content failure (GCM: authentication
// failure; CBC: usually a padding failure, rarely garbage that only the inner signature
// check catches, which is why S/MIME signs inside the envelope).
import COpenSSL
import CShims
public import Foundation

/// Encrypts content for recipients' certificates and decrypts it with a private key.
public enum CMSEnvelope {
    /// Encrypts `content` for every certificate in `recipients` and returns the DER
    /// ContentInfo (AuthEnvelopedData for GCM algorithms, EnvelopedData for CBC).
    ///
    /// - Throws: `.certificateUnsuitable` when a certificate's key or keyUsage does not
    ///   allow receiving a key (RSA needs keyEncipherment, EC needs keyAgreement).
    public static func encrypt(_ content: Data, for recipients: [Certificate],
                               algorithm: ContentEncryptionAlgorithm = .aes256GCM) throws -> Data {
        guard !recipients.isEmpty, recipients.count <= CMS.maximumRecipients else {
            throw CryptoError(.invalidArgument, "A message needs between 1 and \(CMS.maximumRecipients) recipients.")
        }
        try CMS.checkSize(content.count, "content to encrypt")
        var unique: [Certificate] = []
        for recipient in recipients where !unique.contains(recipient) { unique.append(recipient) }
        let management = try unique.map { try CMSCertificateCheck.keyManagement(for: $0) }

        OpenSSL.clearErrors()
        let none = try CertificateStack([])
        // CMS_PARTIAL: recipients are added one by one so that their parameters can be set.
        let flags = UInt32(CMS_PARTIAL | CMS_BINARY)
        guard let created = CMS_encrypt(none.pointer, nil, algorithm.cipher, flags) else {
            throw OpenSSL.error(.internalFailure, "Could not start an envelope with \(algorithm).")
        }
        let info = CMSContentInfo(owning: created)
        for (recipient, kind) in zip(unique, management) {
            try addRecipient(recipient, kind, to: info)
        }
        let input = try MemoryBIO(input: content)
        try OpenSSL.check(CMS_final(info.pointer, input.pointer, nil, flags), .internalFailure,
                          "Encrypting the message failed.")
        return try info.derEncoded()
    }

    private static func addRecipient(_ recipient: Certificate, _ kind: CMSKeyManagement,
                                     to info: CMSContentInfo) throws {
        // CMS_KEY_PARAM: create the key context now, so that OAEP can be configured.
        guard let recipientInfo = CMS_add1_recipient_cert(info.pointer, recipient.pointer, UInt32(CMS_KEY_PARAM)),
              let context = CMS_RecipientInfo_get0_pkey_ctx(recipientInfo) else {
            throw OpenSSL.error(.internalFailure, "Could not add \(recipient.subject) as a recipient.")
        }
        switch kind {
        case .keyTransport:
            guard EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) > 0,
                  EVP_PKEY_CTX_set_rsa_oaep_md(context, EVP_sha256()) > 0,
                  EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()) > 0 else {
                throw OpenSSL.error(.internalFailure,
                                    "Could not select RSA-OAEP with SHA-256 for \(recipient.subject).")
            }
        case .keyAgreement:
            guard EVP_PKEY_CTX_set_ecdh_kdf_md(context, EVP_sha256()) > 0 else {
                throw OpenSSL.error(.internalFailure,
                                    "Could not select the SHA-256 key derivation for \(recipient.subject).")
            }
        }
    }

    /// Decrypts a DER EnvelopedData or AuthEnvelopedData with `key`, whose `certificate`
    /// identifies the RecipientInfo meant for it.
    ///
    /// - Throws: `.malformedInput` for bytes that are not an envelope;
    ///   `.unsupportedAlgorithm` for ciphers other than AES-GCM/CBC;
    ///   `.noMatchingRecipient` when the message is not encrypted for `certificate`;
    ///   `.authenticationFailed` when AES-GCM rejects the content or the key for this
    ///   recipient cannot be recovered. No plaintext is returned after any failure.
    public static func decrypt(_ der: Data, key: PrivateKey, certificate: Certificate) throws -> CMSDecryptedContent {
        let (content, algorithm) = try decryptContent(der, key: key, certificate: certificate)
        return CMSDecryptedContent(content: content, algorithm: algorithm)
    }

    static func decryptContent(_ der: Data, key: PrivateKey,
                               certificate: Certificate) throws -> (Data, ContentEncryptionAlgorithm) {
        let info = try CMSContentInfo.parse(der, what: "encrypted message")
        try info.require([NID_pkcs7_enveloped, NID_id_smime_ct_authEnvelopedData], "encrypted message")
        let algorithm = try CMSEnvelopeInspection.contentEncryptionAlgorithm(of: der)
        guard algorithm.isAuthenticated == (info.contentType == NID_id_smime_ct_authEnvelopedData) else {
            throw CryptoError(.malformedInput, "The envelope type does not match its cipher \(algorithm).")
        }
        guard key.matches(certificate.publicKey) else {
            throw CryptoError(.invalidArgument,
                              "The private key does not belong to the certificate of \(certificate.subject).")
        }

        // OpenSSL 3.0 reports a key-agreement recipient that is absent with an empty error
        // queue, so the RecipientInfos are searched here first.
        guard isRecipient(certificate, of: info) else {
            throw CryptoError(.noMatchingRecipient,
                              "The message is not encrypted for the certificate of \(certificate.subject).")
        }

        // Recover the content-encryption key from our RecipientInfo.
        OpenSSL.clearErrors()
        guard CMS_decrypt_set1_pkey_and_peer(info.pointer, key.pointer, certificate.pointer, nil) == 1 else {
            let failure = CMSFailure.drain()
            if failure.has(CMS_R_NO_MATCHING_RECIPIENT) {
                throw failure.error(.noMatchingRecipient,
                                    "The message is not encrypted for the certificate of \(certificate.subject).")
            }
            throw failure.error(.authenticationFailed, "The message key for this recipient could not be recovered; "
                                + "the message may have been altered.")
        }

        // Decrypt the content. OpenSSL may have written plaintext before a GCM tag check
        // fails, so on failure the output is wiped and never returned.
        let output = try MemoryBIO()
        guard CMS_decrypt(info.pointer, nil, nil, nil, output.pointer, UInt32(CMS_BINARY)) == 1 else {
            output.wipe()
            let failure = CMSFailure.drain()
            if algorithm.isAuthenticated {
                throw failure.error(.authenticationFailed, "The encrypted content failed its integrity check; "
                                    + "it was altered or is not for this key.")
            }
            throw failure.error(.malformedInput,
                                "The encrypted content could not be decrypted; it was damaged or is not for this key.")
        }
        return (output.readAllAndWipe(), algorithm)
    }

    /// Whether a key-transport or key-agreement RecipientInfo names `certificate` (by
    /// issuer and serial number or subject key identifier, RFC 5652 §6.2).
    private static func isRecipient(_ certificate: Certificate, of info: CMSContentInfo) -> Bool {
        defer { OpenSSL.clearErrors() }
        guard let recipients = CMS_get0_RecipientInfos(info.pointer) else { return false }
        for index in 0..<sem_sk_CMS_RecipientInfo_num(recipients) {
            guard let recipient = sem_sk_CMS_RecipientInfo_value(recipients, index) else { continue }
            switch CMS_RecipientInfo_type(recipient) {
            case CMS_RECIPINFO_TRANS:
                if CMS_RecipientInfo_ktri_cert_cmp(recipient, certificate.pointer) == 0 { return true }
            case CMS_RECIPINFO_AGREE:
                guard let keys = CMS_RecipientInfo_kari_get0_reks(recipient) else { continue }
                for position in 0..<sem_cms_sk_CMS_RecipientEncryptedKey_num(keys) {
                    if let key = sem_cms_sk_CMS_RecipientEncryptedKey_value(keys, position),
                       CMS_RecipientEncryptedKey_cert_cmp(key, certificate.pointer) == 0 {
                        return true
                    }
                }
            default:
                continue
            }
        }
        return false
    }
}
