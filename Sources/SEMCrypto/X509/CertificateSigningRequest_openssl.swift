// PKCS#10 certificate signing requests (RFC 2986): building, parsing, reading the
// requested subject alternative names, and checking proof of possession.
//
// Building only uses the EVP_PKEY through X509_REQ_sign, so it works the same for a
// key in memory and for a key on a PKCS#11 token.
import COpenSSL
import CShims
public import Foundation

/// A PKCS#10 certification request.
///
/// ```
/// CertificationRequest ::= SEQUENCE {
///      certificationRequestInfo CertificationRequestInfo,
///      signatureAlgorithm       AlgorithmIdentifier{{ SignatureAlgorithms }},
///      signature                BIT STRING }
/// ```
/// `@unchecked Sendable`: the X509_REQ is never modified after it is built or parsed,
/// and every accessor only reads it (decoded extensions are fresh copies).
public final class CertificateSigningRequest: @unchecked Sendable, CustomStringConvertible {
    let pointer: OpaquePointer

    /// Upper bound on the DER size of a request accepted for parsing.
    public static let maximumEncodedSize = 64 * 1024

    init(owning pointer: OpaquePointer) { self.pointer = pointer }

    deinit { X509_REQ_free(pointer) }

    /// Builds and signs a request.
    ///
    /// - Parameters:
    ///   - subject: the requested subject name.
    ///   - key: the key whose public half is certified; it signs the request (proof of
    ///     possession). SHA-384 is used for P-384 keys, SHA-256 otherwise.
    ///   - emailAddresses: rfc822Name entries for a requested subjectAltName.
    ///   - dnsNames: dNSName entries for a requested subjectAltName.
    public convenience init(subject: DistinguishedName, key: PrivateKey, emailAddresses: [String] = [],
                            dnsNames: [String] = []) throws {
        OpenSSL.clearErrors()
        let request = try OpenSSL.unwrap(X509_REQ_new(), .internalFailure, "Could not allocate a request.")
        do {
            // Version 1 is encoded as 0 (RFC 2986 §4.1).
            try OpenSSL.check(X509_REQ_set_version(request, 0), .internalFailure, "Could not set the version.")
            let name = try subject.makeX509Name()
            defer { X509_NAME_free(name) }
            try OpenSSL.check(X509_REQ_set_subject_name(request, name), .internalFailure, "Could not set the subject.")
            try OpenSSL.check(X509_REQ_set_pubkey(request, key.pointer), .internalFailure,
                              "Could not place the public key in the request.")
            let emails = try X509Input.bounded(emailAddresses, "e-mail addresses")
            let dns = try X509Input.bounded(dnsNames, "DNS names")
            if !emails.isEmpty || !dns.isEmpty {
                let extensions = try ExtensionList()
                try extensions.addSubjectAltName(emails: emails, dnsNames: dns, critical: subject.attributes.isEmpty)
                try OpenSSL.check(X509_REQ_add_extensions(request, extensions.stack), .internalFailure,
                                  "Could not add the requested extensions.")
            }
            let digest: DigestAlgorithm = key.algorithm == .ecP384 ? .sha384 : .sha256
            OpenSSL.clearErrors()
            guard X509_REQ_sign(request, key.pointer, digest.evp) > 0 else {
                throw OpenSSL.error(key.location == .memory ? .internalFailure : .tokenFailure,
                                    "The key could not sign the certificate request.")
            }
        } catch {
            X509_REQ_free(request)
            throw error
        }
        self.init(owning: request)
    }

    /// Parses DER. Trailing bytes after the request are refused.
    public convenience init(derEncoded der: Data) throws {
        guard der.count <= Self.maximumEncodedSize else {
            throw CryptoError(.malformedInput,
                              "The certificate request is larger than \(Self.maximumEncodedSize) bytes.")
        }
        OpenSSL.clearErrors()
        let bytes = Array(der)
        var consumed = 0
        let request: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let result = d2i_X509_REQ(nil, &cursor, buffer.count)
            if let cursor, let base = buffer.baseAddress { consumed = cursor - base }
            return result
        }
        guard let request else {
            throw OpenSSL.error(.malformedInput, "The data is not a DER PKCS#10 certificate request.")
        }
        guard consumed == bytes.count else {
            X509_REQ_free(request)
            throw CryptoError(.malformedInput, "The certificate request is followed by unexpected bytes.")
        }
        self.init(owning: request)
    }

    /// Parses the first `CERTIFICATE REQUEST` block of a PEM text (RFC 7468 §7).
    public convenience init(pemEncoded pem: String) throws {
        try self.init(derEncoded: try PEM.decode(pem, label: "CERTIFICATE REQUEST"))
    }

    public var derEncoded: Data {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_REQ(pointer, &out)
        guard length > 0, let out else { return Data() }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    public var pemEncoded: String { PEM.encode(derEncoded, label: "CERTIFICATE REQUEST") }

    public var subject: DistinguishedName { DistinguishedName(name: X509_REQ_get_subject_name(pointer)) }

    /// The public key to be certified.
    public var publicKey: PublicKey {
        get throws {
            OpenSSL.clearErrors()
            return PublicKey(owning: try OpenSSL.unwrap(X509_REQ_get_pubkey(pointer), .malformedInput,
                                                        "The request's public key cannot be decoded."))
        }
    }

    /// rfc822Name entries of the requested subjectAltName.
    public var emailAddresses: [String] { requestedNames.emails }

    /// dNSName entries of the requested subjectAltName.
    public var dnsNames: [String] { requestedNames.dnsNames }

    /// Whether the request is signed by the private key matching its public key, which
    /// proves that the requester holds that key (RFC 2986 §3).
    public var isSignatureValid: Bool {
        defer { OpenSSL.clearErrors() }
        guard let key = X509_REQ_get0_pubkey(pointer) else { return false }
        return X509_REQ_verify(pointer, key) == 1
    }

    public var description: String { "CertificateSigningRequest(subject: \(subject))" }

    private var requestedNames: X509Names.Read {
        guard let extensions = X509_REQ_get_extensions(pointer) else { return X509Names.Read() }
        defer { sem_sk_X509_EXTENSION_pop_free(extensions) }
        guard let raw = X509V3_get_d2i(extensions, NID_subject_alt_name, nil, nil) else { return X509Names.Read() }
        let names = OpaquePointer(raw)
        defer { sem_GENERAL_NAMES_free(names) }
        return X509Names.read(names)
    }
}
