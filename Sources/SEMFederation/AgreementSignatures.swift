// Administrator signatures on agreements: CMS SignedData (RFC 5652 §5), detached, over
// the canonical JSON of the terms. A signature counts for a domain only when the
// signer's certificate chains to that domain's root (from the trust list) and names an
// address of that domain.
//
// Shortcoming: revocation of administrator certificates is checked only as far as the
// supplied RevocationChecker knows; the default knows nothing and validation is then
// soft-fail (the verdict records "unknown"). Callers with CRLs or OCSP pass a checker.
public import Foundation
public import SEMCrypto

/// A revocation checker that has no evidence; with soft-fail validation it lets paths
/// through while recording that revocation state is unknown.
public struct NoRevocationEvidence: RevocationChecker {
    public init() {}

    public func status(of certificate: Certificate, issuer: Certificate, at time: Date) -> RevocationStatus {
        .unknown("no revocation evidence was supplied")
    }
}

/// How agreement signatures are checked: the roots of the domains and revocation settings.
public struct AgreementVerification: Sendable {
    /// Each domain's root CA certificate, by lower-case domain name.
    public var roots: [String: Certificate]
    public var revocationChecker: any RevocationChecker
    public var revocationMode: RevocationMode

    public init(roots: [String: Certificate], revocationChecker: any RevocationChecker = NoRevocationEvidence(),
                revocationMode: RevocationMode = .softFail) {
        self.roots = roots
        self.revocationChecker = revocationChecker
        self.revocationMode = revocationMode
    }

    /// Verifies `signature` over `content` as made by an administrator of `domain`, and
    /// returns the signer's certificate. Throws `FederationError(.agreementSignature)`.
    @discardableResult
    public func verify(_ signature: Data, over content: Data, by domain: String, at time: Date,
                       expectedAddress: String? = nil) throws -> Certificate {
        func fault(_ text: String) -> FederationError {
            FederationError(.agreementSignature, "The signature of \(domain) \(text).")
        }
        guard let root = roots[domain] else { throw fault("cannot be checked: the trust list has no root for the domain") }
        let verified: CMSVerifiedContent
        do {
            verified = try CMSVerifier.verify(signature, detachedContent: content)
        } catch let error as CryptoError {
            throw fault("does not verify (\(error.reason))")
        }
        guard verified.signers.count == 1 else { throw fault("has \(verified.signers.count) signers; exactly one is expected") }
        let signer = verified.signer.certificate
        let validator = PathValidator(trustAnchors: [root], revocationChecker: revocationChecker)
        let verdict = validator.validate(signer, intermediates: verified.certificates,
                                         policy: ValidationPolicy(purpose: .emailSigning, time: time,
                                                                  revocationMode: revocationMode))
        if let failure = verdict.failure { throw fault("was made with a certificate that does not chain to its root: \(failure)") }
        let addresses = signer.emailAddresses.map { $0.lowercased() }
        guard addresses.contains(where: { $0.hasSuffix("@" + domain) }) else {
            throw fault("was made with a certificate that names no address of the domain")
        }
        if let expectedAddress, !addresses.contains(expectedAddress.lowercased()) {
            throw fault("was made by someone other than \(expectedAddress)")
        }
        return signer
    }
}

enum AgreementSigning {
    /// A detached CMS signature over `content`.
    static func sign(_ content: Data, with signer: CMSSigner) throws -> Data {
        do {
            return try signer.sign(content, options: CMSSigningOptions(detached: true))
        } catch let error as CryptoError {
            throw FederationError(.agreementSignature, "The agreement could not be signed: \(error.reason)")
        }
    }
}
