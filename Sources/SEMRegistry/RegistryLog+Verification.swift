// Checking the chain: the registry re-checks its own log, and a follower checks every
// entry it receives before storing it. Both use the same link rule:
//   1. the bytes are a canonical entry;
//   2. its sequence number is exactly one more than the previous entry's (1 for the first);
//   3. its previous hash is the SHA-256 of the previous entry's stored bytes;
//   4. its signer certificate is one of the trusted SMI signers (pinned, compared byte
//      for byte, as relying parties pin the trust list signer);
//   5. its signature verifies over the entry without its signature member.
//
// Shortcoming: the signer's validity period and revocation are not checked; pinning is
// the trust decision, and replacing a signer means changing the pinned set.
public import Foundation
public import SEMCrypto
import SEMStorage

/// Why a chain is broken.
public enum ChainFault: String, Sendable, Equatable, CaseIterable {
    case malformedEntry, hashLinkBroken, signatureInvalid, sequenceGap, unknownSigner

    init(_ code: RegistryError.Code) {
        switch code {
        case .hashLinkBroken: self = .hashLinkBroken
        case .signatureInvalid: self = .signatureInvalid
        case .sequenceGap: self = .sequenceGap
        case .unknownSigner: self = .unknownSigner
        default: self = .malformedEntry
        }
    }
}

/// The result of re-checking a whole log. Two verdicts are equal when they agree on
/// everything but the reason text, which is for people.
public enum ChainVerdict: Sendable, Equatable {
    /// Every entry checked; `headHash` is the last entry's hash (the zero hash when empty).
    case valid(count: UInt64, headHash: String)
    /// The first entry that fails, why, and a sentence for people.
    case broken(sequence: UInt64, fault: ChainFault, reason: String)

    public var isValid: Bool { if case .valid = self { true } else { false } }

    public static func == (lhs: ChainVerdict, rhs: ChainVerdict) -> Bool {
        switch (lhs, rhs) {
        case (.valid(let a, let x), .valid(let b, let y)): a == b && x == y
        case (.broken(let a, let x, _), .broken(let b, let y, _)): a == b && x == y
        default: false
        }
    }
}

/// The link rule shared by verification and import.
enum ChainLink {
    static func check(_ bytes: Data, expected: UInt64, previousHash: String,
                      trustedSigners: [Certificate]) throws -> RegistryEntry {
        let entry = try RegistryEntry(bytes: bytes, position: expected)
        guard entry.sequence == expected else {
            let what = entry.sequence < expected ? "repeats or reorders the log" : "leaves a gap (entries are missing)"
            throw RegistryError(.sequenceGap, sequence: entry.sequence,
                                "Entry \(entry.sequence) came where entry \(expected) was expected: it \(what).")
        }
        guard entry.previousHash == previousHash else {
            throw RegistryError(.hashLinkBroken, sequence: expected,
                                "Entry \(expected) does not name the hash of entry \(expected - 1) as its previous hash.")
        }
        guard trustedSigners.contains(where: { $0.derEncoded == entry.signature.certificate }) else {
            throw RegistryError(.unknownSigner, sequence: expected,
                                "Entry \(expected) was signed by a certificate that is not a trusted SMI signer.")
        }
        guard entry.hasValidSignature() else {
            throw RegistryError(.signatureInvalid, sequence: expected,
                                "The signature of entry \(expected) does not verify: the entry was altered or forged.")
        }
        return entry
    }
}

extension RegistryLog {
    /// Re-checks every entry: sequence, hash link, signer and signature, in order, and
    /// names the first entry that fails.
    public func verifyChain(trustedSigners: [Certificate]) throws -> ChainVerdict {
        var expected: UInt64 = 1
        var previous = RegistryEntry.zeroHash
        while true {
            let page = try rawEntries(after: expected - 1, limit: 1_000)
            if page.isEmpty { return .valid(count: expected - 1, headHash: previous) }
            for row in page {
                do {
                    guard row.sequence == expected else {
                        throw RegistryError(.sequenceGap, sequence: expected,
                                            "The log has no entry \(expected); the next stored one is \(row.sequence).")
                    }
                    let entry = try ChainLink.check(row.bytes, expected: expected, previousHash: previous,
                                                    trustedSigners: trustedSigners)
                    guard entry.hash == row.hash else {
                        throw RegistryError(.hashLinkBroken, sequence: expected,
                                            "The stored hash of entry \(expected) is not the hash of its bytes.")
                    }
                    previous = entry.hash
                    expected += 1
                } catch let error as RegistryError {
                    return .broken(sequence: error.sequence ?? expected, fault: ChainFault(error.code), reason: error.reason)
                }
            }
        }
    }

    /// Stores entries received from the registry, as a follower. Each must extend the local
    /// chain and be a change the folded state allows; at the first that is not, the entries
    /// before it stay stored, it and everything after it are dropped, and the error names it.
    ///
    /// - Returns: the number of entries stored.
    @discardableResult
    public func importEntries(_ received: [Data], trustedSigners: [Certificate]) throws -> Int {
        guard received.count <= Self.maximumImportCount else {
            throw RegistryError(.malformedEntry, "At most \(Self.maximumImportCount) entries are imported at once; "
                                + "\(received.count) were received.")
        }
        let outcome: (stored: Int, failure: RegistryError?) = try Self.storage {
            try database.transaction { db in
                var state = try self.state()
                var previous = try head().hash
                var stored = 0
                for bytes in received {
                    do {
                        let entry = try ChainLink.check(bytes, expected: state.sequence + 1, previousHash: previous,
                                                        trustedSigners: trustedSigners)
                        try state.apply(entry)
                        try Self.insert(entry, into: db)
                        previous = entry.hash
                        stored += 1
                    } catch let error as RegistryError {
                        return (stored, error)
                    }
                }
                return (stored, nil)
            }
        }
        if let failure = outcome.failure {
            logger.warning("registry.import.refused", ["stored": outcome.stored, "error": failure.description])
            throw failure
        }
        return outcome.stored
    }

    /// Bound on the entries one import call takes.
    public static let maximumImportCount = 10_000
}
