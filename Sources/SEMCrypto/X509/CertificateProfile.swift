// Certificate profiles: what each kind of certificate in a domain carries, and the
// parameters a caller supplies when asking for one. The issuer applies them in
// CertificateIssuer_openssl.swift.
public import Foundation

/// The kinds of certificate the system issues, each with fixed extensions.
///
/// Every profile also gets a subject key identifier, an authority key identifier, a
/// random positive serial number, an SHA-256 signature and version 3. Key usage is
/// always critical (RFC 5280 §4.2.1.3 "SHOULD"), basic constraints always critical.
public enum CertificateProfile: String, Sendable, Hashable, CaseIterable {
    /// Self-signed domain root: CA without a path length limit, keyCertSign + cRLSign.
    case rootCA
    /// The CA below the root that signs end-entity certificates: CA, pathlen 0,
    /// keyCertSign + cRLSign.
    case issuingCA
    /// A user's signing certificate: digitalSignature + nonRepudiation, purposes
    /// emailProtection and clientAuth (the same token key authenticates the user's TLS
    /// connection to the mail server). Needs an e-mail address.
    case userSigning
    /// A user's encryption certificate: keyEncipherment for RSA keys, keyAgreement for EC
    /// keys (ECDH, RFC 5753), purpose emailProtection. Needs an e-mail address.
    case userEncryption
    /// A TLS server: digitalSignature (+ keyEncipherment for RSA), purpose serverAuth.
    /// Needs at least one DNS name.
    case tlsServer
    /// A TLS client: digitalSignature, clientAuth.
    case tlsClient
    /// A domain's server (mail, CA, PDP): serves TLS and also authenticates as a client
    /// to other servers (SMTP delivery with mutual TLS, directory and attachment
    /// look-ups), and the key that signs the server's CMS statements (transfer assertions,
    /// delivery notifications), which receivers tie to the registered TLS certificate.
    /// digitalSignature (+ keyEncipherment for RSA), serverAuth, clientAuth and
    /// emailProtection. Needs at least one DNS name.
    case domainServer
    /// A delegated OCSP responder (RFC 6960 §4.2.2.2): digitalSignature, OCSPSigning,
    /// and id-pkix-ocsp-nocheck so clients do not ask about the responder itself.
    case ocspResponder
    /// The federation registry's signer of the trust list: digitalSignature +
    /// nonRepudiation, not a CA, purpose emailProtection.
    ///
    /// emailProtection was chosen over "no purpose": the trust list is CMS SignedData,
    /// and CMS verifiers check the S/MIME signing purpose by default; without an EKU the
    /// key would also be acceptable for TLS. What makes this key the registry's is that
    /// relying parties pin its certificate, not the purpose. No e-mail address needed.
    case registrySigner

    /// Whether certificates of this profile are CAs.
    public var isCA: Bool { self == .rootCA || self == .issuingCA }

    var basicConstraints: BasicConstraints {
        switch self {
        case .rootCA: BasicConstraints(isCA: true)
        case .issuingCA: BasicConstraints(isCA: true, pathLength: 0)
        default: BasicConstraints(isCA: false)
        }
    }

    /// The key usage for a subject key of the given kind.
    func keyUsage(rsaKey: Bool) -> KeyUsage {
        switch self {
        case .rootCA, .issuingCA: [.keyCertSign, .cRLSign]
        case .userSigning, .registrySigner: [.digitalSignature, .nonRepudiation]
        case .userEncryption: rsaKey ? .keyEncipherment : .keyAgreement
        case .tlsServer, .domainServer: rsaKey ? [.digitalSignature, .keyEncipherment] : .digitalSignature
        case .tlsClient, .ocspResponder: .digitalSignature
        }
    }

    var extendedKeyUsage: [ExtendedKeyUsage] {
        switch self {
        case .rootCA, .issuingCA: []
        case .userSigning: [.emailProtection, .clientAuth]
        case .userEncryption, .registrySigner: [.emailProtection]
        case .tlsServer: [.serverAuth]
        case .tlsClient: [.clientAuth]
        case .domainServer: [.serverAuth, .clientAuth, .emailProtection]
        case .ocspResponder: [.ocspSigning]
        }
    }

    /// S/MIME certificates must name the mailbox (RFC 8550 §3).
    var requiresEmail: Bool { self == .userSigning || self == .userEncryption }

    /// A TLS server certificate is matched by DNS name (RFC 6125 §6.4).
    var requiresDNSName: Bool { self == .tlsServer || self == .domainServer }
}

/// What the caller decides for one certificate; the profile decides the rest.
public struct CertificateParameters: Sendable {
    public var subject: DistinguishedName
    public var publicKey: PublicKey
    public var notBefore: Date
    public var notAfter: Date
    /// rfc822Name entries of the subject alternative name.
    public var emailAddresses: [String]
    /// dNSName entries of the subject alternative name.
    public var dnsNames: [String]
    /// Dotted policy OIDs for certificatePolicies.
    public var policies: [String]
    /// A URL for cRLDistributionPoints.
    public var crlDistributionPoint: String?
    /// A URL for the OCSP access method of authorityInfoAccess.
    public var ocspResponderURL: String?
    /// An explicit serial (big-endian magnitude, 1 to 20 octets encoded); nil for a
    /// random one.
    public var serialNumber: Data?

    public init(subject: DistinguishedName, publicKey: PublicKey, notBefore: Date, notAfter: Date,
                emailAddresses: [String] = [], dnsNames: [String] = [], policies: [String] = [],
                crlDistributionPoint: String? = nil, ocspResponderURL: String? = nil, serialNumber: Data? = nil) {
        self.subject = subject
        self.publicKey = publicKey
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.emailAddresses = emailAddresses
        self.dnsNames = dnsNames
        self.policies = policies
        self.crlDistributionPoint = crlDistributionPoint
        self.ocspResponderURL = ocspResponderURL
        self.serialNumber = serialNumber
    }

    /// Takes subject, public key and requested names from a certification request after
    /// checking its signature (proof of possession, RFC 2986 §3). The caller may still
    /// change any field, for example to drop a name it has not verified.
    ///
    /// - Throws: `bad-signature` when the request is not signed by its own key.
    public init(request: CertificateSigningRequest, notBefore: Date, notAfter: Date) throws {
        guard request.isSignatureValid else {
            throw CryptoError(.badSignature, "The certificate request is not signed by the key it contains.")
        }
        self.init(subject: request.subject, publicKey: try request.publicKey, notBefore: notBefore,
                  notAfter: notAfter, emailAddresses: request.emailAddresses, dnsNames: request.dnsNames)
    }
}
