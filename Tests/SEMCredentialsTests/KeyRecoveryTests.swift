import Foundation
import SEMCredentials
import SEMCrypto
import SEMStorage
import SEMTestSupport
import Testing

@Suite("Key recovery and its audit log")
struct KeyRecoveryTests {
    /// A CA with a key store for request keys and three enrolled officers.
    struct Fixture {
        let ca: CAFixture
        let scratch: ScratchDirectory
        let recovery: KeyRecovery
        let officers: [CertifiedKey]

        init() throws {
            let ca = try CAFixture()
            self.ca = ca
            scratch = try ScratchDirectory()
            let keyStore = try EncryptedKeyFileStore(directory: scratch.url.appendingPathComponent("keys"),
                                                     passphrase: Secret("domain secret"), iterations: 10_000)
            recovery = KeyRecovery(ca: ca.ca, keyStore: keyStore)
            officers = try ["ann", "ben", "cat"].map { name in
                let address = "\(name)@alpha.test"
                let enrolled = try ca.enrolBoth(address, code: try ca.ca.addUser(address, assurance: .high))
                return try CertifiedKey(certificate: enrolled.encryption, key: enrolled.encryptionKey)
            }
        }

        var administrator: Certificate { ca.pki.administrator.certificate }
    }

    @Test("archived keys, before and after the split, open only with the rebuilt recovery key and M approvals")
    func thresholdRecovery() throws {
        let fixture = try Fixture()
        let store = fixture.ca.ca.store
        let before = try fixture.ca.enrolBoth("alice@alpha.test", code: try fixture.ca.ca.addUser("alice@alpha.test",
                                                                                                 assurance: .substantial))
        try fixture.recovery.setOfficers(fixture.officers.map(\.certificate), threshold: 2, actor: fixture.administrator)
        let second = try fixture.ca.ca.newEnrolmentCode(for: "alice@alpha.test")
        let afterKey = try PrivateKey.generate(.ecP256)
        let after = try fixture.ca.ca.enrol(address: "alice@alpha.test", code: Secret(second),
                                            request: try fixture.ca.request("alice@alpha.test", key: afterKey),
                                            kind: .encryption, archivedKey: try fixture.ca.archive(afterKey))

        // Neither stored envelope opens with the key-archive key any more.
        let archive = fixture.ca.pki.identity.keyArchive
        let stored = try store.archivedKeys(of: "alice@alpha.test")
        #expect(stored.count == 2)
        for (_, envelope) in stored {
            #expect(throws: CryptoError.self) {
                try CMSEnvelope.decrypt(envelope, key: archive.key, certificate: archive.certificate)
            }
        }
        #expect(try store.archivedKeys(recipient: ArchiveRecipient.keyArchive).isEmpty)

        let request = try fixture.recovery.openRequest(user: "alice@alpha.test", reason: "left", requester: fixture.administrator)
        try fixture.recovery.approve(request.id, officerKey: fixture.officers[2], notification: nil, detail: nil)
        #expect(throws: CredentialsError(.recoveryIncomplete, "")) {
            try fixture.recovery.recoverKeys(request.id, actor: fixture.administrator)
        }
        #expect(throws: CredentialsError(.recoveryRefused, "")) {
            try fixture.recovery.approve(request.id, officerKey: fixture.officers[2], notification: nil, detail: nil)
        }
        // A certificate that is not an officer's contributes nothing.
        #expect(throws: CredentialsError(.recoveryOfficerUnknown, "")) {
            try fixture.recovery.approve(request.id, officerKey: try CertifiedKey(certificate: after, key: afterKey),
                                         notification: nil, detail: nil)
        }
        try fixture.recovery.approve(request.id, officerKey: fixture.officers[0], notification: "told", detail: nil)
        let keys = try fixture.recovery.recoverKeys(request.id, actor: fixture.administrator)
        #expect(keys.count == 2)
        #expect(keys[0].key.matches(before.encryption.publicKey))
        #expect(keys[1].key.matches(after.publicKey))
        try fixture.recovery.finish(request.id, actor: fixture.administrator, detail: "test export")
        // Closed: no second use of the approvals.
        #expect(throws: CredentialsError(.recoveryRequestNotFound, "")) {
            try fixture.recovery.recoverKeys(request.id, actor: fixture.administrator)
        }

        let actions = try fixture.recovery.audit.records().map(\.action)
        #expect(actions == ["officers-set", "request", "approval", "refusal", "approval", "export"])
        #expect(try fixture.recovery.audit.records().last?.detail?.contains("notify-subject: alice@alpha.test is to be told: told")
                == true)
        #expect(try fixture.recovery.audit.verify(signer: fixture.ca.pki.identity.issuer.certificate.publicKey)
                == .valid(records: 6, head: Digest.sha256(try Self.recordBytes(store, 6)).hexString))
    }

    @Test("officer sets are refused: duplicates, impossible thresholds, certificates of no use, a second set")
    func officerRefusals() throws {
        let fixture = try Fixture()
        let certificates = fixture.officers.map(\.certificate)
        let admin = fixture.administrator
        #expect(throws: CredentialsError(.requestInvalid, "")) {
            try fixture.recovery.setOfficers([certificates[0], certificates[0]], threshold: 1, actor: admin)
        }
        #expect(throws: CredentialsError(.requestInvalid, "")) {
            try fixture.recovery.setOfficers(certificates, threshold: 4, actor: admin)
        }
        #expect(throws: CredentialsError(.requestInvalid, "")) {
            try fixture.recovery.setOfficers(certificates, threshold: 0, actor: admin)
        }
        // A certificate from another domain's CA is not an officer of this one.
        let stranger = try DomainPKI.create(domain: "beta.test").identity.keyArchive.certificate
        #expect(throws: CredentialsError(.requestInvalid, "")) {
            try fixture.recovery.setOfficers([stranger], threshold: 1, actor: admin)
        }
        #expect(throws: CredentialsError(.recoveryNotConfigured, "")) {
            try fixture.recovery.openRequest(user: "ann@alpha.test", reason: "x", requester: admin)
        }
        try fixture.recovery.setOfficers(certificates, threshold: 3, actor: admin)
        #expect(throws: CredentialsError(.configurationInvalid, "")) {
            try fixture.recovery.setOfficers(certificates, threshold: 2, actor: admin)
        }
    }

    @Test("the audit chain finds an altered record, a removed one, a reordered one and a foreign signer")
    func auditChain() throws {
        let ca = try CAFixture()
        let store = ca.ca.store
        let log = AuditLog(store: store)
        let signer = ca.pki.identity.issuer
        let actor = ca.pki.administrator.certificate
        for step in 1...4 {
            try log.append(action: "request", actor: actor, request: "r\(step)", user: "alice@alpha.test",
                           reason: "step \(step)", signer: signer.key)
        }
        let records = try log.records()
        #expect(records.map(\.sequence) == [1, 2, 3, 4])
        #expect(records[0].previous == AuditRecord.firstPrevious)
        #expect(records[1].previous == Digest.sha256(try Self.recordBytes(store, 1)).hexString)
        guard case .valid(4, _) = try log.verify(signer: signer.certificate.publicKey) else {
            Issue.record("a fresh chain must verify")
            return
        }
        // Signed by someone else: the first record already fails.
        #expect(try log.verify(signer: ca.pki.identity.ocspResponder.certificate.publicKey)
                == .broken(sequence: 1, reason: "the CA's signature does not match the record"))

        // An altered reason.
        let original = try Self.recordBytes(store, 2)
        let altered = Data(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "step 2", with: "step 9").utf8)
        try store.database.execute("UPDATE audit_log SET record = ? WHERE sequence = 2", [.blob(altered)])
        #expect(try log.verify(signer: signer.certificate.publicKey)
                == .broken(sequence: 2, reason: "the CA's signature does not match the record"))
        try store.database.execute("UPDATE audit_log SET record = ? WHERE sequence = 2", [.blob(original)])

        // Records 2 and 3 swapped (each keeps its valid signature).
        let third = try store.database.queryOne("SELECT record, signature FROM audit_log WHERE sequence = 3")!
        let second = try store.database.queryOne("SELECT record, signature FROM audit_log WHERE sequence = 2")!
        try store.database.execute("UPDATE audit_log SET record = ?, signature = ? WHERE sequence = 2",
                                   [.blob(try third.data(0)), .blob(try third.data(1))])
        try store.database.execute("UPDATE audit_log SET record = ?, signature = ? WHERE sequence = 3",
                                   [.blob(try second.data(0)), .blob(try second.data(1))])
        #expect(try log.verify(signer: signer.certificate.publicKey)
                == .broken(sequence: 2, reason: "the record says it is number 3"))
        try store.database.execute("UPDATE audit_log SET record = ?, signature = ? WHERE sequence = 2",
                                   [.blob(try second.data(0)), .blob(try second.data(1))])
        try store.database.execute("UPDATE audit_log SET record = ?, signature = ? WHERE sequence = 3",
                                   [.blob(try third.data(0)), .blob(try third.data(1))])

        // A removed record.
        try store.database.execute("DELETE FROM audit_log WHERE sequence = 3")
        #expect(try log.verify(signer: signer.certificate.publicKey)
                == .broken(sequence: 3, reason: "record 3 is missing (the next one is 4)"))
    }

    static func recordBytes(_ store: CAStore, _ sequence: Int64) throws -> Data {
        try store.database.queryOne("SELECT record FROM audit_log WHERE sequence = ?", [.integer(sequence)])!.data(0)
    }
}
