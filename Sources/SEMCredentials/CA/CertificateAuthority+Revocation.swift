// Revocation: marking certificates revoked, the CRL at the distribution point, and OCSP
// answers from the delegated responder (RFC 5280 §5, RFC 6960).
public import Foundation
public import SEMCrypto

extension CertificateAuthority {
    /// Revokes one certificate by serial number (hex).
    public func revoke(serialHex: String, reason: RevocationReason, at time: Date = Date()) throws {
        try store.revoke(serialHex: serialHex, reason: reason.rawValue, at: time)
        logger.notice("certificate.revoked", ["serial": serialHex.lowercased(), "reason": reason])
    }

    /// Revokes every unrevoked certificate of `address`; returns their serials.
    @discardableResult
    public func revokeAll(of address: String, reason: RevocationReason, at time: Date = Date()) throws -> [String] {
        let current = try store.certificates(of: address).filter { $0.revokedAt == nil }
        guard !current.isEmpty else {
            throw CredentialsError(.certificateNotFound, "\(address) holds no unrevoked certificate.")
        }
        try store.database.transaction { _ in
            for certificate in current {
                try store.revoke(serialHex: certificate.serialHex, reason: reason.rawValue, at: time)
            }
        }
        for certificate in current {
            logger.notice("certificate.revoked", ["serial": certificate.serialHex, "address": address, "reason": reason])
        }
        return current.map(\.serialHex)
    }

    /// A freshly signed CRL listing every revoked, unexpired certificate (RFC 5280 §5.1),
    /// with the next CRL number and nextUpdate after the configured lifetime.
    public func issueCRL(at time: Date = Date()) throws -> CertificateRevocationList {
        let entries = try store.revokedCertificates(notExpiredAt: time).compactMap { issued -> RevokedEntry? in
            guard let revokedAt = issued.revokedAt, let serial = Data(hexString: issued.serialHex) else { return nil }
            return RevokedEntry(serialNumber: serial, revocationDate: revokedAt,
                                reason: RevocationReason(rawValue: issued.revocationReason ?? 0) ?? .unspecified)
        }
        return try CertificateRevocationList.issue(
            issuer: identity.issuer.certificate, key: identity.issuer.key, thisUpdate: time,
            nextUpdate: time.addingTimeInterval(revocationInformationLifetime), crlNumber: try store.nextCRLNumber(),
            revoked: entries)
    }

    /// Answers a DER OCSP request. Malformed requests get a malformedRequest response
    /// and failures an internalError one (RFC 6960 §4.2.1), never a thrown error, since
    /// the bytes go straight back to the requester.
    public func answerOCSP(_ requestDER: Data, at time: Date = Date()) -> Data {
        let request: OCSPRequest
        do { request = try OCSPRequest(derEncoded: requestDER) } catch {
            logger.info("ocsp.malformed", ["bytes": requestDER.count])
            return (try? OCSPResponse.error(.malformedRequest).derEncoded) ?? Data()
        }
        do {
            let response = try OCSPResponse.signed(
                answering: request, responderCertificate: identity.ocspResponder.certificate,
                responderKey: identity.ocspResponder.key, thisUpdate: time,
                nextUpdate: time.addingTimeInterval(revocationInformationLifetime)) { certID in
                    try self.status(of: certID)
                }
            return response.derEncoded
        } catch {
            logger.error("ocsp.failed", ["error": "\(error)"])
            return (try? OCSPResponse.error(.internalError).derEncoded) ?? Data()
        }
    }

    /// Good, revoked or unknown for one CertID: unknown unless this CA issued it.
    private func status(of certID: OCSPCertID) throws -> OCSPCertStatus {
        guard certID.isIssued(by: identity.issuer.certificate),
              let issued = try store.certificate(serialHex: certID.serialNumber.hexString) else {
            return .unknown
        }
        if let revokedAt = issued.revokedAt {
            return .revoked(date: revokedAt,
                            reason: RevocationReason(rawValue: issued.revocationReason ?? 0) ?? .unspecified)
        }
        return .good
    }
}

/// A user's current certificates, as the directory hands them out.
public struct DirectoryEntry: Sendable {
    public let address: String
    public let signing: Certificate
    public let encryption: Certificate
    /// Issuing CA and root.
    public let chain: [Certificate]
}

extension CertificateAuthority {
    /// The newest unrevoked, unexpired signing and encryption certificates of `address`.
    public func directoryEntry(for address: String, at time: Date = Date()) throws -> DirectoryEntry {
        func current(_ kind: CertificateKind) throws -> Certificate {
            guard let issued = try store.certificates(of: address, kind: kind)
                .first(where: { $0.revokedAt == nil && $0.notAfter > time }) else {
                throw CredentialsError(.certificateNotFound, "\(address) has no current \(kind.rawValue) certificate.")
            }
            return try Certificate(derEncoded: issued.der)
        }
        return DirectoryEntry(address: address, signing: try current(.signing), encryption: try current(.encryption),
                              chain: identity.chain)
    }
}
