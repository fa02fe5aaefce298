import Foundation
import SEMCrypto
import SEMFederation
import SEMPolicy
import Testing

@Suite("Agreements")
struct AgreementTests {
    @Test("propose, accept with both signatures verified against their roots, terminate")
    func lifecycle() throws {
        let federation = try TestFederation()
        let accepted = try federation.alphaBetaAgreement()
        #expect(accepted.state == .accepted)
        #expect(accepted.acceptance != nil)
        try accepted.verifySignatures(federation.verification, at: federationNow)

        // Each signature belongs to its own domain: swapping the roots breaks both.
        let swapped = AgreementVerification(roots: ["alpha.test": federation.beta.root.certificate,
                                                    "beta.test": federation.alpha.root.certificate])
        #expect(throws: FederationError(.agreementSignature, "")) {
            try accepted.verifySignatures(swapped, at: federationNow)
        }

        var ended = accepted
        try ended.terminate(at: federationNow)
        #expect(ended.state == .terminated)
        #expect(throws: FederationError(.invalidAgreement, "")) { try ended.terminate(at: federationNow) }
        #expect(throws: FederationError(.invalidAgreement, "")) {
            try ended.accept(signer: federation.beta.admin, verification: federation.verification, at: federationNow)
        }
        // The record round-trips canonically with both signatures.
        let bytes = try CanonicalJSON.encode(ended)
        #expect(try CanonicalJSON.decodeCanonical(BilateralAgreement.self, from: bytes) == ended)
    }

    @Test("an acceptance by someone outside the accepting domain is refused")
    func wrongAcceptor() throws {
        let federation = try TestFederation()
        var proposal = try BilateralAgreement.propose(try federation.alphaBetaAgreement().terms, signer: federation.alpha.admin)
        do {
            try proposal.accept(signer: federation.gamma.admin, verification: federation.verification, at: federationNow)
            Issue.record("gamma's administrator accepted for beta")
        } catch let error as FederationError {
            #expect(error.code == .agreementSignature)
            #expect(error.reason.contains("beta.test"), "\(error.reason)")
        }
        #expect(proposal.state == .proposed)
    }

    @Test("a proposal signed by someone other than the named proposer is refused")
    func wrongProposer() throws {
        let federation = try TestFederation()
        let terms = try federation.alphaBetaAgreement().terms
        #expect(throws: FederationError(.agreementSignature, "")) {
            try BilateralAgreement.propose(terms, signer: federation.beta.admin)
        }
    }

    @Test("changed terms no longer match the proposal's signature")
    func alteredTerms() throws {
        let federation = try TestFederation()
        let agreement = try federation.alphaBetaAgreement()
        var text = String(decoding: try CanonicalJSON.encode(agreement), as: UTF8.self)
        text = text.replacingOccurrences(of: #""receiptsRequired":true"#, with: #""receiptsRequired":false"#)
        let altered = try CanonicalJSON.decode(BilateralAgreement.self, from: Data(text.utf8))
        #expect(altered.terms != agreement.terms)
        #expect(throws: FederationError(.agreementSignature, "")) {
            try altered.verifySignatures(federation.verification, at: federationNow)
        }
    }

    @Test("invalid terms are refused", arguments: [
        ("alpha.test", "alpha.test", "admin@alpha.test", "itself"),
        ("alpha.test", "beta.test", "admin@beta.test", "not an address of"),
        ("alpha.test", "Beta.Test!", "admin@alpha.test", "domain name"),
    ])
    func invalidTerms(proposing: String, accepting: String, proposer: String, fragment: String) throws {
        let terms = BilateralTerms(id: "x", proposingDomain: proposing, acceptingDomain: accepting, proposer: proposer,
                                   directions: [AgreementDirection(from: proposing, to: accepting)],
                                   notBefore: federationNow, notAfter: federationNow + 86400)
        do {
            try terms.validate()
            Issue.record("accepted")
        } catch let error as FederationError {
            #expect(error.code == .invalidAgreement)
            #expect(error.reason.contains(fragment), "\(error.reason)")
        }
    }

    @Test("required algorithms must come from the profiles' vocabulary")
    func unknownRequiredAlgorithm() throws {
        let terms = BilateralTerms(
            id: "alpha-beta", proposingDomain: "alpha.test", acceptingDomain: "beta.test", proposer: "admin@alpha.test",
            directions: [AgreementDirection(from: "alpha.test", to: "beta.test",
                                            conditions: AgreementConditions(requiredAlgorithms: ["AES-256-GCM", "RC4"]))],
            notBefore: federationNow, notAfter: federationNow + 86400)
        do {
            try terms.validate()
            Issue.record("RC4 was accepted")
        } catch let error as FederationError {
            #expect(error.code == .invalidAgreement)
            #expect(error.reason.contains("\"RC4\""), "\(error.reason)")
        }
    }

    @Test("multilateral: members join with their own signatures; uninvited or repeated joins are refused")
    func multilateral() throws {
        let federation = try TestFederation()
        let terms = MultilateralTerms(id: "research", name: "research-network",
                                      members: ["alpha.test", "beta.test", "gamma.test"],
                                      conditions: AgreementConditions(minimumAssurance: .substantial),
                                      notBefore: federationNow - 60, notAfter: federationNow + 86400)
        var group = try MultilateralAgreement(terms: terms)
        try group.join("alpha.test", signer: federation.alpha.admin, verification: federation.verification, at: federationNow)
        try group.join("gamma.test", signer: federation.gamma.admin, verification: federation.verification, at: federationNow)
        #expect(group.joinedDomains == ["alpha.test", "gamma.test"])
        #expect(throws: FederationError(.invalidAgreement, "")) {
            try group.join("alpha.test", signer: federation.alpha.admin, verification: federation.verification, at: federationNow)
        }
        #expect(throws: FederationError(.agreementSignature, "")) {
            try group.join("beta.test", signer: federation.alpha.admin, verification: federation.verification, at: federationNow)
        }
        try group.verifySignatures(federation.verification, at: federationNow)

        // alpha's PDP sees gamma (joined) as a partner, not beta (invited only).
        var list = federation.list(sequence: 1)
        list.multilateralAgreements = [group]
        let facts = try list.externalFacts(for: "alpha.test")
        #expect(facts.agreements.map(\.id) == ["research"])
        #expect(facts.agreements.first?.domains.map(\.text) == ["gamma.test"])
        #expect(facts.agreements.first?.groups == ["partners", "research-network"])
    }

    private func decide(_ engine: PolicyEngine, to recipient: String) throws -> DecisionResponse {
        engine.decide(DecisionRequest(
            subject: try RequestSubject(kind: .user, address: "alice@alpha.test", assurance: .substantial),
            action: .send, resource: try RequestResource(recipient: recipient),
            context: try RequestContext(time: federationNow, tls: .tls13)))
    }

    @Test("alpha's PDP, importing the trust list, permits mail to beta under the agreement, and not after it ends")
    func pdpImport() throws {
        let federation = try TestFederation()
        let consumer = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: nil)
        let agreement = try federation.alphaBetaAgreement()
        try consumer.accept(der: try federation.list(sequence: 1, agreements: [agreement]).sign(with: federation.smi.signer),
                            at: federationNow)
        let facts = try consumer.current(at: federationNow).externalFacts(for: "alpha.test")
        #expect(facts.agreements.map(\.id) == ["alpha-beta"])
        #expect(facts.agreements.first?.actions == [.send, .receive])
        #expect(facts.groups["registered-servers"]?.servers.map(\.text).sorted()
                == ["mx.alpha.test", "mx.beta.test", "mx.gamma.test"])

        // Each direction's terms travel with the facts: alpha → beta for alpha's send,
        // beta → alpha for its receive (whose assurance minimum is beta's PDP's to check).
        let terms = try #require(facts.agreements.first?.terms)
        #expect(terms.map(\.action) == [.send, .receive])
        #expect(terms[0].senders.map(\.text) == ["*@alpha.test"])
        #expect(terms[0].recipients.map(\.text) == ["*@beta.test"])
        #expect(terms[0].minAssurance == .substantial)
        #expect(terms[0].obligations == [.requireReceipt, .minimumAlgorithm(.aes256GCM)])
        #expect(terms[1].senders.map(\.text) == ["*@beta.test"])
        #expect(terms[1].minAssurance == nil)
        #expect(terms[1].obligations.isEmpty)

        let engine = try PolicyEngine(document: try DefaultPolicy.document(for: "alpha.test"), facts: facts)
        let toBeta = try decide(engine, to: "bob@beta.test")
        #expect(toBeta.decision == .permit, "\(toBeta.reason)")
        #expect(toBeta.matchedRules == ["partner-mail"])
        #expect(toBeta.obligations == [.requireReceipt, .minimumAlgorithm(.aes256GCM)],
                "the agreement's receipts and algorithm join the default policy's AES-256-CBC")
        let lowAssurance = engine.decide(DecisionRequest(
            subject: try RequestSubject(kind: .user, address: "alice@alpha.test", assurance: .low),
            action: .send, resource: try RequestResource(recipient: "bob@beta.test"),
            context: try RequestContext(time: federationNow, tls: .tls13)))
        #expect(lowAssurance.decision == .deny)
        #expect(lowAssurance.reason.contains("below the agreement's minimum substantial"), "\(lowAssurance.reason)")
        let toGamma = try decide(engine, to: "carol@gamma.test")
        #expect(toGamma.decision == .deny, "\(toGamma.reason)")

        // Termination: the next list leaves the agreement out, and the facts follow it.
        var ended = agreement
        try ended.terminate(at: federationNow)
        try consumer.accept(der: try federation.list(sequence: 2).sign(with: federation.smi.signer), at: federationNow)
        let unreported = engine.updateFacts(try consumer.current(at: federationNow).externalFacts(for: "alpha.test"))
        #expect(unreported.isEmpty, "\(unreported)")
        #expect(try decide(engine, to: "bob@beta.test").decision == .deny)
        // A terminated agreement cannot be smuggled into a list either.
        #expect(throws: FederationError(.trustListMalformed, "")) {
            try federation.list(sequence: 3, agreements: [ended]).sign(with: federation.smi.signer)
        }
    }

    @Test("a suspended partner drops out of the facts")
    func suspendedPartner() throws {
        let federation = try TestFederation()
        let list = federation.list(sequence: 1, agreements: [try federation.alphaBetaAgreement()], betaStatus: .suspended)
        let facts = try list.externalFacts(for: "alpha.test")
        #expect(facts.agreements.isEmpty)
        #expect(facts.groups["registered-servers"]?.servers.map(\.text).contains("mx.beta.test") == false)
        #expect(list.directionTerms(from: "alpha.test", to: "beta.test") == nil)
        let active = federation.list(sequence: 1, agreements: [try federation.alphaBetaAgreement()])
        #expect(active.directionTerms(from: "alpha.test", to: "beta.test")?.receiptsRequired == true)
        #expect(active.directionTerms(from: "beta.test", to: "alpha.test")?.receiptsRequired == false)
        #expect(active.directionTerms(from: "alpha.test", to: "gamma.test") == nil)
    }
}
