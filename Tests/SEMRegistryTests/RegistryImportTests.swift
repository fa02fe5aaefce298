import Foundation
import SEMCrypto
import SEMRegistry
import Testing

@Suite("Registry log: follower import")
struct RegistryImportTests {
    /// A leader with two admitted domains (four entries) and its SMI.
    private func leader() throws -> (log: RegistryLog, smi: RegistryTestSMI) {
        let smi = try RegistryTestSMI()
        let log = try makeRegistryLog()
        try log.admit(try RegistryTestDomain("alpha.test"), smi: smi)
        try log.admit(try RegistryTestDomain("beta.test"), smi: smi)
        return (log, smi)
    }

    @Test("a follower importing a valid log in parts reaches the same head hash")
    func validImport() throws {
        let (log, smi) = try leader()
        let follower = try makeRegistryLog()
        #expect(try follower.importEntries(try log.storedBytes(after: 0, limit: 2), trustedSigners: [smi.certificate]) == 2)
        #expect(try follower.importEntries(try log.storedBytes(after: 2), trustedSigners: [smi.certificate]) == 2)
        #expect(try follower.head() == (try log.head()))
        #expect(try follower.storedBytes() == (try log.storedBytes()))
        #expect(try follower.verifyChain(trustedSigners: [smi.certificate]).isValid)
        #expect(Set(try follower.state().domains.keys) == ["alpha.test", "beta.test"])
    }

    @Test("a forged entry is refused with its sequence and nothing after it is stored")
    func forgedEntry() throws {
        let (log, smi) = try leader()
        var received = try log.storedBytes()
        received[1] = received[1].replacingRegistryText("checked by the operator", with: "checked by the 0perator")
        let follower = try makeRegistryLog()
        #expect(throws: RegistryError(.signatureInvalid, sequence: 2, "")) {
            try follower.importEntries(received, trustedSigners: [smi.certificate])
        }
        #expect(try follower.head().sequence == 1)
    }

    @Test("an entry signed by an SMI the follower does not trust is refused")
    func unknownSigner() throws {
        let (log, _) = try leader()
        let stranger = try RegistryTestSMI(name: "Stranger")
        let follower = try makeRegistryLog()
        #expect(throws: RegistryError(.unknownSigner, sequence: 1, "")) {
            try follower.importEntries(try log.storedBytes(), trustedSigners: [stranger.certificate])
        }
        #expect(try follower.head().sequence == 0)
    }

    @Test("reordered entries are refused at the first out of place")
    func reordered() throws {
        let (log, smi) = try leader()
        let stored = try log.storedBytes()
        let follower = try makeRegistryLog()
        #expect(throws: RegistryError(.sequenceGap, sequence: 3, "")) {
            try follower.importEntries([stored[0], stored[2], stored[1], stored[3]], trustedSigners: [smi.certificate])
        }
        #expect(try follower.head().sequence == 1)
    }

    @Test("a truncated feed with a gap is refused at the entry after the gap")
    func truncated() throws {
        let (log, smi) = try leader()
        let stored = try log.storedBytes()
        let follower = try makeRegistryLog()
        try follower.importEntries(Array(stored[0..<2]), trustedSigners: [smi.certificate])
        #expect(throws: RegistryError(.sequenceGap, sequence: 4, "")) {
            try follower.importEntries([stored[3]], trustedSigners: [smi.certificate])
        }
        #expect(try follower.head().sequence == 2)
        // Re-sending an entry the follower already has is refused too.
        #expect(throws: RegistryError(.sequenceGap, sequence: 2, "")) {
            try follower.importEntries([stored[1]], trustedSigners: [smi.certificate])
        }
    }

    @Test("an entry from a diverging log with the right number is refused as a broken link")
    func divergingLog() throws {
        let (log, smi) = try leader()
        let other = try makeRegistryLog()
        try other.admit(try RegistryTestDomain("gamma.test"), smi: smi)
        let follower = try makeRegistryLog()
        try follower.importEntries([try log.storedBytes()[0]], trustedSigners: [smi.certificate])
        #expect(throws: RegistryError(.hashLinkBroken, sequence: 2, "")) {
            try follower.importEntries([try other.storedBytes()[1]], trustedSigners: [smi.certificate])
        }
    }
}

@Suite("Registry log: follower import of state changes")
struct RegistryImportStateTests {
    @Test("a correctly chained and signed entry that the state does not allow is refused")
    func signedButNotAllowed() throws {
        let smi = try RegistryTestSMI()
        let entry = try RegistryEntry(sequence: 1, previousHash: RegistryEntry.zeroHash, time: registryNow,
                                      kind: .domainApproved, domain: "nowhere.test",
                                      payload: .object(["reason": .string("never registered")]), signer: smi.signer)
        #expect(entry.hasValidSignature())
        let follower = try makeRegistryLog()
        #expect(throws: RegistryError(.invalidTransition, sequence: 1, "")) {
            try follower.importEntries([entry.bytes], trustedSigners: [smi.certificate])
        }
        #expect(try follower.head().sequence == 0)
    }

    @Test("a payload that is not a JSON object cannot be signed into an entry")
    func payloadMustBeObject() throws {
        let smi = try RegistryTestSMI()
        #expect(throws: RegistryError(.invalidPayload, sequence: 1, "")) {
            try RegistryEntry(sequence: 1, previousHash: RegistryEntry.zeroHash, time: registryNow, kind: .domainApproved,
                              domain: "alpha.test", payload: .array([]), signer: smi.signer)
        }
    }
}
