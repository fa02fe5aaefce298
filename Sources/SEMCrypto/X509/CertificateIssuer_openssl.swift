// Issuing X.509 v3 certificates (RFC 5280) by profile, from a CA certificate and its
// key, or self-signed for a domain root.
//
// Refusals (each a thrown CryptoError): an issuer that is not a CA or may not sign
// certificates (certificate-unsuitable), a CA profile below a CA whose path length is
// used up (certificate-unsuitable), validity outside the issuer's or empty
// (invalid-argument), a TLS server without DNS names or an S/MIME certificate without
// an e-mail address (invalid-argument), a subject key the system does not accept
// (unsupported-algorithm), a request whose signature does not verify (bad-signature).
import COpenSSL
import CShims
public import Foundation

/// A CA that signs certificates: its certificate and its private key (in memory or on
/// a token; only the EVP_PKEY is used, through X509_sign).
public struct CertificateIssuer: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey

    /// Pairs a CA certificate with its key.
    ///
    /// - Throws: `invalid-argument` when the key does not match the certificate,
    ///   `certificate-unsuitable` when the certificate may not sign certificates.
    public init(certificate: Certificate, key: PrivateKey) throws {
        guard key.matches(certificate.publicKey) else {
            throw CryptoError(.invalidArgument, "The private key does not belong to the CA certificate.")
        }
        guard certificate.basicConstraints.isCA else {
            throw CryptoError(.certificateUnsuitable, "\(certificate.subject) is not a CA certificate.")
        }
        // RFC 5280 §4.2.1.3: keyCertSign must be set to verify certificate signatures.
        if let usage = certificate.keyUsage, !usage.contains(.keyCertSign) {
            throw CryptoError(.certificateUnsuitable,
                              "\(certificate.subject) may not sign certificates (no keyCertSign).")
        }
        self.certificate = certificate
        self.key = key
    }

    /// Makes a self-signed root (profile `rootCA`) and returns it as an issuer.
    public static func selfSignedRoot(subject: DistinguishedName, key: PrivateKey, notBefore: Date, notAfter: Date,
                                      policies: [String] = [], serialNumber: Data? = nil) throws -> CertificateIssuer {
        let parameters = CertificateParameters(subject: subject, publicKey: key.publicKey, notBefore: notBefore,
                                               notAfter: notAfter, policies: policies, serialNumber: serialNumber)
        let root = try build(.rootCA, parameters, issuerName: nil, issuerKeyID: nil, signer: key)
        return try CertificateIssuer(certificate: root, key: key)
    }

    /// Issues a certificate of `profile` for `parameters`.
    ///
    /// `rootCA` is refused here: roots are made with `selfSignedRoot`.
    public func issue(_ profile: CertificateProfile, _ parameters: CertificateParameters) throws -> Certificate {
        guard profile != .rootCA else {
            throw CryptoError(.invalidArgument, "A root certificate is self-signed; use selfSignedRoot.")
        }
        // RFC 5280 §4.2.1.9: pathLenConstraint 0 allows no further CA below.
        if profile.isCA, let limit = certificate.basicConstraints.pathLength, limit < 1 {
            throw CryptoError(.certificateUnsuitable,
                              "\(certificate.subject) may not certify further CAs (path length 0).")
        }
        let notBefore = parameters.notBefore.wholeSeconds, notAfter = parameters.notAfter.wholeSeconds
        guard notBefore >= certificate.notBefore, notAfter <= certificate.notAfter else {
            throw CryptoError(.invalidArgument, "The validity \(notBefore)...\(notAfter) lies outside the issuer's "
                                + "\(certificate.notBefore)...\(certificate.notAfter).")
        }
        let issuerKeyID = certificate.subjectKeyIdentifier ?? Self.keyIdentifier(certificate.pointer)
        return try Self.build(profile, parameters, issuerName: certificate, issuerKeyID: issuerKeyID, signer: key)
    }

    /// Issues a certificate of `profile` for a certification request, after checking
    /// the request's signature. Subject, key and names come from the request.
    public func issue(_ profile: CertificateProfile, request: CertificateSigningRequest, notBefore: Date,
                      notAfter: Date, policies: [String] = [], crlDistributionPoint: String? = nil,
                      ocspResponderURL: String? = nil) throws -> Certificate {
        var parameters = try CertificateParameters(request: request, notBefore: notBefore, notAfter: notAfter)
        parameters.policies = policies
        parameters.crlDistributionPoint = crlDistributionPoint
        parameters.ocspResponderURL = ocspResponderURL
        return try issue(profile, parameters)
    }

    // MARK: Building

    /// Builds and signs one certificate. `issuerName` nil means self-signed.
    private static func build(_ profile: CertificateProfile, _ parameters: CertificateParameters,
                              issuerName: Certificate?, issuerKeyID: Data?, signer: PrivateKey) throws -> Certificate {
        try KeyAlgorithm.validate(parameters.publicKey.pointer)
        try checkNames(profile, parameters)
        let notBefore = parameters.notBefore.wholeSeconds, notAfter = parameters.notAfter.wholeSeconds
        guard notBefore < notAfter else {
            throw CryptoError(.invalidArgument, "notBefore must come before notAfter.")
        }
        OpenSSL.clearErrors()
        let x509 = try OpenSSL.unwrap(X509_new(), .internalFailure, "Could not allocate a certificate.")
        defer { X509_free(x509) }

        // Version 3 is encoded as 2 (RFC 5280 §4.1.2.1).
        try OpenSSL.check(X509_set_version(x509, 2), .internalFailure, "Could not set the version.")
        let serial = try CertificateSerial.make(parameters.serialNumber)
        defer { ASN1_INTEGER_free(serial) }
        try OpenSSL.check(X509_set_serialNumber(x509, serial), .internalFailure, "Could not set the serial number.")
        let subject = try parameters.subject.makeX509Name()
        defer { X509_NAME_free(subject) }
        try OpenSSL.check(X509_set_subject_name(x509, subject), .internalFailure, "Could not set the subject.")
        let issuer = issuerName.map { X509_get_subject_name($0.pointer) } ?? subject
        try OpenSSL.check(X509_set_issuer_name(x509, issuer), .internalFailure, "Could not set the issuer.")
        let start = try ASN1Time.make(notBefore), end = try ASN1Time.make(notAfter)
        defer { ASN1_TIME_free(start); ASN1_TIME_free(end) }
        try OpenSSL.check(X509_set1_notBefore(x509, start), .internalFailure, "Could not set notBefore.")
        try OpenSSL.check(X509_set1_notAfter(x509, end), .internalFailure, "Could not set notAfter.")
        try OpenSSL.check(X509_set_pubkey(x509, parameters.publicKey.pointer), .internalFailure,
                          "Could not set the public key.")

        let ownKeyID = keyIdentifier(x509)
        let extensions = try profileExtensions(profile, parameters, subjectKeyID: ownKeyID,
                                               authorityKeyID: issuerKeyID ?? ownKeyID)
        try extensions.apply(to: x509)

        OpenSSL.clearErrors()
        guard X509_sign(x509, signer.pointer, EVP_sha256()) > 0 else {
            throw OpenSSL.error(signer.location == .memory ? .internalFailure : .tokenFailure,
                                "The CA key could not sign the certificate.")
        }
        // Re-parse the encoding so the returned object is exactly what others will read.
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(x509, &out)
        guard length > 0, let out else { throw OpenSSL.error(.internalFailure, "Could not encode the certificate.") }
        defer { sem_OPENSSL_free(out) }
        return try Certificate(derEncoded: Data(bytes: out, count: Int(length)))
    }

    private static func checkNames(_ profile: CertificateProfile, _ parameters: CertificateParameters) throws {
        if profile.requiresEmail && parameters.emailAddresses.isEmpty {
            throw CryptoError(.invalidArgument, "A \(profile.rawValue) certificate needs an e-mail address.")
        }
        if profile.requiresDNSName && parameters.dnsNames.isEmpty {
            throw CryptoError(.invalidArgument, "A \(profile.rawValue) certificate needs at least one DNS name.")
        }
        if parameters.subject.attributes.isEmpty && parameters.emailAddresses.isEmpty && parameters.dnsNames.isEmpty {
            throw CryptoError(.invalidArgument, "A certificate needs a subject name or a subject alternative name.")
        }
    }

    private static func profileExtensions(_ profile: CertificateProfile, _ parameters: CertificateParameters,
                                          subjectKeyID: Data, authorityKeyID: Data) throws -> ExtensionList {
        let list = try ExtensionList()
        try list.addBasicConstraints(profile.basicConstraints)
        try list.addKeyUsage(profile.keyUsage(rsaKey: parameters.publicKey.algorithm.isRSA))
        if !profile.extendedKeyUsage.isEmpty { try list.addExtendedKeyUsage(profile.extendedKeyUsage) }
        try list.addSubjectKeyIdentifier(subjectKeyID)
        try list.addAuthorityKeyIdentifier(authorityKeyID)
        let emails = try X509Input.bounded(parameters.emailAddresses, "e-mail addresses")
        let dnsNames = try X509Input.bounded(parameters.dnsNames, "DNS names")
        if !emails.isEmpty || !dnsNames.isEmpty {
            // RFC 5280 §4.2.1.6: critical when the subject field is empty.
            try list.addSubjectAltName(emails: emails, dnsNames: dnsNames,
                                       critical: parameters.subject.attributes.isEmpty)
        }
        let policies = try X509Input.bounded(parameters.policies, "policies")
        if !policies.isEmpty { try list.addPolicies(policies) }
        if let url = parameters.crlDistributionPoint { try list.addCRLDistributionPoints([url]) }
        if let url = parameters.ocspResponderURL { try list.addOCSPResponders([url]) }
        if profile == .ocspResponder { try list.addOCSPNoCheck() }
        return list
    }

    /// The key identifier of RFC 5280 §4.2.1.2 method (1): SHA-1 over the subjectPublicKey
    /// BIT STRING. SHA-1 serves only as an identifier here, not as a security function.
    static func keyIdentifier(_ x509: OpaquePointer) -> Data {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_pubkey_digest(x509, EVP_sha1(), &digest, &length) == 1 else {
            preconditionFailure("OpenSSL could not hash a public key: \(OpenSSL.drainErrors())")
        }
        return Data(digest.prefix(Int(length)))
    }
}

/// Serial numbers for certificates (RFC 5280 §4.1.2.2: positive, at most 20 octets).
enum CertificateSerial {
    /// The given serial, checked, or 16 fresh random octets whose top bit is clear (so
    /// the INTEGER is positive) and whose next bit is set (so it always has 16 octets):
    /// 126 random bits.
    static func make(_ explicit: Data?) throws -> UnsafeMutablePointer<ASN1_STRING> {
        if let explicit {
            let magnitude = explicit.drop(while: { $0 == 0 })
            guard !magnitude.isEmpty else { throw CryptoError(.invalidArgument, "A serial number must be positive.") }
            guard magnitude.count < 20 || (magnitude.count == 20 && magnitude.first! < 0x80) else {
                throw CryptoError(.invalidArgument, "A serial number may have at most 20 octets (RFC 5280 §4.1.2.2).")
            }
            return try X509Names.makeInteger(Data(magnitude))
        }
        var random = SecureRandom.bytes(16)
        random[random.startIndex] = (random[random.startIndex] & 0x7F) | 0x40
        return try X509Names.makeInteger(random)
    }
}

extension Date {
    /// This date rounded down to a whole second, as certificates store it.
    var wholeSeconds: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
