import Foundation
import SEMCrypto
import SEMRegistry
import SEMStorage
import Testing

@Suite("Registry log: append and chain verification")
struct RegistryLogTests {
    @Test("appended entries link by hash, count from 1 and verify")
    func appendAndVerify() throws {
        let smi = try RegistryTestSMI()
        let log = try makeRegistryLog()
        try log.admit(try RegistryTestDomain("alpha.test"), smi: smi)
        try log.admit(try RegistryTestDomain("beta.test"), smi: smi)
        let entries = try log.allEntries()
        #expect(entries.map(\.sequence) == [1, 2, 3, 4])
        #expect(entries[0].previousHash == RegistryEntry.zeroHash)
        for (earlier, later) in zip(entries, entries.dropFirst()) {
            #expect(later.previousHash == Digest.sha256(earlier.bytes).hexString)
        }
        #expect(entries.map(\.kind) == [.domainRegistered, .domainApproved, .domainRegistered, .domainApproved])
        #expect(entries.allSatisfy { $0.hasValidSignature() })
        let verdict = try log.verifyChain(trustedSigners: [smi.certificate])
        #expect(verdict == .valid(count: 4, headHash: entries[3].hash))
        #expect(try log.head().hash == entries[3].hash)
    }

    @Test("the stored form is the canonical JSON whose hash the next entry names")
    func storedBytesAreCanonical() throws {
        let smi = try RegistryTestSMI()
        let log = try makeRegistryLog()
        try log.admit(try RegistryTestDomain("alpha.test"), smi: smi)
        let stored = try log.storedBytes()
        let reparsed = try RegistryEntry(bytes: stored[1])
        #expect(reparsed.bytes == stored[1])
        #expect(reparsed.previousHash == Digest.sha256(stored[0]).hexString)
        let text = String(decoding: stored[1], as: UTF8.self)
        #expect(text.hasPrefix("{\"domain\":\"alpha.test\",\"kind\":\"domainApproved\",\"payload\":{"))
        // Re-spacing the same entry is refused: only the canonical bytes are an entry.
        let spaced = Data(text.replacingOccurrences(of: "\"kind\":", with: "\"kind\": ").utf8)
        #expect(throws: RegistryError(.malformedEntry, "")) { try RegistryEntry(bytes: spaced) }
    }

    @Test("an altered stored entry is reported as a bad signature at its own sequence")
    func tamperedBytesBreakSignature() throws {
        let smi = try RegistryTestSMI()
        let log = try makeRegistryLog()
        try log.admit(try RegistryTestDomain("alpha.test"), smi: smi)
        try log.admit(try RegistryTestDomain("beta.test"), smi: smi)
        let original = try log.storedBytes()[3]
        let altered = original.replacingRegistryText("checked by the operator", with: "checked by the 0perator")
        #expect(altered != original)
        try log.overwrite(sequence: 4, with: altered, hash: Digest.sha256(altered).hexString)
        guard case .broken(let sequence, let fault, _) = try log.verifyChain(trustedSigners: [smi.certificate]) else {
            Issue.record("the altered log verified")
            return
        }
        #expect(sequence == 4)
        #expect(fault == .signatureInvalid)
    }

    @Test("a validly signed replacement entry breaks the hash link of the entry after it")
    func replacedEntryBreaksLink() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let log = try makeRegistryLog()
        try log.admit(alpha, smi: smi)
        try log.admit(try RegistryTestDomain("beta.test"), smi: smi)
        // A second log shares entry 1 and then signs a different entry 2.
        let other = try makeRegistryLog()
        try other.importEntries([try log.storedBytes()[0]], trustedSigners: [smi.certificate])
        let replacement = try other.append(.domainApproved, domain: alpha.name, payload: StatusPayload(reason: "other"),
                                           signer: smi.signer, at: registryNow)
        try log.overwrite(sequence: 2, with: replacement.bytes, hash: replacement.hash)
        guard case .broken(let sequence, let fault, _) = try log.verifyChain(trustedSigners: [smi.certificate]) else {
            Issue.record("the log with a replaced entry verified")
            return
        }
        #expect(sequence == 3)
        #expect(fault == .hashLinkBroken)
    }

    @Test("a stored hash that disagrees with the bytes, a missing entry and an unknown signer are named")
    func otherFaults() throws {
        let smi = try RegistryTestSMI()
        let log = try makeRegistryLog()
        try log.admit(try RegistryTestDomain("alpha.test"), smi: smi)
        try log.admit(try RegistryTestDomain("beta.test"), smi: smi)
        #expect(try log.verifyChain(trustedSigners: [try RegistryTestSMI(name: "Other").certificate])
                == .broken(sequence: 1, fault: .unknownSigner, reason: ""))
        try log.overwrite(sequence: 2, with: try log.storedBytes()[1], hash: RegistryEntry.zeroHash)
        if case .broken(let sequence, let fault, _) = try log.verifyChain(trustedSigners: [smi.certificate]) {
            #expect(sequence == 2 && fault == .hashLinkBroken)
        } else { Issue.record("a wrong stored hash passed") }
        try log.database.execute("DELETE FROM entries WHERE sequence = 2")
        if case .broken(let sequence, let fault, _) = try log.verifyChain(trustedSigners: [smi.certificate]) {
            #expect(sequence == 2 && fault == .sequenceGap)
        } else { Issue.record("a missing entry passed") }
    }
}
