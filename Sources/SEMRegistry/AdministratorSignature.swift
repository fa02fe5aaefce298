// Statements a domain's administrator signs for the registry: a registration and the
// termination of an agreement. Each is a CMS SignedData (RFC 5652 §5) with the canonical
// JSON attached and exactly one signer, whose certificate must name admin@<domain> and
// chain to the domain's root.
//
// Revocation is soft-fail: the registry has no CRL or OCSP source for a domain's
// administrators (the domain's CA serves them only to its own domain's servers).
public import Foundation
public import SEMCrypto
import SEMFederation

/// Opening and checking administrator-signed statements.
public enum AdministratorSignature {
    /// Bound on one signed statement.
    public static let maximumBytes = 512 << 10

    /// Verifies the CMS signature and returns the content with the signer.
    /// - Throws: `RegistryError(code)` naming `what` when the signature does not verify,
    ///   the statement is too large, or it has other than one signer.
    static func open(_ der: Data, what: String, code: RegistryError.Code) throws -> CMSVerifiedContent {
        func refuse(_ text: String) -> RegistryError { RegistryError(code, "The \(what) \(text).") }
        guard der.count <= maximumBytes else { throw refuse("is larger than \(maximumBytes) bytes") }
        let verified: CMSVerifiedContent
        do { verified = try CMSVerifier.verify(der) } catch let error as CryptoError {
            throw refuse("has a signature that does not verify (\(error.reason))")
        }
        guard verified.signers.count == 1 else { throw refuse("has \(verified.signers.count) signers; one is required") }
        return verified
    }

    /// Checks that the signer of `verified` is admin@`domain` with a certificate chaining to
    /// `root` at `time`.
    static func checkSigner(of verified: CMSVerifiedContent, domain: String, root: Certificate, at time: Date,
                            what: String, code: RegistryError.Code) throws {
        func refuse(_ text: String) -> RegistryError { RegistryError(code, "The \(what) \(text).") }
        let signer = verified.signer.certificate
        let validator = PathValidator(trustAnchors: [root], revocationChecker: NoRevocationEvidence())
        let verdict = validator.validate(signer, intermediates: verified.certificates,
                                         policy: ValidationPolicy(purpose: .emailSigning, time: time, revocationMode: .softFail))
        if let failure = verdict.failure {
            throw refuse("is signed with a certificate that does not chain to the root of \(domain): \(failure)")
        }
        let administrator = "admin@" + domain
        guard signer.emailAddresses.map({ $0.lowercased() }).contains(administrator) else {
            throw refuse("is not signed by \(administrator)")
        }
    }
}

/// A domain administrator's signed request to end one of its agreements.
public struct TerminationRequest: Sendable, Equatable, Codable {
    public var agreementId: String
    /// The party asking; it must be one of the agreement's domains.
    public var domain: String
    public var requestedAt: Date

    public init(agreementId: String, domain: String, requestedAt: Date = Date()) {
        self.agreementId = agreementId
        self.domain = domain.lowercased()
        self.requestedAt = requestedAt
    }

    /// Signs the request as the domain's administrator: attached CMS SignedData, DER.
    public func signed(by administrator: CMSSigner) throws -> Data {
        try administrator.sign(try CanonicalJSON.encode(self))
    }

    /// Checks a signed request against the domain's registered root.
    public static func verify(_ der: Data, root: Certificate, at time: Date) throws -> TerminationRequest {
        let what = "termination request"
        let verified = try AdministratorSignature.open(der, what: what, code: .invalidTransition)
        let request: TerminationRequest
        do { request = try CanonicalJSON.decodeCanonical(TerminationRequest.self, from: verified.content) } catch let error as FederationError {
            throw RegistryError(.invalidTransition, "The \(what) is not canonical JSON: \(error.reason)")
        }
        try AdministratorSignature.checkSigner(of: verified, domain: request.domain, root: root, at: time, what: what,
                                               code: .invalidTransition)
        return request
    }
}
