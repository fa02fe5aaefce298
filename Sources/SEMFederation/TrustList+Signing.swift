// Signing and verifying the trust list: CMS SignedData (RFC 5652 §5) with the canonical
// JSON as attached content, made by the SMI signer (profile registrySigner), DER.
//
// Why pinning and no chain: relying parties are configured with the SMI signer's
// certificate itself as the one federation anchor. Requiring the signer to EQUAL it
// means no CA, no path building and no revocation source is needed to trust the list,
// and a CA that misissued a look-alike certificate gains nothing. The cost is that a new
// SMI key needs a new pinned certificate at every relying party.
public import Foundation
public import SEMCrypto

extension TrustList {
    /// The canonical JSON of the list, the bytes the SMI signs.
    public func canonicalJSON() throws -> Data { try CanonicalJSON.encode(self) }

    /// Signs the list as the SMI: DER CMS SignedData with the canonical JSON attached.
    public func sign(with signer: CertifiedKey) throws -> Data {
        try validate()
        let content = try canonicalJSON()
        guard content.count <= Self.maximumBytes else {
            throw FederationError(.trustListMalformed, "The trust list is \(content.count) bytes; at most \(Self.maximumBytes) are allowed.")
        }
        do {
            return try CMSSigner(key: signer.key, certificate: signer.certificate).sign(content)
        } catch let error as CryptoError {
            throw FederationError(.trustListSignature, "The trust list could not be signed: \(error.reason)")
        }
    }

    /// Verifies a signed list against the pinned SMI certificate and parses it.
    ///
    /// - Throws: `.trustListSignature` when the CMS does not verify, has other than one
    ///   signer, or the signer is not the pinned certificate (or that certificate is not
    ///   valid at `time`); `.trustListMalformed` when the content is not a canonical,
    ///   well-formed trust list.
    /// - Returns: the list and the exact signed bytes.
    public static func verify(_ der: Data, pinnedSigner: Certificate, at time: Date) throws
        -> (list: TrustList, content: Data) {
        func signatureFault(_ text: String) -> FederationError {
            FederationError(.trustListSignature, "The trust list's signature is not acceptable: \(text).")
        }
        guard der.count <= maximumBytes + 64 << 10 else { throw signatureFault("the signed list is too large") }
        let verified: CMSVerifiedContent
        do {
            verified = try CMSVerifier.verify(der, certificates: [pinnedSigner])
        } catch let error as CryptoError {
            throw signatureFault(error.reason)
        }
        guard verified.signers.count == 1 else { throw signatureFault("it has \(verified.signers.count) signers, not one") }
        guard verified.signer.certificate == pinnedSigner else {
            throw signatureFault("it was signed by \(verified.signer.certificate.subject), not the pinned SMI signer")
        }
        // The certificates field is outside the signature (RFC 5652 §5.1); a list carries
        // only the signer's own certificate, so any other bytes there are refused too.
        guard verified.certificates.allSatisfy({ $0 == pinnedSigner }) else {
            throw signatureFault("it carries certificates other than the pinned SMI certificate")
        }
        guard pinnedSigner.isValid(at: time) else { throw signatureFault("the pinned SMI certificate is not valid now") }
        let list: TrustList
        do {
            list = try CanonicalJSON.decodeCanonical(TrustList.self, from: verified.content)
        } catch let error as FederationError {
            throw FederationError(.trustListMalformed, "The signed trust list is malformed: \(error.reason)")
        }
        return (list, verified.content)
    }

    /// Checks the signatures of every agreement the list carries against the listed roots.
    /// Throws `.trustListMalformed` naming the agreement whose signature fails.
    public func verifyAgreements(at time: Date, revocationChecker: any RevocationChecker = NoRevocationEvidence()) throws {
        let verification = AgreementVerification(roots: roots, revocationChecker: revocationChecker)
        do {
            for agreement in agreements { try agreement.verifySignatures(verification, at: time) }
            for group in multilateralAgreements { try group.verifySignatures(verification, at: time) }
        } catch let error as FederationError {
            throw FederationError(.trustListMalformed, "The trust list carries an agreement that does not verify: \(error.reason)")
        }
    }
}
