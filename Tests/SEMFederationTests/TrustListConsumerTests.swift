import Foundation
import SEMCrypto
import SEMFederation
import SEMTestSupport
import Testing

@Suite("Trust list consumer")
struct TrustListConsumerTests {
    private func code(_ body: () throws -> Void) -> FederationError.Code? {
        do { try body(); return nil } catch let error as FederationError { return error.code } catch { return nil }
    }

    @Test("a newer list replaces the old one; lower sequences are refused as rollback")
    func rollback() throws {
        let federation = try TestFederation()
        let consumer = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: nil)
        #expect(code { _ = try consumer.current(at: federationNow) } == .trustListMissing)
        try consumer.accept(der: try federation.list(sequence: 5).sign(with: federation.smi.signer), at: federationNow)
        try consumer.accept(der: try federation.list(sequence: 6).sign(with: federation.smi.signer), at: federationNow)
        #expect(consumer.lastSequence == 6)
        let old = try federation.list(sequence: 5).sign(with: federation.smi.signer)
        #expect(code { try consumer.accept(der: old, at: federationNow) } == .trustListRollback)
        #expect(try consumer.current(at: federationNow).sequence == 6)
    }

    @Test("the same sequence with the same content is accepted again; with other content it is refused")
    func equalSequence() throws {
        let federation = try TestFederation()
        let consumer = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: nil)
        let list = federation.list(sequence: 9)
        try consumer.accept(der: try list.sign(with: federation.smi.signer), at: federationNow)
        // A fresh signature over the same content (ECDSA differs each time) is the same list.
        try consumer.accept(der: try list.sign(with: federation.smi.signer), at: federationNow)
        let changed = federation.list(sequence: 9, betaStatus: .suspended)
        #expect(code { try consumer.accept(der: try changed.sign(with: federation.smi.signer), at: federationNow) }
                == .trustListRollback)
        #expect(try consumer.current(at: federationNow).domain(named: "beta.test") != nil)
    }

    @Test("staleness: accepted within the grace period, refused past it, and current() expires too")
    func stale() throws {
        let federation = try TestFederation()
        let settings = TrustListConsumer.Settings(gracePeriod: 3600, clockSkew: 60)
        let consumer = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: nil, settings: settings)
        let issued = federationNow - 2 * 86400
        let list = federation.list(sequence: 1, issuedAt: issued, nextUpdate: federationNow - 1800)
        let der = try list.sign(with: federation.smi.signer)
        try consumer.accept(der: der, at: federationNow)
        #expect(try consumer.current(at: federationNow + 1700).sequence == 1)
        #expect(code { _ = try consumer.current(at: federationNow + 1900) } == .trustListStale)
        let fresh = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: nil, settings: settings)
        #expect(code { try fresh.accept(der: der, at: federationNow + 1900) } == .trustListStale)
    }

    @Test("a list issued in the future beyond the clock skew is not yet valid")
    func future() throws {
        let federation = try TestFederation()
        let consumer = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: nil,
                                             settings: .init(clockSkew: 300))
        let soon = try federation.list(sequence: 1, issuedAt: federationNow + 200).sign(with: federation.smi.signer)
        try consumer.accept(der: soon, at: federationNow)
        let later = try federation.list(sequence: 2, issuedAt: federationNow + 900).sign(with: federation.smi.signer)
        #expect(code { try consumer.accept(der: later, at: federationNow) } == .trustListNotYetValid)
        #expect(consumer.lastSequence == 1)
    }

    @Test("signature faults and malformed content get their own codes")
    func faults() throws {
        let federation = try TestFederation()
        let consumer = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: nil)
        let impostor = try TestSMI(name: "Impostor")
        #expect(code { try consumer.accept(der: try federation.list(sequence: 1).sign(with: impostor.signer),
                                           at: federationNow) } == .trustListSignature)
        #expect(code { try consumer.accept(der: Data("not a list".utf8), at: federationNow) } == .trustListSignature)
        let signer = try CMSSigner(key: federation.smi.signer.key, certificate: federation.smi.certificate)
        let notAList = try signer.sign(Data(#"{"version":1}"#.utf8))
        #expect(code { try consumer.accept(der: notAList, at: federationNow) } == .trustListMalformed)
    }

    @Test("the accepted list survives a restart, and so does rollback protection")
    func persistence() throws {
        let federation = try TestFederation()
        let scratch = try ScratchDirectory(prefix: "sem-federation")
        let cache = scratch.url.appendingPathComponent("trust-list.der")
        do {
            let consumer = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: cache)
            try consumer.accept(der: try federation.list(sequence: 20).sign(with: federation.smi.signer), at: federationNow)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: cache.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        #expect(leftovers == ["trust-list.der"])

        let restarted = try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: cache)
        #expect(restarted.lastSequence == 20)
        #expect(try restarted.current(at: federationNow).sequence == 20)
        let older = try federation.list(sequence: 19).sign(with: federation.smi.signer)
        #expect(code { try restarted.accept(der: older, at: federationNow) } == .trustListRollback)

        // A cache that someone edited does not verify and is not silently replaced.
        try Data(contentsOf: cache).flippingFederationByte(at: 100).write(to: cache)
        #expect(throws: FederationError(.trustListSignature, "")) {
            try TrustListConsumer(pinnedSigner: federation.smi.certificate, cacheURL: cache)
        }
    }
}
