import Foundation
import SEMCrypto
import Testing

/// A test PKI with fresh CRLs from both CAs, so that revocation is known by default.
private struct ValidationFixture {
    let pki: X509TestPKI
    let signing: (certificate: Certificate, key: PrivateKey)
    let encryption: (certificate: Certificate, key: PrivateKey)

    init() throws {
        pki = try X509TestPKI()
        signing = try pki.leaf(.userSigning)
        encryption = try pki.leaf(.userEncryption)
    }

    func crl(from issuer: CertificateIssuer, revoking revoked: [RevokedEntry] = [],
             thisUpdate: Date? = nil, nextUpdate: Date? = nil) throws -> CertificateRevocationList {
        try CertificateRevocationList.issue(issuer: issuer.certificate, key: issuer.key,
                                            thisUpdate: thisUpdate ?? pki.now - 60,
                                            nextUpdate: nextUpdate ?? pki.now + 86400, crlNumber: 1, revoked: revoked)
    }

    func validator(revoking revoked: [RevokedEntry] = [], ocsp: [OCSPResponse] = [], withCRLs: Bool = true,
                   anchors: [Certificate]? = nil) throws -> PathValidator {
        let crls = withCRLs ? [try crl(from: pki.root), try crl(from: pki.issuing, revoking: revoked)] : []
        return PathValidator(trustAnchors: anchors ?? [pki.root.certificate],
                             revocationChecker: RevocationEvidence(crls: crls, ocspResponses: ocsp))
    }

    var intermediates: [Certificate] { [pki.issuing.certificate] }
}

@Suite("Path validation")
struct PathValidatorTests {
    @Test("a good chain is valid, with the anchor last and revocation known for every certificate")
    func validChain() throws {
        let fixture = try ValidationFixture()
        let verdict = try fixture.validator().validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                                                       policy: ValidationPolicy(purpose: .emailSigning))
        let chain = try verdict.get()
        #expect(chain.certificates.count == 3)
        #expect(chain.anchor == fixture.pki.root.certificate)
        #expect(chain.revocation == [.good(source: .crl), .good(source: .crl)])
    }

    @Test("an EC encryption certificate is valid for e-mail encryption but not for signing")
    func encryptionUsage() throws {
        let fixture = try ValidationFixture()
        let validator = try fixture.validator()
        #expect(validator.validate(fixture.encryption.certificate, intermediates: fixture.intermediates,
                                   policy: ValidationPolicy(purpose: .emailEncryption)).isValid)
        let failure = validator.validate(fixture.encryption.certificate, intermediates: fixture.intermediates,
                                         policy: ValidationPolicy(purpose: .emailSigning)).failure
        #expect(failure?.code == "wrong-usage")
    }

    @Test("a TLS server certificate is refused as a TLS client certificate")
    func tlsUsage() throws {
        let fixture = try ValidationFixture()
        let server = try fixture.pki.leaf(.tlsServer, dnsNames: ["mail.example.test"])
        let validator = try fixture.validator()
        #expect(validator.validate(server.certificate, intermediates: fixture.intermediates,
                                   policy: ValidationPolicy(purpose: .tlsServer)).isValid)
        #expect(validator.validate(server.certificate, intermediates: fixture.intermediates,
                                   policy: ValidationPolicy(purpose: .tlsClient)).failure?.code == "wrong-usage")
    }

    @Test("expired and not-yet-valid certificates are refused with their dates")
    func validityWindow() throws {
        let fixture = try ValidationFixture()
        let validator = try fixture.validator()
        let leaf = fixture.signing.certificate
        let late = validator.validate(leaf, intermediates: fixture.intermediates,
                                      policy: ValidationPolicy(purpose: .emailSigning, time: leaf.notAfter + 86400))
        #expect(late.failure?.reason == .expired(notAfter: leaf.notAfter))
        let early = validator.validate(leaf, intermediates: fixture.intermediates,
                                       policy: ValidationPolicy(purpose: .emailSigning, time: leaf.notBefore - 86400))
        #expect(early.failure?.code == "certificate-not-yet-valid")
        #expect(early.failure?.description.contains("not valid before") == true)
    }

    @Test("a chain to another root is refused as unknown issuer")
    func unknownIssuer() throws {
        let fixture = try ValidationFixture()
        let stranger = try X509TestPKI(rootName: "Stranger Root")
        let verdict = try fixture.validator(anchors: [stranger.root.certificate])
            .validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                      policy: ValidationPolicy(purpose: .emailSigning))
        #expect(verdict.failure?.reason == .unknownIssuer)
        // Without the intermediate the path cannot be built either.
        let missing = try fixture.validator().validate(fixture.signing.certificate,
                                                       policy: ValidationPolicy(purpose: .emailSigning))
        #expect(missing.failure?.reason == .unknownIssuer)
    }

    @Test("an intermediate the validator already knows completes a path the peer sent without it")
    func knownIntermediates() throws {
        let fixture = try ValidationFixture()
        let evidence = RevocationEvidence(crls: [try fixture.crl(from: fixture.pki.root),
                                                 try fixture.crl(from: fixture.pki.issuing)])
        let validator = PathValidator(trustAnchors: [fixture.pki.root.certificate],
                                      knownIntermediates: fixture.intermediates, revocationChecker: evidence)
        let chain = try validator.validate(fixture.signing.certificate,
                                           policy: ValidationPolicy(purpose: .emailSigning)).get()
        #expect(chain.certificates.count == 3)
    }

    @Test("a certificate whose signature was altered is refused as bad signature")
    func badSignature() throws {
        let fixture = try ValidationFixture()
        let der = fixture.signing.certificate.derEncoded
        let tampered = try Certificate(derEncoded: der.flippingByte(at: der.count - 3))
        let verdict = try fixture.validator().validate(tampered, intermediates: fixture.intermediates,
                                                       policy: ValidationPolicy(purpose: .emailSigning))
        #expect(verdict.failure?.reason == .badSignature)
    }

    @Test("a certificate on the CRL is refused with its revocation date and reason")
    func revokedByCRL() throws {
        let fixture = try ValidationFixture()
        let date = (fixture.pki.now - 30).roundedDownToSecond
        let entry = RevokedEntry(serialNumber: fixture.signing.certificate.serialNumber, revocationDate: date,
                                 reason: .keyCompromise)
        let verdict = try fixture.validator(revoking: [entry])
            .validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                      policy: ValidationPolicy(purpose: .emailSigning))
        #expect(verdict.failure?.reason == .revoked(date: date, reason: .keyCompromise))
        #expect(verdict.failure?.depth == 0)
        #expect(verdict.failure?.description.contains("keyCompromise") == true
                || verdict.failure?.description.contains("key compromise") == true
                || verdict.failure?.description.contains("Key Compromise") == true)
    }

    @Test("an OCSP answer of revoked is refused, and OCSP is preferred over a CRL that says good")
    func revokedByOCSP() throws {
        let fixture = try ValidationFixture()
        let responderKey = try PrivateKey.generate(.ecP256)
        let responder = try fixture.pki.leaf(.ocspResponder, key: responderKey, name: "Responder")
        let leaf = fixture.signing.certificate
        let request = try OCSPRequest(certificate: leaf, issuer: fixture.pki.issuing.certificate, includeNonce: false)
        let revokedAt = (fixture.pki.now - 10).roundedDownToSecond
        let response = try OCSPResponse.signed(answering: request, responderCertificate: responder.certificate,
                                               responderKey: responderKey, thisUpdate: fixture.pki.now - 5,
                                               nextUpdate: fixture.pki.now + 3600) { _ in
            .revoked(date: revokedAt, reason: .affiliationChanged)
        }
        let verdict = try fixture.validator(ocsp: [response])
            .validate(leaf, intermediates: fixture.intermediates, policy: ValidationPolicy(purpose: .emailSigning))
        #expect(verdict.failure?.reason == .revoked(date: revokedAt, reason: .affiliationChanged))
    }

    @Test("an OCSP answer signed by an unauthorised key is ignored, not believed")
    func forgedOCSPIgnored() throws {
        let fixture = try ValidationFixture()
        let forger = try fixture.pki.leaf(.tlsClient, name: "Forger")
        let leaf = fixture.signing.certificate
        let request = try OCSPRequest(certificate: leaf, issuer: fixture.pki.issuing.certificate, includeNonce: false)
        let forged = try OCSPResponse.signed(answering: request, responderCertificate: forger.certificate,
                                             responderKey: forger.key, thisUpdate: fixture.pki.now - 5,
                                             nextUpdate: fixture.pki.now + 3600) { _ in .good }
        let verdict = try fixture.validator(ocsp: [forged], withCRLs: false)
            .validate(leaf, intermediates: fixture.intermediates, policy: ValidationPolicy(purpose: .emailSigning))
        guard case .revocationUnknown(let detail)? = verdict.failure?.reason else {
            Issue.record("expected revocation-unknown, got \(String(describing: verdict.failure))")
            return
        }
        #expect(detail.contains("OCSP"))
    }

    @Test("without revocation evidence validation fails hard, unless soft failure is chosen")
    func revocationUnknown() throws {
        let fixture = try ValidationFixture()
        let validator = try fixture.validator(withCRLs: false)
        let hard = validator.validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                                      policy: ValidationPolicy(purpose: .emailSigning))
        #expect(hard.failure?.code == "revocation-unknown")
        let soft = validator.validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                                      policy: ValidationPolicy(purpose: .emailSigning, revocationMode: .softFail))
        let chain = try soft.get()
        #expect(chain.revocation.allSatisfy { if case .unknown = $0 { true } else { false } })
    }

    @Test("an out-of-date CRL does not count as evidence")
    func staleCRL() throws {
        let fixture = try ValidationFixture()
        let stale = try fixture.crl(from: fixture.pki.issuing, thisUpdate: fixture.pki.now - 7200,
                                    nextUpdate: fixture.pki.now - 3600)
        let validator = PathValidator(trustAnchors: [fixture.pki.root.certificate],
                                      revocationChecker: RevocationEvidence(crls: [try fixture.crl(from: fixture.pki.root), stale]))
        let verdict = validator.validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                                         policy: ValidationPolicy(purpose: .emailSigning))
        #expect(verdict.failure?.code == "revocation-unknown")
        #expect(verdict.failure?.description.contains("out of date") == true)
    }

    @Test("a leaf without an accepted policy OID is refused")
    func policyRequired() throws {
        let fixture = try ValidationFixture()
        let validator = try fixture.validator()
        let accepted = ValidationPolicy(purpose: .emailSigning, acceptablePolicies: [X509TestPKI.policy])
        #expect(validator.validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                                   policy: accepted).isValid)
        let demanding = ValidationPolicy(purpose: .emailSigning, acceptablePolicies: ["1.3.6.1.4.1.55555.1.3"])
        #expect(validator.validate(fixture.signing.certificate, intermediates: fixture.intermediates,
                                   policy: demanding).failure?.code == "policy-not-accepted")
    }
}
