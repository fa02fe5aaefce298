// The CA database's recovery tables: the recovery certificate with the threshold, one
// row per officer with the officer's share enveloped to the officer's certificate, and
// recovery requests with the approvals given so far. No row holds a share or a key in
// the clear.
public import Foundation
public import SEMCrypto
import SEMStorage

/// The officers and the threshold `semctl recovery officers set` recorded.
public struct RecoveryConfiguration: Sendable {
    public let threshold: Int
    /// The certificate archived keys are enveloped to once officers are set.
    public let certificate: Certificate
    public let officers: [RecoveryOfficer]
}

/// One officer: the certificate, the x coordinate of the share, and the share as CMS
/// enveloped to that certificate.
public struct RecoveryOfficer: Sendable {
    public let certificate: Certificate
    public let x: Int
    public let shareEnvelope: Data

    public var fingerprint: String { certificate.fingerprint }
}

/// An open, refused or completed recovery request.
public struct RecoveryRequest: Sendable {
    public enum State: String, Sendable { case open, exported }

    public let id: String
    /// The user whose archived keys are to be recovered.
    public let address: String
    public let reason: String
    /// Fingerprint of the requester's certificate.
    public let requester: String
    /// The certificate approvals envelope their shares to; its key is in the domain's key store.
    public let certificate: Certificate
    public let state: State
    /// Set when the policy's decision obliges the domain to tell the user.
    public let notification: String?
    public let createdAt: Date
}

extension CAStore {
    /// The recovery certificate, once officers are set.
    public func recoveryCertificate() throws -> Certificate? {
        try database.queryOne("SELECT certificate FROM recovery_configuration WHERE id = 1")
            .map { try Certificate(derEncoded: try $0.data(0)) }
    }

    public func recoveryConfiguration() throws -> RecoveryConfiguration? {
        guard let row = try database.queryOne("SELECT threshold, certificate FROM recovery_configuration WHERE id = 1") else {
            return nil
        }
        let officers = try database.query("SELECT certificate, x, share_envelope FROM recovery_officers ORDER BY x").map {
            RecoveryOfficer(certificate: try Certificate(derEncoded: try $0.data(0)), x: Int(try $0.int(1)),
                            shareEnvelope: try $0.data(2))
        }
        return RecoveryConfiguration(threshold: Int(try row.int(0)), certificate: try Certificate(derEncoded: try row.data(1)),
                                     officers: officers)
    }

    func saveRecoveryConfiguration(threshold: Int, certificate: Certificate, officers: [RecoveryOfficer],
                                   at time: Date) throws {
        try database.execute("INSERT INTO recovery_configuration (id, threshold, certificate, created_at) VALUES (1, ?, ?, ?)",
                             [.int(threshold), .blob(certificate.derEncoded), .integer(Int64(time.timeIntervalSince1970))])
        for officer in officers {
            try database.execute("INSERT INTO recovery_officers (fingerprint, certificate, x, share_envelope) VALUES (?, ?, ?, ?)",
                                 [.text(officer.fingerprint), .blob(officer.certificate.derEncoded), .int(officer.x),
                                  .blob(officer.shareEnvelope)])
        }
    }

    func insertRecoveryRequest(_ request: RecoveryRequest) throws {
        try database.execute("""
            INSERT INTO recovery_requests (id, address, reason, requester, certificate, state, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [.text(request.id), .text(request.address), .text(request.reason), .text(request.requester),
                  .blob(request.certificate.derEncoded), .text(request.state.rawValue),
                  .integer(Int64(request.createdAt.timeIntervalSince1970))])
    }

    public func recoveryRequest(id: String) throws -> RecoveryRequest? {
        guard let row = try database.queryOne("SELECT * FROM recovery_requests WHERE id = ?", [.text(id)]) else { return nil }
        return RecoveryRequest(
            id: try row.string("id"), address: try row.string("address"), reason: try row.string("reason"),
            requester: try row.string("requester"), certificate: try Certificate(derEncoded: try row.data("certificate")),
            state: RecoveryRequest.State(rawValue: try row.string("state")) ?? .exported,
            notification: try row.optionalString("notify"),
            createdAt: Date(timeIntervalSince1970: TimeInterval(try row.int("created_at"))))
    }

    /// The approvals of a request: officer fingerprint and the share enveloped to the
    /// request's certificate.
    public func recoveryApprovals(of id: String) throws -> [(officer: String, envelope: Data)] {
        try database.query("SELECT officer, share_envelope FROM recovery_approvals WHERE request_id = ? ORDER BY rowid",
                           [.text(id)]).map { (try $0.string(0), try $0.data(1)) }
    }

    func insertRecoveryApproval(id: String, officer: String, envelope: Data, notification: String?, at time: Date) throws {
        try database.execute("""
            INSERT INTO recovery_approvals (request_id, officer, share_envelope, approved_at) VALUES (?, ?, ?, ?)
            """, [.text(id), .text(officer), .blob(envelope), .integer(Int64(time.timeIntervalSince1970))])
        if let notification {
            try database.execute("UPDATE recovery_requests SET notify = ? WHERE id = ?", [.text(notification), .text(id)])
        }
    }

    /// Marks a request done and drops its approvals, which nothing can open any more.
    func closeRecoveryRequest(id: String) throws {
        try database.execute("DELETE FROM recovery_approvals WHERE request_id = ?", [.text(id)])
        try database.execute("UPDATE recovery_requests SET state = ? WHERE id = ?",
                             [.text(RecoveryRequest.State.exported.rawValue), .text(id)])
    }
}
