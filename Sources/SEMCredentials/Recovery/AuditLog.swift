// The recovery audit log: an append-only chain of records in the CA database, each
// naming the hash of the one before it and signed by the issuing CA. Whoever can write
// the database can still delete or change rows, but not without `semctl audit verify`
// noticing: a changed record no longer matches its signature, a removed or reordered
// one breaks the sequence and the hash links, and forging a record needs the CA's key.
//
// Known limit: cutting records off the end leaves a shorter chain that still verifies.
// The head hash that verification prints is what an auditor writes down (or sends
// elsewhere) to notice that later.
public import Foundation
public import SEMCrypto
import SEMStorage

/// One step of key recovery as the audit log keeps it.
public struct AuditRecord: Codable, Sendable, Equatable {
    /// 1 for the first record, then one more for each.
    public let sequence: Int64
    public let time: Date
    /// SHA-256 fingerprint of the certificate of whoever acted.
    public let actor: String
    /// `officers-set`, `request`, `approval`, `refusal` or `export`.
    public let action: String
    public let request: String?
    /// The user whose key is concerned.
    public let user: String?
    public let reason: String?
    /// What else happened: the decision's obligations, counts, who is to be told.
    public let detail: String?
    /// Hex SHA-256 of the previous record's bytes; 64 zeros for the first record.
    public let previous: String

    public static let firstPrevious = String(repeating: "0", count: 64)
}

/// The outcome of checking the whole chain.
public enum AuditVerification: Sendable, Equatable {
    /// Every record verified; `head` is the hex SHA-256 of the last record.
    case valid(records: Int, head: String)
    /// The chain is broken at `sequence`.
    case broken(sequence: Int64, reason: String)
}

public struct AuditLog: Sendable {
    let database: Database

    public init(store: CAStore) { database = store.database }

    /// Appends a record signed with `signer` (the issuing CA's key) and returns it.
    @discardableResult
    public func append(action: String, actor: Certificate, request: String? = nil, user: String? = nil,
                       reason: String? = nil, detail: String? = nil, signer: PrivateKey,
                       at time: Date = Date()) throws -> AuditRecord {
        try database.transaction { db in
            let last = try db.queryOne("SELECT sequence, record FROM audit_log ORDER BY sequence DESC LIMIT 1")
            let sequence = try (last?.int(0) ?? 0) + 1
            let previous = try last.map { Digest.sha256(try $0.data(1)).hexString } ?? AuditRecord.firstPrevious
            // Whole seconds, so that the record reads back exactly as it was written.
            let record = AuditRecord(sequence: sequence, time: Date(timeIntervalSince1970: time.timeIntervalSince1970.rounded(.down)),
                                     actor: actor.fingerprint, action: action, request: request, user: user,
                                     reason: reason, detail: detail, previous: previous)
            let bytes = try Self.encoder.encode(record)
            let signature = try signer.sign(bytes)
            try db.execute("INSERT INTO audit_log (sequence, record, signature) VALUES (?, ?, ?)",
                           [.integer(sequence), .blob(bytes), .blob(signature)])
            return record
        }
    }

    /// Every record in sequence order, as stored (unverified).
    public func records() throws -> [AuditRecord] {
        try database.query("SELECT record FROM audit_log ORDER BY sequence").map {
            try Self.decoder.decode(AuditRecord.self, from: try $0.data(0))
        }
    }

    /// Checks every record: it parses, its sequence follows the one before without a gap
    /// and matches its row, it names the previous record's hash, and `signer` (the
    /// issuing CA's public key) verifies its signature.
    public func verify(signer: PublicKey) throws -> AuditVerification {
        var expected: Int64 = 1
        var previous = AuditRecord.firstPrevious
        for row in try database.query("SELECT sequence, record, signature FROM audit_log ORDER BY sequence") {
            let sequence = try row.int(0), bytes = try row.data(1), signature = try row.data(2)
            guard sequence == expected else {
                return .broken(sequence: expected, reason: "record \(expected) is missing (the next one is \(sequence))")
            }
            guard signer.isValidSignature(signature, for: bytes) else {
                return .broken(sequence: sequence, reason: "the CA's signature does not match the record")
            }
            guard let record = try? Self.decoder.decode(AuditRecord.self, from: bytes) else {
                return .broken(sequence: sequence, reason: "the record is not readable")
            }
            guard record.sequence == sequence else {
                return .broken(sequence: sequence, reason: "the record says it is number \(record.sequence)")
            }
            guard record.previous == previous else {
                return .broken(sequence: sequence, reason: "the record does not name the hash of record \(sequence - 1)")
            }
            previous = Digest.sha256(bytes).hexString
            expected += 1
        }
        return .valid(records: Int(expected - 1), head: previous)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
