// Certificates-only SignedData ("certs-only", RFC 5652 §5.2 with no signers): the form
// in which EST returns issued certificates and CA chains (RFC 7030 §4.1.3, §4.2.3).
import COpenSSL
import CShims
public import Foundation

public enum CMSCertificateBundle {
    /// A degenerate SignedData carrying `certificates`, with no signer and no content.
    public static func encode(_ certificates: [Certificate]) throws -> Data {
        guard !certificates.isEmpty else {
            throw CryptoError(.invalidArgument, "A certificate bundle needs at least one certificate.")
        }
        let stack = try CertificateStack(certificates)
        OpenSSL.clearErrors()
        // With no signer certificate and key, CMS_sign builds a certificates-only
        // structure; CMS_PARTIAL|CMS_DETACHED leaves the encapsulated content absent.
        guard let built = CMS_sign(nil, nil, stack.pointer, nil, UInt32(CMS_PARTIAL | CMS_DETACHED)) else {
            throw OpenSSL.error(.internalFailure, "Could not build a certificate bundle.")
        }
        return try CMSContentInfo(owning: built).derEncoded()
    }

    /// The certificates of a certs-only (or any) SignedData, in encoding order (a SET OF,
    /// so not necessarily the order they were given in). Signatures, if
    /// any, are not checked here: the caller validates the certificates it gets.
    public static func decode(_ der: Data) throws -> [Certificate] {
        let info = try CMSContentInfo.parse(der, what: "certificate bundle")
        try info.require([NID_pkcs7_signed], "certificate bundle")
        let certificates = info.certificates()
        guard !certificates.isEmpty else {
            throw CryptoError(.malformedInput, "The certificate bundle holds no certificates.")
        }
        return certificates
    }
}
