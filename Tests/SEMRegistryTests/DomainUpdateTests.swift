import Foundation
import SEMCrypto
import SEMFederation
import SEMRegistry
import Testing

@Suite("Domain updates signed by the domain's administrator")
struct DomainUpdateTests {
    private func list(_ log: RegistryLog) throws -> TrustList {
        try log.state().trustList(sequence: 1, issuedAt: registryNow, nextUpdate: registryNow + 86400, issuer: "Test SMI")
    }

    /// A mail server certificate below `domain`'s root for `host`.
    private func server(_ host: String, of domain: RegistryTestDomain) throws -> TrustedServer {
        let key = try PrivateKey.generate(.ecP256)
        let certificate = try domain.root.issue(.domainServer, CertificateParameters(
            subject: DistinguishedName([("O", domain.name), ("CN", host)]), publicKey: key.publicKey,
            notBefore: registryNow - 60, notAfter: registryNow + 365 * 86400, dnsNames: [host]))
        return TrustedServer(hostName: host, smtp: "\(host):25", https: "\(host):443", certificate: certificate)
    }

    @Test("a new profile, a server added and removed, and a rolled key reach the trust list")
    func changes() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)

        let profile = DomainProfile(contentEncryption: [.aes256GCM], receipts: .always)
        let entry = try log.update(request: try DomainUpdate.profile(profile, for: "alpha.test").signed(by: alpha.admin),
                                   signer: smi.signer, at: registryNow)
        #expect(entry.kind == .profileUpdated)
        #expect(try entry.payload(as: ProfilePayload.self).request != nil, "the signed request is kept as evidence")
        #expect(try list(log).domain(named: "alpha.test")?.profile == profile)

        let backup = try server("mx2.alpha.test", of: alpha)
        try log.update(request: try DomainUpdate.addServer(backup, for: "alpha.test").signed(by: alpha.admin),
                       signer: smi.signer, at: registryNow)
        #expect(try list(log).domain(named: "alpha.test")?.servers.map(\.hostName) == ["mx.alpha.test", "mx2.alpha.test"])
        try log.update(request: try DomainUpdate.removeServer("mx.alpha.test", for: "alpha.test").signed(by: alpha.admin),
                       signer: smi.signer, at: registryNow)
        #expect(try list(log).domain(named: "alpha.test")?.servers.map(\.hostName) == ["mx2.alpha.test"])

        // The roll is signed under the old root; afterwards only the new root's administrator counts.
        let renewed = try RegistryTestDomain("alpha.test")
        try log.update(request: try DomainUpdate.rollKey(renewed.root.certificate, for: "alpha.test").signed(by: alpha.admin),
                       signer: smi.signer, at: registryNow)
        #expect(try list(log).domain(named: "alpha.test")?.rootCertificate == renewed.root.certificate)
        let late = try DomainUpdate.profile(DomainProfile(), for: "alpha.test").signed(by: alpha.admin)
        #expect(throws: RegistryError(.invalidTransition, sequence: 7, "")) {
            try log.update(request: late, signer: smi.signer, at: registryNow)
        }
        try log.update(request: try DomainUpdate.profile(DomainProfile(), for: "alpha.test").signed(by: renewed.admin),
                       signer: smi.signer, at: registryNow)

        // Folding the log from the start checks every request again.
        #expect(try log.state().sequence == 7)
        #expect(try log.verifyChain(trustedSigners: [smi.certificate]).isValid)
    }

    @Test("an update signed by another domain's administrator, or by a user, is refused and nothing is appended")
    func wrongSigner() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test"), beta = try RegistryTestDomain("beta.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)
        try log.admit(beta, smi: smi)
        let update = DomainUpdate.removeServer("mx.alpha.test", for: "alpha.test")
        do {
            try log.update(request: try update.signed(by: beta.admin), signer: smi.signer, at: registryNow)
            Issue.record("an update signed by beta's administrator was accepted")
        } catch let error as RegistryError {
            #expect(error == RegistryError(.invalidTransition, sequence: 5, ""))
            #expect(error.reason.contains("does not chain to the root of alpha.test"), "\(error.reason)")
        }
        let user = try RegistryTestDomain.user(of: alpha.root, name: "alpha.test", address: "alice@alpha.test")
        do {
            try log.update(request: try update.signed(by: user), signer: smi.signer, at: registryNow)
            Issue.record("an update signed by a user was accepted")
        } catch let error as RegistryError {
            #expect(error.reason.contains("not signed by admin@alpha.test"), "\(error.reason)")
        }
        #expect(try log.head().sequence == 4)
        #expect(try list(log).domain(named: "alpha.test")?.servers.count == 1)
    }

    @Test("a request older than the last update applied is refused, so a replay cannot undo a change")
    func replay() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)
        let strict = DomainProfile(contentEncryption: [.aes256GCM], receipts: .always)
        let old = try DomainUpdate.profile(DomainProfile(), for: "alpha.test", at: registryNow - 60).signed(by: alpha.admin)
        try log.update(request: old, signer: smi.signer, at: registryNow)
        try log.update(request: try DomainUpdate.profile(strict, for: "alpha.test", at: registryNow).signed(by: alpha.admin),
                       signer: smi.signer, at: registryNow)
        do {
            try log.update(request: old, signer: smi.signer, at: registryNow)
            Issue.record("a replayed update was accepted")
        } catch let error as RegistryError {
            #expect(error == RegistryError(.invalidTransition, sequence: 5, ""))
            #expect(error.reason.contains("before the last one applied"), "\(error.reason)")
        }
        #expect(try list(log).domain(named: "alpha.test")?.profile == strict)
    }

    @Test("malformed, mismatched or unfit updates are refused with a reason")
    func refusals() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test"), beta = try RegistryTestDomain("beta.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)

        // A flipped byte breaks the CMS signature.
        var tampered = try DomainUpdate.profile(DomainProfile(), for: "alpha.test").signed(by: alpha.admin)
        tampered = tampered.replacingRegistryText("alpha.test", with: "alpha.tesu")
        #expect(throws: RegistryError(.invalidPayload, "")) { try log.update(request: tampered, signer: smi.signer) }

        // Two changes in one request.
        var mixed = DomainUpdate.removeServer("mx.alpha.test", for: "alpha.test")
        mixed.profile = DomainProfile()
        do {
            try log.update(request: try mixed.signed(by: alpha.admin), signer: smi.signer)
            Issue.record("an update with two changes was accepted")
        } catch let error as RegistryError {
            #expect(error.code == .invalidPayload)
            #expect(error.reason.contains("exactly the member"), "\(error.reason)")
        }

        // A domain the registry does not know.
        let unknown = try DomainUpdate.profile(DomainProfile(), for: "beta.test").signed(by: beta.admin)
        #expect(throws: RegistryError(.invalidTransition, sequence: 3, "")) {
            try log.update(request: unknown, signer: smi.signer)
        }

        // A server whose certificate does not name it would not fit the trust list.
        var misnamed = try server("mx3.alpha.test", of: alpha)
        misnamed.hostName = "mail.alpha.test"
        do {
            try log.update(request: try DomainUpdate.addServer(misnamed, for: "alpha.test").signed(by: alpha.admin),
                           signer: smi.signer)
            Issue.record("a server with a certificate for another host was accepted")
        } catch let error as RegistryError {
            #expect(error.reason.contains("unfit for the trust list"), "\(error.reason)")
        }

        // An entry whose payload is not what the signed request says (an operator bug or a
        // forgery) does not apply.
        let signed = try DomainUpdate.profile(DomainProfile(), for: "alpha.test").signed(by: alpha.admin)
        let other = DomainProfile(contentEncryption: [.aes128CBC])
        do {
            try log.append(.profileUpdated, domain: "alpha.test", payload: ProfilePayload(profile: other, request: signed),
                           signer: smi.signer)
            Issue.record("a payload that differs from its request was accepted")
        } catch let error as RegistryError {
            #expect(error.code == .invalidTransition)
            #expect(error.reason.contains("not the profileUpdated entry"), "\(error.reason)")
        }
        #expect(try log.head().sequence == 2)
    }
}
