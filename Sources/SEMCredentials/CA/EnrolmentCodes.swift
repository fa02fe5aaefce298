// One-time enrolment codes.
//
// An administrator creates a code for a user (`semctl user add`); the user presents it
// once to obtain a signing certificate and once to obtain an encryption certificate
// (two EST requests). A code expires, and each of its two uses can happen only once.
// Only a SHA-256 digest of the code is stored, bound to the address, and digests are
// compared in constant time.
//
// How the code travels: as the password of HTTP Basic authentication on the EST
// request, with the address as the user name (RFC 7030 §3.2.3), inside TLS.
public import Foundation
public import SEMCrypto
import SEMStorage

public enum EnrolmentCode {
    /// 20 characters from the RFC 4648 base32 alphabet (100 bits), shown in groups of five.
    public static func generate() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let bytes = Array(SecureRandom.bytes(20))
        let characters = bytes.map { alphabet[Int($0 & 0x1F)] }
        return stride(from: 0, to: 20, by: 5).map { String(characters[$0..<($0 + 5)]) }.joined(separator: "-")
    }

    /// Upper-cases and strips separators and spaces, so a code read over the phone works.
    static func normalise(_ code: String) -> String {
        code.uppercased().filter { $0.isLetter || $0.isNumber }
    }

    static func digest(address: String, code: String) -> Data {
        Digest.sha256(Data(address.utf8) + Data([0]) + Data(normalise(code).utf8))
    }
}

extension CAStore {
    /// Creates a code for `address`, stores its digest and returns the code itself,
    /// which is shown once and never stored.
    public func issueEnrolmentCode(for address: String, validFor lifetime: TimeInterval, at time: Date) throws -> String {
        guard try assurance(of: address) != nil else {
            throw CredentialsError(.unknownUser, "There is no user \(address).")
        }
        let code = EnrolmentCode.generate()
        try database.execute("INSERT INTO enrolment_codes (address, code_digest, expires_at) VALUES (?, ?, ?)",
                             [.text(address), .blob(EnrolmentCode.digest(address: address, code: code)),
                              .integer(Int64(time.addingTimeInterval(lifetime).timeIntervalSince1970))])
        return code
    }

    /// Checks `code` for `address` and marks its use for `kind`. Call inside the
    /// transaction that records the certificate, so a failure leaves the code unused.
    public func redeemEnrolmentCode(_ code: Secret, address: String, kind: CertificateKind, at time: Date) throws {
        guard kind != .server else { throw CredentialsError(.requestInvalid, "Codes enrol users, not servers.") }
        let presented = EnrolmentCode.digest(address: address, code: String(decoding: code.bytes, as: UTF8.self))
        let candidates = try database.query(
            "SELECT id, code_digest, expires_at, signing_used_at, encryption_used_at FROM enrolment_codes WHERE address = ?",
            [.text(address)])
        guard let match = try candidates.first(where: { ConstantTime.equals(try $0.data(1), presented) }) else {
            throw CredentialsError(.enrolmentCodeInvalid, "The enrolment code is not valid for \(address).")
        }
        guard TimeInterval(try match.int(2)) > time.timeIntervalSince1970 else {
            throw CredentialsError(.enrolmentCodeExpired, "The enrolment code has expired; ask for a new one.")
        }
        let column = kind == .signing ? "signing_used_at" : "encryption_used_at"
        guard try match.optionalInt(kind == .signing ? 3 : 4) == nil else {
            throw CredentialsError(.enrolmentCodeUsed,
                                   "The enrolment code was already used for a \(kind.rawValue) certificate.")
        }
        try database.execute("UPDATE enrolment_codes SET \(column) = ? WHERE id = ?",
                             [.integer(Int64(time.timeIntervalSince1970)), .integer(try match.int(0))])
    }
}
