// Multilateral agreements in the registry log.
import Foundation
import SEMCrypto
import SEMFederation
import SEMRegistry
import Testing

@Suite("Multilateral agreements in the registry")
struct GroupAgreementTests {
    private let smi: RegistryTestSMI
    private let alpha: RegistryTestDomain, beta: RegistryTestDomain, gamma: RegistryTestDomain
    private let log: RegistryLog

    init() throws {
        smi = try RegistryTestSMI()
        alpha = try RegistryTestDomain("alpha.test")
        beta = try RegistryTestDomain("beta.test")
        gamma = try RegistryTestDomain("gamma.test")
        log = try makeRegistryLog()
        for domain in [alpha, beta, gamma] { try log.admit(domain, smi: smi) }
    }

    private var verification: AgreementVerification {
        AgreementVerification(roots: ["alpha.test": alpha.root.certificate, "beta.test": beta.root.certificate,
                                      "gamma.test": gamma.root.certificate])
    }

    private func founded() throws -> MultilateralAgreement {
        var group = try MultilateralAgreement(terms: MultilateralTerms(
            id: "research", name: "research", members: ["alpha.test", "beta.test", "gamma.test"],
            notBefore: registryNow - 60, notAfter: registryNow + 86400))
        try group.join("alpha.test", signer: alpha.admin, verification: verification, at: registryNow)
        try log.append(.groupFormed, domain: "alpha.test", payload: GroupPayload(agreement: group), signer: smi.signer)
        return group
    }

    private func listed() throws -> TrustList {
        try log.state().trustList(sequence: 1, issuedAt: registryNow, nextUpdate: registryNow + 60, issuer: "test")
    }

    @Test("a group enters the list when a second member joins, follows suspension, and leaves when terminated")
    func lifecycle() throws {
        var group = try founded()
        #expect(try listed().multilateralAgreements.isEmpty)
        try group.join("beta.test", signer: beta.admin, verification: verification, at: registryNow)
        try log.append(.groupJoined, domain: "beta.test", payload: GroupPayload(agreement: group), signer: smi.signer)
        #expect(try listed().multilateralAgreements.map(\.joinedDomains) == [["alpha.test", "beta.test"]])
        try listed().verifyAgreements(at: registryNow)
        #expect(try listed().externalFacts(for: "beta.test").agreements.map(\.id) == ["research"])

        try log.append(.domainSuspended, domain: "beta.test", payload: StatusPayload(reason: "audit"), signer: smi.signer)
        #expect(try listed().multilateralAgreements.isEmpty)
        try log.append(.domainApproved, domain: "beta.test", payload: StatusPayload(reason: "cleared"), signer: smi.signer)
        #expect(try listed().multilateralAgreements.count == 1)

        let request = try TerminationRequest(agreementId: "research", domain: "beta.test", requestedAt: registryNow)
            .signed(by: beta.admin)
        try log.append(.agreementTerminated, domain: "beta.test",
                       payload: TerminationPayload(agreementId: "research", request: request), signer: smi.signer)
        #expect(try listed().multilateralAgreements.isEmpty)
        #expect(try log.verifyChain(trustedSigners: [smi.certificate]).isValid)
    }

    @Test("joinings that do not extend the record by the joining member's own signature are refused")
    func badJoinings() throws {
        let group = try founded()
        let head = try log.head().sequence
        func refused(_ payload: MultilateralAgreement, by domain: String) {
            #expect(throws: RegistryError(.invalidTransition, sequence: head + 1, "")) {
                try log.append(.groupJoined, domain: domain, payload: GroupPayload(agreement: payload), signer: smi.signer)
            }
        }
        // beta's signature recorded as gamma's joining.
        var byBeta = group
        try byBeta.join("beta.test", signer: beta.admin, verification: verification, at: registryNow)
        refused(byBeta, by: "gamma.test")
        // gamma's administrator signing as beta: the signature does not verify for beta.
        var forged = group
        #expect(throws: FederationError.self) {
            try forged.join("beta.test", signer: gamma.admin, verification: verification, at: registryNow)
        }
        // The same agreement again, and a second founding with the same id.
        refused(group, by: "alpha.test")
        #expect(throws: RegistryError(.invalidTransition, sequence: head + 1, "")) {
            try log.append(.groupFormed, domain: "alpha.test", payload: GroupPayload(agreement: group), signer: smi.signer)
        }
        #expect(try log.head().sequence == head)
    }
}
