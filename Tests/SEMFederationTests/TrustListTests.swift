import Foundation
import SEMCrypto
import SEMFederation
import SEMTestSupport
import Testing

@Suite("Trust list")
struct TrustListTests {
    @Test("a signed list verifies against the pinned SMI certificate and answers look-ups")
    func signVerifyLookups() throws {
        let federation = try TestFederation()
        let list = federation.list(sequence: 7, agreements: [try federation.alphaBetaAgreement()])
        let der = try list.sign(with: federation.smi.signer)
        let verified = try TrustList.verify(der, pinnedSigner: federation.smi.certificate, at: federationNow)
        #expect(verified.list == list)
        #expect(verified.content == (try list.canonicalJSON()))
        try verified.list.verifyAgreements(at: federationNow)

        #expect(verified.list.domain(named: "Beta.Test")?.rootCertificate == federation.beta.root.certificate)
        #expect(verified.list.domain(named: "delta.test") == nil)
        #expect(verified.list.server(hostName: "mx.gamma.test")?.domain.name == "gamma.test")
        #expect(verified.list.server(hostName: "mx.gamma.test")?.server.smtp == "mx.gamma.test:25")
        #expect(try verified.list.owner(ofServerCertificate: federation.alpha.serverCertificate).domain.name == "alpha.test")
        // A certificate of the right domain with the right name, but not the registered one.
        let other = try federation.alpha.root.issue(.domainServer, CertificateParameters(
            subject: DistinguishedName([("CN", "mx.alpha.test")]), publicKey: try PrivateKey.generate(.ecP256).publicKey,
            notBefore: federationNow - 60, notAfter: federationNow + 86400, dnsNames: ["mx.alpha.test"]))
        #expect(throws: FederationError(.unknownCertificate, "")) { try verified.list.owner(ofServerCertificate: other) }
    }

    @Test("the user validator trusts exactly the domain's root")
    func userValidator() throws {
        let federation = try TestFederation()
        let list = federation.list(sequence: 1)
        let validator = try list.userValidator(for: "alpha.test", revocationChecker: NoRevocationEvidence())
        let policy = ValidationPolicy(purpose: .emailSigning, time: federationNow, revocationMode: .softFail)
        #expect(validator.validate(federation.alpha.admin.certificate, policy: policy).isValid)
        #expect(!validator.validate(federation.beta.admin.certificate, policy: policy).isValid)
    }

    @Test("suspended domains stay listed but every look-up treats them as absent")
    func suspended() throws {
        let federation = try TestFederation()
        let list = federation.list(sequence: 1, betaStatus: .suspended)
        #expect(list.domain(named: "beta.test") == nil)
        #expect(list.server(hostName: "mx.beta.test") == nil)
        do {
            _ = try list.requireDomain(named: "beta.test")
            Issue.record("a suspended domain was returned")
        } catch let error as FederationError {
            #expect(error.code == .unknownDomain)
            #expect(error.reason.contains("suspended"))
        }
        #expect(throws: FederationError(.unknownCertificate, "")) {
            try list.owner(ofServerCertificate: federation.beta.serverCertificate)
        }
    }

    @Test("a changed byte anywhere in the signed list is refused")
    func tamper() throws {
        let federation = try TestFederation()
        let der = try federation.list(sequence: 3).sign(with: federation.smi.signer)
        // Every byte: headers, version numbers, content, certificates, attributes, signature.
        for offset in 0..<der.count {
            do {
                _ = try TrustList.verify(der.flippingFederationByte(at: offset), pinnedSigner: federation.smi.certificate,
                                         at: federationNow)
                Issue.record("a change at byte \(offset) of \(der.count) was accepted")
            } catch let error as FederationError {
                #expect([.trustListSignature, .trustListMalformed].contains(error.code))
            }
        }
    }

    @Test("a list signed by another registry signer is refused as a signature fault")
    func wrongSigner() throws {
        let federation = try TestFederation()
        let impostor = try TestSMI(name: "Impostor")
        let der = try federation.list(sequence: 3).sign(with: impostor.signer)
        do {
            _ = try TrustList.verify(der, pinnedSigner: federation.smi.certificate, at: federationNow)
            Issue.record("a list by another signer was accepted")
        } catch let error as FederationError {
            #expect(error.code == .trustListSignature)
            #expect(error.reason.contains("not the pinned SMI signer"), "\(error.reason)")
        }
    }

    @Test("signed content that is valid JSON but not canonical is refused as malformed")
    func nonCanonicalContent() throws {
        let federation = try TestFederation()
        var text = String(decoding: try federation.list(sequence: 3).canonicalJSON(), as: UTF8.self)
        text = "{ " + text.dropFirst()
        let signer = try CMSSigner(key: federation.smi.signer.key, certificate: federation.smi.certificate)
        let der = try signer.sign(Data(text.utf8))
        #expect(throws: FederationError(.trustListMalformed, "")) {
            try TrustList.verify(der, pinnedSigner: federation.smi.certificate, at: federationNow)
        }
    }

    @Test("lists that break structural rules are refused")
    func structure() throws {
        let federation = try TestFederation()
        var list = federation.list(sequence: 1)
        list.domains.append(federation.alpha.entry())
        #expect(throws: FederationError(.trustListMalformed, "")) { try list.validate() }
        list = federation.list(sequence: 1)
        list.nextUpdate = list.issuedAt - 1
        #expect(throws: FederationError(.trustListMalformed, "")) { try list.validate() }
        list = federation.list(sequence: 1)
        list.domains[0].servers[0].smtp = "mx.alpha.test"
        #expect(throws: FederationError(.trustListMalformed, "")) { try list.validate() }
        list = federation.list(sequence: 1)
        list.domains[0].servers[0].certificate = federation.beta.serverCertificate
        #expect(throws: FederationError(.trustListMalformed, "")) { try list.validate() }
        list = federation.list(sequence: 1)
        list.domains[1].profile.contentEncryption = []
        #expect(throws: FederationError(.trustListMalformed, "")) { try list.validate() }
        let proposal = try BilateralAgreement.propose(try federation.alphaBetaAgreement().terms, signer: federation.alpha.admin)
        list = federation.list(sequence: 1, agreements: [proposal])
        #expect(throws: FederationError(.trustListMalformed, "")) { try list.validate() }
    }

    @Test("openssl cms verifies the signed list with the pinned certificate and prints the canonical JSON")
    func opensslInterop() throws {
        let federation = try TestFederation()
        let list = federation.list(sequence: 42, agreements: [try federation.alphaBetaAgreement()])
        let der = try list.sign(with: federation.smi.signer)
        let scratch = try ScratchDirectory(prefix: "sem-federation")
        try scratch.write("list.der", der)
        try scratch.write("smi.pem", federation.smi.certificate.pemEncoded)
        let result = try scratch.openssl(["cms", "-verify", "-inform", "DER", "-in", "list.der", "-CAfile", "smi.pem",
                                          "-partial_chain", "-purpose", "any", "-binary", "-out", "content.json"])
        #expect(result.status == 0, "\(result.all)")
        #expect(try scratch.read("content.json") == (try list.canonicalJSON()))
        // And with another pinned certificate, openssl refuses too.
        try scratch.write("other.pem", try TestSMI(name: "Other").certificate.pemEncoded)
        let refused = try scratch.openssl(["cms", "-verify", "-inform", "DER", "-in", "list.der", "-CAfile", "other.pem",
                                           "-partial_chain", "-purpose", "any", "-binary", "-out", "other.json"])
        #expect(refused.status != 0)
    }
}
