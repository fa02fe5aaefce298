// M-of-N recovery of archived encryption keys (docs/RECOVERY.md).
//
// Setting officers creates a recovery key pair in memory, certifies it from the issuing
// CA, splits its PKCS#8 encoding with Shamir's scheme and envelopes one share to each
// officer's certificate; the key itself is then dropped and exists nowhere whole. Every
// archived key is re-wrapped from the key-archive certificate to the recovery
// certificate, and enrolment does the same from then on, so the key-archive key is
// left as a transit key that checks a new envelope and opens nothing stored.
//
// A request gets its own key pair in the domain's key store and a short-lived
// certificate. An approving officer opens the officer's share with the officer's own key
// and envelopes it to the request certificate; shares are in the clear only in the
// memory of `approve` and `export`. Export needs `threshold` approvals, rebuilds the
// recovery key, opens the user's archived keys, and then deletes the request key, after
// which the stored approvals open for nobody.
public import Foundation
public import SEMCrypto

public final class KeyRecovery: Sendable {
    public let ca: CertificateAuthority
    let keyStore: any KeyStore
    public let audit: AuditLog

    /// Address written into the recovery and request certificates.
    public var recoveryAddress: String { "key-recovery@\(ca.identity.domain)" }
    /// How long a request's certificate (and so the request) stays usable.
    public static let requestLifetime: TimeInterval = 30 * 86400

    public init(ca: CertificateAuthority, keyStore: any KeyStore) {
        self.ca = ca
        self.keyStore = keyStore
        self.audit = AuditLog(store: ca.store)
    }

    var signer: PrivateKey { ca.identity.issuer.key }
    var store: CAStore { ca.store }

    /// Key-store label of a request's key.
    static func requestKeyLabel(_ id: String) -> String { "recovery-request-\(id)" }

    // MARK: Officers

    /// Splits a new recovery key among `officers` (threshold of them recover), re-wraps
    /// every archived key to it and records the step. Officers' certificates must be
    /// valid encryption certificates of this domain, each given once. Setting officers a
    /// second time is refused: the recovery key would first have to be rebuilt.
    @discardableResult
    public func setOfficers(_ officers: [Certificate], threshold: Int, actor: Certificate,
                            at time: Date = Date()) throws -> RecoveryConfiguration {
        guard try store.recoveryConfiguration() == nil else {
            throw CredentialsError(.configurationInvalid,
                                   "Recovery officers are already set; changing them needs the recovery key rebuilt, "
                                   + "which this version does not do.")
        }
        guard !officers.isEmpty, officers.count <= 255, (1...officers.count).contains(threshold) else {
            throw CredentialsError(.requestInvalid,
                                   "Give 1 to 255 officer certificates and a threshold from 1 to their number "
                                   + "(got \(officers.count) and \(threshold)).")
        }
        guard Set(officers.map(\.fingerprint)).count == officers.count else {
            throw CredentialsError(.requestInvalid, "An officer certificate is given twice.")
        }
        let validator = ca.localValidator
        for officer in officers {
            if case .invalid(let failure) = validator.validate(officer, policy: ValidationPolicy(purpose: .emailEncryption,
                                                                                                   time: time)) {
                throw CredentialsError(.requestInvalid, "The certificate of \(officer.subject) is not a valid encryption "
                                       + "certificate of \(ca.identity.domain): \(failure)")
            }
        }

        let recoveryKey = try PrivateKey.generate(.ecP256)
        let certificate = try ca.identity.issuer.issue(.userEncryption, CertificateParameters(
            subject: DistinguishedName([("O", ca.identity.domain), ("CN", "\(ca.identity.domain) Key Recovery")]),
            publicKey: recoveryKey.publicKey, notBefore: time.addingTimeInterval(-300),
            notAfter: ca.identity.issuer.certificate.notAfter, emailAddresses: [recoveryAddress],
            crlDistributionPoint: ca.crlURL, ocspResponderURL: ca.ocspURL))
        var encoded = try recoveryKey.pkcs8DER()
        var shares = try ShamirSecretSharing.split(encoded, threshold: threshold, count: officers.count)
        encoded.wipe()
        defer { for index in shares.indices { shares[index].wipe() } }
        var records: [RecoveryOfficer] = []
        for (officer, share) in zip(officers, shares) {
            var plain = share.encoded
            defer { plain.wipe() }
            records.append(RecoveryOfficer(certificate: officer, x: Int(share.x),
                                           shareEnvelope: try CMSEnvelope.encrypt(plain, for: [officer])))
        }
        try store.database.transaction { _ in
            try store.saveRecoveryConfiguration(threshold: threshold, certificate: certificate, officers: records, at: time)
            try ca.recordCertificate(certificate, address: recoveryAddress, kind: .encryption, at: time)
            var rewrapped = 0
            for (serial, envelope) in try store.archivedKeys(recipient: ArchiveRecipient.keyArchive) {
                try store.rewrapArchivedKey(serialHex: serial, envelope: try ca.rewrap(envelope, to: certificate),
                                            recipient: ArchiveRecipient.keyRecovery)
                rewrapped += 1
            }
            try audit.append(action: "officers-set", actor: actor,
                             detail: "threshold \(threshold) of \(officers.count): "
                                + officers.map(\.fingerprint).joined(separator: ", ")
                                + "; \(rewrapped) archived keys re-wrapped", signer: signer, at: time)
        }
        return try store.recoveryConfiguration()!
    }

    // MARK: Requests

    /// Opens a request to recover the keys of `address`; the requester is recorded by
    /// certificate. Refused when officers are not set or the user has no archived key.
    public func openRequest(user address: String, reason: String, requester: Certificate,
                            at time: Date = Date()) throws -> RecoveryRequest {
        try ca.checkLocal(address)
        guard try store.recoveryConfiguration() != nil else {
            throw CredentialsError(.recoveryNotConfigured, "No recovery officers are set; run 'semctl recovery officers set'.")
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 1000 else {
            throw CredentialsError(.requestInvalid, "A recovery request needs a reason of 1 to 1000 bytes.")
        }
        guard !(try store.archivedKeys(of: address)).isEmpty else {
            throw CredentialsError(.unknownUser, "\(address) has no archived encryption key to recover.")
        }
        let id = SecureRandom.identifier(bytes: 8)
        let key = try keyStore.generateKey(label: Self.requestKeyLabel(id), algorithm: .ecP256)
        let certificate = try ca.identity.issuer.issue(.userEncryption, CertificateParameters(
            subject: DistinguishedName([("O", ca.identity.domain), ("CN", "Key recovery request \(id)")]),
            publicKey: key.publicKey, notBefore: time.addingTimeInterval(-300),
            notAfter: min(time.addingTimeInterval(Self.requestLifetime), ca.identity.issuer.certificate.notAfter),
            emailAddresses: [recoveryAddress]))
        let request = RecoveryRequest(id: id, address: address, reason: trimmed, requester: requester.fingerprint,
                                      certificate: certificate, state: .open, notification: nil, createdAt: time)
        do {
            try store.database.transaction { _ in
                try store.insertRecoveryRequest(request)
                try audit.append(action: "request", actor: requester, request: id, user: address, reason: trimmed,
                                 signer: signer, at: time)
            }
        } catch {
            try? keyStore.deleteKey(label: Self.requestKeyLabel(id))
            throw error
        }
        return request
    }

    /// The open request `id`; refuses an unknown or finished one.
    public func openRequest(_ id: String) throws -> RecoveryRequest {
        guard let request = try store.recoveryRequest(id: id) else {
            throw CredentialsError(.recoveryRequestNotFound, "There is no recovery request \(id).")
        }
        guard request.state == .open else {
            throw CredentialsError(.recoveryRequestNotFound, "The recovery request \(id) is already \(request.state.rawValue).")
        }
        return request
    }

    /// The configured officer with `certificate`, or `.recoveryOfficerUnknown`.
    public func officer(_ certificate: Certificate) throws -> RecoveryOfficer {
        guard let configuration = try store.recoveryConfiguration() else {
            throw CredentialsError(.recoveryNotConfigured, "No recovery officers are set.")
        }
        guard let officer = configuration.officers.first(where: { $0.certificate == certificate }) else {
            throw CredentialsError(.recoveryOfficerUnknown, "\(certificate.subject) is not a recovery officer of this domain.")
        }
        return officer
    }

    // MARK: Approvals

    /// An officer's approval: the share is opened with `officerKey` and re-enveloped to
    /// the request's certificate. `notification`, when the policy obliges the domain to
    /// tell the user, is kept with the request. Returns the approvals so far and the
    /// threshold.
    @discardableResult
    public func approve(_ id: String, officerKey: CertifiedKey, notification: String?, detail: String?,
                        at time: Date = Date()) throws -> (approvals: Int, threshold: Int) {
        let request = try openRequest(id)
        let officer = try officer(officerKey.certificate)
        guard let configuration = try store.recoveryConfiguration() else {
            throw CredentialsError(.recoveryNotConfigured, "No recovery officers are set.")
        }
        guard !(try store.recoveryApprovals(of: id)).contains(where: { $0.officer == officer.fingerprint }) else {
            throw CredentialsError(.recoveryRefused, "This officer has already approved request \(id).")
        }
        guard request.certificate.isValid(at: time) else {
            throw CredentialsError(.recoveryRefused, "The recovery request \(id) has expired; open a new one.")
        }
        var opened: Data
        do {
            opened = try CMSEnvelope.decrypt(officer.shareEnvelope, key: officerKey.key,
                                             certificate: officerKey.certificate).content
        } catch {
            try recordRefusal(id, actor: officer.certificate, user: request.address,
                              reason: "the officer's share did not open with the key presented", at: time)
            throw CredentialsError(.recoveryRefused, "The officer's share could not be opened with this key: \(error)")
        }
        defer { opened.wipe() }
        guard let share = try? SecretShare(encoded: opened), Int(share.x) == officer.x else {
            throw CredentialsError(.recoveryRefused, "The officer's share is not the one recorded for this officer.")
        }
        let envelope = try CMSEnvelope.encrypt(opened, for: [request.certificate])
        return try store.database.transaction { _ in
            try store.insertRecoveryApproval(id: id, officer: officer.fingerprint, envelope: envelope,
                                             notification: notification, at: time)
            let count = try store.recoveryApprovals(of: id).count
            try audit.append(action: "approval", actor: officer.certificate, request: id, user: request.address,
                             reason: request.reason,
                             detail: ["approval \(count) of \(configuration.threshold)", detail].compactMap { $0 }
                                .joined(separator: "; "), signer: signer, at: time)
            return (count, configuration.threshold)
        }
    }

    /// Records a refusal (the policy said no, or too few approvals) in the audit log.
    public func recordRefusal(_ id: String, actor: Certificate, user: String?, reason: String,
                              at time: Date = Date()) throws {
        try audit.append(action: "refusal", actor: actor, request: id, user: user, reason: reason, signer: signer, at: time)
    }

    // MARK: Recovery

    /// The user's archived encryption keys, each with its certificate, recovered with the
    /// request's approvals. With fewer than the threshold the refusal is recorded and
    /// `.recoveryIncomplete` thrown; nothing is opened.
    public func recoverKeys(_ id: String, actor: Certificate, at time: Date = Date()) throws -> [CertifiedKey] {
        let request = try openRequest(id)
        guard let configuration = try store.recoveryConfiguration() else {
            throw CredentialsError(.recoveryNotConfigured, "No recovery officers are set.")
        }
        let approvals = try store.recoveryApprovals(of: id)
        guard approvals.count >= configuration.threshold else {
            let reason = "export needs \(configuration.threshold) approvals; request \(id) has \(approvals.count)"
            try recordRefusal(id, actor: actor, user: request.address, reason: reason, at: time)
            throw CredentialsError(.recoveryIncomplete, "Refused: \(reason). Nothing was recovered.")
        }
        let requestKey = try keyStore.privateKey(label: Self.requestKeyLabel(id))
        var shares: [SecretShare] = []
        defer { for index in shares.indices { shares[index].wipe() } }
        for approval in approvals.prefix(configuration.threshold) {
            var opened = try CMSEnvelope.decrypt(approval.envelope, key: requestKey, certificate: request.certificate).content
            shares.append(try SecretShare(encoded: opened))
            opened.wipe()
        }
        var encoded = try ShamirSecretSharing.combine(shares)
        defer { encoded.wipe() }
        guard let recoveryKey = try? PrivateKey(derEncoded: encoded), recoveryKey.matches(configuration.certificate.publicKey)
        else {
            let reason = "the approved shares do not rebuild the recovery key"
            try recordRefusal(id, actor: actor, user: request.address, reason: reason, at: time)
            throw CredentialsError(.recoveryRefused, "Refused: \(reason).")
        }
        var keys: [CertifiedKey] = []
        for (serial, envelope) in try store.archivedKeys(of: request.address) {
            guard let issued = try store.certificate(serialHex: serial) else { continue }
            var opened = try CMSEnvelope.decrypt(envelope, key: recoveryKey, certificate: configuration.certificate).content
            defer { opened.wipe() }
            keys.append(try CertifiedKey(certificate: try Certificate(derEncoded: issued.der),
                                         key: try PrivateKey(derEncoded: opened)))
        }
        return keys
    }

    /// Closes a request after its export: the export is recorded (with whom the policy
    /// says to tell), the approvals are dropped and the request key deleted.
    public func finish(_ id: String, actor: Certificate, detail: String, at time: Date = Date()) throws {
        let request = try openRequest(id)
        try store.database.transaction { _ in
            try store.closeRecoveryRequest(id: id)
            let notice = request.notification.map { "; notify-subject: \(request.address) is to be told: \($0)" } ?? ""
            try audit.append(action: "export", actor: actor, request: id, user: request.address, reason: request.reason,
                             detail: detail + notice, signer: signer, at: time)
        }
        try keyStore.deleteKey(label: Self.requestKeyLabel(id))
    }
}
