// The signed trust lists an SMI server has issued (the leader) or mirrored (a follower).
//
// A list's sequence is its issue number, not the log head: consumers refuse a list whose
// sequence is lower than, or equal to but different from, one they accepted
// (TrustListConsumer), so every re-signing — because the log moved or because the last
// list is halfway to its nextUpdate — takes the next number. `logHead` records which
// log entry the list reflects. Lists are kept, so the SMI can show what it published.
public import Foundation
public import SEMCrypto
import SEMFederation
import SEMStorage

/// One signed trust list as stored.
public struct IssuedTrustList: Sendable, Equatable {
    public let sequence: UInt64
    /// The log entry the list reflects.
    public let logHead: UInt64
    public let issuedAt: Date
    /// DER CMS SignedData, exactly as served.
    public let bytes: Data
}

extension RegistryLog {
    static let trustListMigration = Migration(version: 2, name: "issued trust lists", sql: """
        CREATE TABLE trust_lists (
            sequence INTEGER PRIMARY KEY,
            log_head INTEGER NOT NULL,
            issued_at REAL NOT NULL,
            bytes BLOB NOT NULL)
        """)

    /// The newest stored list, if any.
    public func latestTrustList() throws -> IssuedTrustList? {
        try Self.storage { try Self.latestTrustList(in: database) }
    }

    /// The leader's list: the newest one while it reflects the log head and is younger
    /// than half of `lifetime`; otherwise a new one, signed with the next sequence and
    /// stored. One transaction, so two callers never sign two lists with one number.
    public func currentTrustList(signer: CertifiedKey, issuer: String, lifetime: TimeInterval,
                                 now: Date = Date()) throws -> IssuedTrustList {
        try Self.storage {
            try database.transaction { db in
                let head = try head().sequence
                let latest = try Self.latestTrustList(in: db)
                if let latest, latest.logHead == head, now >= latest.issuedAt, now < latest.issuedAt + lifetime / 2 {
                    return latest
                }
                let sequence = (latest?.sequence ?? 0) + 1
                let list = try state().trustList(sequence: sequence, issuedAt: now, nextUpdate: now + lifetime, issuer: issuer)
                let issued = IssuedTrustList(sequence: sequence, logHead: head, issuedAt: now, bytes: try list.sign(with: signer))
                try Self.insert(issued, into: db)
                logger.info("registry.trust-list.issued", ["sequence": sequence, "head": head, "domains": list.domains.count])
                return issued
            }
        }
    }

    /// A follower adopts a list the leader signed: it must verify with `pinnedSigner`,
    /// carry a higher sequence than the newest stored list, and name exactly the domains
    /// and agreements that this log's own state yields — so a follower never serves a
    /// list its verified log does not support.
    /// - Returns: false when `der` is the newest stored list already.
    /// - Throws: `RegistryError(.trustListRefused)` with the reason.
    @discardableResult
    public func mirror(_ der: Data, pinnedSigner: Certificate, at time: Date = Date()) throws -> Bool {
        func refuse(_ text: String) -> RegistryError { RegistryError(.trustListRefused, "The leader's trust list \(text).") }
        let list: TrustList
        do { list = try TrustList.verify(der, pinnedSigner: pinnedSigner, at: time).list } catch let error as FederationError {
            throw refuse("does not verify: \(error.reason)")
        }
        return try Self.storage {
            try database.transaction { db in
                let latest = try Self.latestTrustList(in: db)
                if let latest, latest.bytes == der { return false }
                if let latest, list.sequence <= latest.sequence {
                    throw refuse("has sequence \(list.sequence), not above \(latest.sequence) already mirrored")
                }
                let state = try state()
                let expected = try state.trustList(sequence: list.sequence, issuedAt: list.issuedAt,
                                                   nextUpdate: list.nextUpdate, issuer: list.issuer)
                guard expected == list else {
                    throw refuse("\(list.sequence) does not match this follower's log at entry \(state.sequence)")
                }
                try Self.insert(IssuedTrustList(sequence: list.sequence, logHead: state.sequence, issuedAt: list.issuedAt,
                                                bytes: der), into: db)
                logger.info("registry.trust-list.mirrored", ["sequence": list.sequence, "head": state.sequence])
                return true
            }
        }
    }

    static func latestTrustList(in db: Database) throws -> IssuedTrustList? {
        guard let row = try db.queryOne(
            "SELECT sequence, log_head, issued_at, bytes FROM trust_lists ORDER BY sequence DESC LIMIT 1") else { return nil }
        return IssuedTrustList(sequence: UInt64(try row.int(0)), logHead: UInt64(try row.int(1)),
                               issuedAt: Date(timeIntervalSince1970: try row.double(2)), bytes: try row.data(3))
    }

    static func insert(_ list: IssuedTrustList, into db: Database) throws {
        guard list.sequence <= UInt64(Int64.max), list.logHead <= UInt64(Int64.max) else {
            throw RegistryError(.trustListRefused, "The trust list's sequence is beyond what the database can hold.")
        }
        try db.execute("INSERT INTO trust_lists (sequence, log_head, issued_at, bytes) VALUES (?, ?, ?, ?)",
                       [.integer(Int64(list.sequence)), .integer(Int64(list.logHead)),
                        .real(list.issuedAt.timeIntervalSince1970), .blob(list.bytes)])
    }
}
