// Trust lists the leader issues and a follower mirrors, and signed termination requests.
import Foundation
import SEMCrypto
import SEMFederation
import SEMRegistry
import Testing

@Suite("Trust list issuance and mirroring")
struct TrustListIssuanceTests {
    private let lifetime: TimeInterval = 3600

    @Test("the leader reuses a fresh list, and re-signs with the next sequence when the log moves or the list ages")
    func issuance() throws {
        let smi = try RegistryTestSMI()
        let log = try makeRegistryLog()
        let alpha = try RegistryTestDomain("alpha.test")
        try log.admit(alpha, smi: smi)
        let first = try log.currentTrustList(signer: smi.signer, issuer: "test", lifetime: lifetime, now: registryNow)
        #expect(first.sequence == 1)
        #expect(first.logHead == 2)
        let again = try log.currentTrustList(signer: smi.signer, issuer: "test", lifetime: lifetime, now: registryNow + 60)
        #expect(again == first)
        let aged = try log.currentTrustList(signer: smi.signer, issuer: "test", lifetime: lifetime,
                                            now: registryNow + lifetime / 2 + 1)
        #expect(aged.sequence == 2)
        try log.append(.domainSuspended, domain: "alpha.test", payload: StatusPayload(reason: "audit"), signer: smi.signer,
                       at: registryNow)
        let moved = try log.currentTrustList(signer: smi.signer, issuer: "test", lifetime: lifetime,
                                             now: registryNow + lifetime / 2 + 2)
        #expect(moved.sequence == 3)
        #expect(moved.logHead == 3)

        // A consumer takes each of them in turn: a new number every time, never a reused one.
        let consumer = try TrustListConsumer(pinnedSigner: smi.certificate, cacheURL: nil)
        #expect(try consumer.accept(der: first.bytes, at: registryNow).domains.map(\.name) == ["alpha.test"])
        try consumer.accept(der: aged.bytes, at: registryNow + lifetime / 2 + 1)
        #expect(try consumer.accept(der: moved.bytes, at: registryNow + lifetime / 2 + 2).domains.isEmpty)
        #expect(throws: FederationError.self) { try consumer.accept(der: first.bytes, at: registryNow + lifetime / 2 + 3) }
    }

    @Test("a follower mirrors the leader's list only when its own log yields the same list")
    func mirroring() throws {
        let smi = try RegistryTestSMI()
        let leader = try makeRegistryLog()
        let follower = try makeRegistryLog()
        try leader.admit(try RegistryTestDomain("alpha.test"), smi: smi)
        try leader.admit(try RegistryTestDomain("beta.test"), smi: smi)
        let issued = try leader.currentTrustList(signer: smi.signer, issuer: "test", lifetime: lifetime, now: registryNow)

        // Behind the leader (only the first two entries): the list names a domain this log
        // has not approved, and is refused.
        #expect(try follower.importEntries(Array(try leader.storedBytes().prefix(2)), trustedSigners: [smi.certificate]) == 2)
        #expect(throws: RegistryError(.trustListRefused, "")) {
            try follower.mirror(issued.bytes, pinnedSigner: smi.certificate, at: registryNow)
        }
        #expect(try follower.latestTrustList() == nil)

        // Caught up: mirrored byte for byte, once.
        try follower.importEntries(try leader.storedBytes(after: 2), trustedSigners: [smi.certificate])
        #expect(try follower.mirror(issued.bytes, pinnedSigner: smi.certificate, at: registryNow))
        #expect(try follower.latestTrustList()?.bytes == issued.bytes)
        #expect(try follower.mirror(issued.bytes, pinnedSigner: smi.certificate, at: registryNow) == false)

        // A list from another signer, and an older sequence, are refused.
        let other = try RegistryTestSMI(name: "Other")
        let forged = try leader.state().trustList(sequence: 9, issuedAt: registryNow, nextUpdate: registryNow + lifetime,
                                                  issuer: "test").sign(with: other.signer)
        #expect(throws: RegistryError(.trustListRefused, "")) {
            try follower.mirror(forged, pinnedSigner: smi.certificate, at: registryNow)
        }
        let older = try leader.state().trustList(sequence: 0, issuedAt: registryNow, nextUpdate: registryNow + lifetime,
                                                 issuer: "test").sign(with: smi.signer)
        #expect(throws: RegistryError(.trustListRefused, "")) {
            try follower.mirror(older, pinnedSigner: smi.certificate, at: registryNow)
        }
    }
}

@Suite("Termination requests")
struct TerminationRequestTests {
    private func agreed() throws -> (RegistryLog, RegistryTestSMI, RegistryTestDomain, RegistryTestDomain) {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let beta = try RegistryTestDomain("beta.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)
        try log.admit(beta, smi: smi)
        var agreement = try BilateralAgreement.propose(try alphaBetaTerms(), signer: alpha.admin)
        try log.append(.agreementProposed, domain: "alpha.test", payload: AgreementPayload(agreement: agreement),
                       signer: smi.signer)
        try agreement.accept(signer: beta.admin,
                             verification: AgreementVerification(roots: ["alpha.test": alpha.root.certificate,
                                                                          "beta.test": beta.root.certificate]),
                             at: registryNow)
        try log.append(.agreementAccepted, domain: "alpha.test", payload: AgreementPayload(agreement: agreement),
                       signer: smi.signer)
        return (log, smi, alpha, beta)
    }

    @Test("a party's administrator ends an agreement, and the signed request stays in the log")
    func partyTerminates() throws {
        let (log, smi, _, beta) = try agreed()
        let request = try TerminationRequest(agreementId: "alpha-beta", domain: "beta.test", requestedAt: registryNow)
            .signed(by: beta.admin)
        try log.append(.agreementTerminated, domain: "beta.test",
                       payload: TerminationPayload(agreementId: "alpha-beta", request: request), signer: smi.signer)
        #expect(try log.state().agreements["alpha-beta"]?.state == .terminated)
        let recorded = try #require(try log.allEntries().last).payload(as: TerminationPayload.self)
        #expect(recorded.request == request)
    }

    @Test("a request signed by someone other than the party's administrator is refused and nothing is appended")
    func strangerRefused() throws {
        let (log, smi, alpha, beta) = try agreed()
        let head = try log.head().sequence
        // Signed by beta's administrator but claiming to speak for alpha.test.
        let impostor = try TerminationRequest(agreementId: "alpha-beta", domain: "alpha.test", requestedAt: registryNow)
            .signed(by: beta.admin)
        #expect(throws: RegistryError(.invalidTransition, sequence: head + 1, "")) {
            try log.append(.agreementTerminated, domain: "alpha.test",
                           payload: TerminationPayload(agreementId: "alpha-beta", request: impostor), signer: smi.signer)
        }
        // A user of alpha.test who is not its administrator.
        let user = try RegistryTestDomain.user(of: alpha.root, name: "alpha.test", address: "carol@alpha.test")
        let byUser = try TerminationRequest(agreementId: "alpha-beta", domain: "alpha.test", requestedAt: registryNow)
            .signed(by: user)
        #expect(throws: RegistryError(.invalidTransition, sequence: head + 1, "")) {
            try log.append(.agreementTerminated, domain: "alpha.test",
                           payload: TerminationPayload(agreementId: "alpha-beta", request: byUser), signer: smi.signer)
        }
        // A request for another agreement.
        let elsewhere = try TerminationRequest(agreementId: "other", domain: "beta.test", requestedAt: registryNow)
            .signed(by: beta.admin)
        #expect(throws: RegistryError(.invalidTransition, sequence: head + 1, "")) {
            try log.append(.agreementTerminated, domain: "beta.test",
                           payload: TerminationPayload(agreementId: "alpha-beta", request: elsewhere), signer: smi.signer)
        }
        #expect(try log.head().sequence == head)
        #expect(try log.state().agreements["alpha-beta"]?.state == .accepted)
    }
}
