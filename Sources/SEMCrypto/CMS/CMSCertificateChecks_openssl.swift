// Cheap checks that a certificate may be used for a CMS operation at all: key type and
// size, keyUsage (RFC 5280 §4.2.1.3) and extendedKeyUsage (§4.2.1.12). These are not
// path validation: trust, validity and revocation are checked by the caller.
import COpenSSL
import CShims

/// How a recipient's key wraps the content-encryption key.
enum CMSKeyManagement {
    /// RSA key transport (ktri), sent with RSAES-OAEP (RFC 8017 §7.1, RFC 4055 §4).
    case keyTransport
    /// ECDH key agreement (kari, RFC 5753 §3.1).
    case keyAgreement
}

enum CMSCertificateCheck {
    /// Whether a certificate's keyUsage allows digital signatures, as RFC 8550 §4.4.2
    /// requires of an S/MIME signer (digitalSignature or nonRepudiation).
    static func requireSigning(_ certificate: Certificate) throws {
        try requireKeyPolicy(certificate)
        let usage = X509_get_key_usage(certificate.pointer)
        guard usage & UInt32(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION) != 0 else {
            throw CryptoError(.certificateUnsuitable,
                              "The certificate of \(certificate.subject) does not allow digital signatures (keyUsage).")
        }
        try requireEmailProtection(certificate)
    }

    /// How a recipient certificate's key can receive a content-encryption key, after
    /// checking that its keyUsage allows it (keyEncipherment for RSA, keyAgreement for EC).
    static func keyManagement(for certificate: Certificate) throws -> CMSKeyManagement {
        try requireKeyPolicy(certificate)
        let usage = X509_get_key_usage(certificate.pointer)
        let management: CMSKeyManagement
        switch EVP_PKEY_get_base_id(X509_get0_pubkey(certificate.pointer)) {
        case EVP_PKEY_RSA:
            guard usage & UInt32(KU_KEY_ENCIPHERMENT) != 0 else {
                throw CryptoError(.certificateUnsuitable, "The certificate of \(certificate.subject) "
                                  + "does not allow key encipherment (keyUsage).")
            }
            management = .keyTransport
        case EVP_PKEY_EC:
            guard usage & UInt32(KU_KEY_AGREEMENT) != 0 else {
                throw CryptoError(.certificateUnsuitable,
                                  "The certificate of \(certificate.subject) does not allow key agreement (keyUsage).")
            }
            management = .keyAgreement
        default:
            throw CryptoError(.certificateUnsuitable, "The certificate of \(certificate.subject) "
                              + "holds a key that cannot receive encrypted mail.")
        }
        try requireEmailProtection(certificate)
        return management
    }

    /// The key must be one the system accepts (RSA of 2048 bits or more, P-256, P-384).
    private static func requireKeyPolicy(_ certificate: Certificate) throws {
        guard let key = X509_get0_pubkey(certificate.pointer) else {
            throw OpenSSL.error(.certificateUnsuitable,
                                "The certificate of \(certificate.subject) has no usable public key.")
        }
        do {
            try KeyAlgorithm.validate(key)
        } catch let error as CryptoError {
            throw CryptoError(.certificateUnsuitable, "The certificate of \(certificate.subject): \(error.reason)")
        }
    }

    /// When extendedKeyUsage is present it must include emailProtection or anyExtendedKeyUsage.
    private static func requireEmailProtection(_ certificate: Certificate) throws {
        let extended = X509_get_extended_key_usage(certificate.pointer)
        guard extended == UInt32.max || extended & UInt32(XKU_SMIME | XKU_ANYEKU) != 0 else {
            throw CryptoError(.certificateUnsuitable, "The certificate of \(certificate.subject) "
                              + "is not meant for e-mail protection (extendedKeyUsage).")
        }
    }

    /// The e-mail addresses a certificate names (subject emailAddress and rfc822Name
    /// subject alternative names), in certificate order.
    static func emailAddresses(of certificate: Certificate) -> [String] {
        guard let stack = X509_get1_email(certificate.pointer) else { return [] }
        defer { X509_email_free(stack) }
        return (0..<sem_sk_OPENSSL_STRING_num(stack)).compactMap { index in
            sem_sk_OPENSSL_STRING_value(stack, index).map { String(cString: $0) }
        }
    }
}
