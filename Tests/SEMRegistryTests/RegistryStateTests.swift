import Foundation
import SEMCrypto
import SEMFederation
import SEMRegistry
import Testing

@Suite("Registry state and the trust list folded from it")
struct RegistryStateTests {
    private func list(_ log: RegistryLog) throws -> TrustList {
        try log.state().trustList(sequence: 1, issuedAt: registryNow, nextUpdate: registryNow + 86400, issuer: "Test SMI")
    }

    @Test("a registered domain is listed only after approval and leaves the list when suspended")
    func domainLifecycle() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let log = try makeRegistryLog()
        try log.register(request: try alpha.request(), signer: smi.signer, at: registryNow)
        #expect(try log.state().domains["alpha.test"]?.status == .registered)
        #expect(try list(log).domain(named: "alpha.test") == nil)
        try log.append(.domainApproved, domain: "alpha.test", payload: StatusPayload(reason: "ok"), signer: smi.signer)
        let listed = try #require(try list(log).domain(named: "alpha.test"))
        #expect(listed.rootCertificate == alpha.root.certificate)
        #expect(listed.servers.map(\.hostName) == ["mx.alpha.test"])
        try log.append(.domainSuspended, domain: "alpha.test", payload: StatusPayload(reason: "abuse"), signer: smi.signer)
        #expect(try list(log).domains.isEmpty)
        try log.append(.domainApproved, domain: "alpha.test", payload: StatusPayload(reason: "reinstated"), signer: smi.signer)
        #expect(try list(log).domain(named: "alpha.test") != nil)
    }

    @Test("changes the state does not allow are refused before anything is appended")
    func invalidTransitions() throws {
        let smi = try RegistryTestSMI()
        let log = try makeRegistryLog()
        #expect(throws: RegistryError(.invalidTransition, sequence: 1, "")) {
            try log.append(.domainApproved, domain: "alpha.test", payload: StatusPayload(reason: "ok"), signer: smi.signer)
        }
        let alpha = try RegistryTestDomain("alpha.test")
        try log.register(request: try alpha.request(), signer: smi.signer)
        #expect(throws: RegistryError(.invalidTransition, sequence: 2, "")) {
            try log.append(.domainSuspended, domain: "alpha.test", payload: StatusPayload(reason: "x"), signer: smi.signer)
        }
        #expect(throws: RegistryError(.invalidTransition, sequence: 2, "")) {
            try log.register(request: try alpha.request(), signer: smi.signer)
        }
        #expect(try log.head().sequence == 1)
    }

    @Test("profile, server and root changes reach the trust list")
    func domainChanges() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)
        let profile = DomainProfile(contentEncryption: [.aes256GCM], receipts: .always)
        try log.append(.profileUpdated, domain: alpha.name, payload: ProfilePayload(profile: profile), signer: smi.signer)
        try log.append(.serverRemoved, domain: alpha.name, payload: ServerRemovalPayload(hostName: "mx.alpha.test"),
                       signer: smi.signer)
        let newRoot = try RegistryTestDomain("alpha.test")
        try log.append(.keyRolled, domain: alpha.name, payload: KeyRollPayload(rootCertificate: newRoot.root.certificate),
                       signer: smi.signer)
        try log.append(.serverAdded, domain: alpha.name, payload: ServerPayload(server: newRoot.registration.servers[0]),
                       signer: smi.signer)
        let listed = try #require(try list(log).domain(named: "alpha.test"))
        #expect(listed.profile == profile)
        #expect(listed.rootCertificate == newRoot.root.certificate)
        #expect(listed.servers.map(\.certificate) == [newRoot.serverCertificate])
    }

    @Test("an agreement is listed once accepted and leaves the list when terminated")
    func agreementLifecycle() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let beta = try RegistryTestDomain("beta.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)
        try log.admit(beta, smi: smi)
        var agreement = try BilateralAgreement.propose(try alphaBetaTerms(), signer: alpha.admin)
        try log.append(.agreementProposed, domain: "alpha.test", payload: AgreementPayload(agreement: agreement),
                       signer: smi.signer)
        #expect(try list(log).agreements.isEmpty)
        try agreement.accept(signer: beta.admin,
                             verification: AgreementVerification(roots: ["alpha.test": alpha.root.certificate,
                                                                          "beta.test": beta.root.certificate]),
                             at: registryNow)
        try log.append(.agreementAccepted, domain: "alpha.test", payload: AgreementPayload(agreement: agreement),
                       signer: smi.signer)
        let accepted = try list(log)
        #expect(accepted.agreements.map(\.terms.id) == ["alpha-beta"])
        try accepted.verifyAgreements(at: registryNow)
        try log.append(.agreementTerminated, domain: "beta.test", payload: TerminationPayload(agreementId: "alpha-beta"),
                       signer: smi.signer)
        #expect(try list(log).agreements.isEmpty)
        #expect(try log.state().agreements["alpha-beta"]?.state == .terminated)
    }

    @Test("an acceptance signed by the wrong domain is refused and an agreement with a suspended party is dropped")
    func agreementChecks() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let beta = try RegistryTestDomain("beta.test")
        let gamma = try RegistryTestDomain("gamma.test")
        let log = try makeRegistryLog()
        for domain in [alpha, beta, gamma] { try log.admit(domain, smi: smi) }
        var agreement = try BilateralAgreement.propose(try alphaBetaTerms(), signer: alpha.admin)
        try log.append(.agreementProposed, domain: "alpha.test", payload: AgreementPayload(agreement: agreement),
                       signer: smi.signer)
        let roots = ["alpha.test": alpha.root.certificate, "beta.test": beta.root.certificate,
                     "gamma.test": gamma.root.certificate]
        // gamma's root issues a certificate for admin@beta.test and "accepts" with it.
        let rogue = try RegistryTestDomain.user(of: gamma.root, name: "beta.test", address: "admin@beta.test")
        var forged = agreement
        try forged.accept(signer: rogue,
                          verification: AgreementVerification(roots: roots.merging(["beta.test": gamma.root.certificate]) { $1 }),
                          at: registryNow)
        #expect(throws: RegistryError(.invalidTransition, sequence: 8, "")) {
            try log.append(.agreementAccepted, domain: "alpha.test", payload: AgreementPayload(agreement: forged),
                           signer: smi.signer)
        }
        try agreement.accept(signer: beta.admin, verification: AgreementVerification(roots: roots), at: registryNow)
        try log.append(.agreementAccepted, domain: "alpha.test", payload: AgreementPayload(agreement: agreement),
                       signer: smi.signer)
        #expect(try list(log).agreements.count == 1)
        try log.append(.domainSuspended, domain: "beta.test", payload: StatusPayload(reason: "audit"), signer: smi.signer)
        let suspended = try list(log)
        #expect(suspended.agreements.isEmpty)
        #expect(suspended.domains.map(\.name) == ["alpha.test", "gamma.test"])
    }
}
