import Foundation
import SEMCredentials
import SEMCrypto
import SEMStorage
import SEMTestSupport
import Testing

/// A fresh alpha.test CA with an in-memory database.
struct CAFixture {
    static let domain = "alpha.test"
    let pki: DomainPKI
    let ca: CertificateAuthority
    let now = Date()

    init() throws {
        pki = try DomainPKI.create(domain: Self.domain)
        ca = CertificateAuthority(identity: pki.identity, store: try CAStore(database: try Database.inMemory()),
                                  crlURL: "http://ca.alpha.test/crl", ocspURL: "http://ca.alpha.test/ocsp")
    }

    func request(_ address: String, key: PrivateKey, emails: [String]? = nil) throws -> CertificateSigningRequest {
        try CertificateSigningRequest(subject: DistinguishedName([("CN", address)]), key: key,
                                      emailAddresses: emails ?? [address])
    }

    /// The private key as PKCS#8 DER, enveloped to the key-archive certificate.
    func archive(_ key: PrivateKey) throws -> Data {
        try CMSEnvelope.encrypt(try key.pkcs8DER(), for: [pki.identity.keyArchive.certificate])
    }

    /// Enrols both certificates of `address`; returns them with their keys.
    func enrolBoth(_ address: String, code: String) throws
        -> (signing: Certificate, encryption: Certificate, encryptionKey: PrivateKey) {
        let signingKey = try PrivateKey.generate(.ecP256)
        let encryptionKey = try PrivateKey.generate(.ecP256)
        let signing = try ca.enrol(address: address, code: Secret(code), request: try request(address, key: signingKey),
                                   kind: .signing)
        let encryption = try ca.enrol(address: address, code: Secret(code),
                                      request: try request(address, key: encryptionKey), kind: .encryption,
                                      archivedKey: try archive(encryptionKey))
        return (signing, encryption, encryptionKey)
    }
}

@Suite("Certificate authority")
struct CertificateAuthorityTests {
    @Test("a new user gets a one-time code; a second registration of the address is refused")
    func addUser() throws {
        let fixture = try CAFixture()
        let code = try fixture.ca.addUser("alice@alpha.test", assurance: .substantial)
        #expect(code.count == 23)
        #expect(code.split(separator: "-").count == 4)
        #expect(throws: CredentialsError(.userExists, "")) {
            try fixture.ca.addUser("alice@alpha.test", assurance: .low)
        }
        #expect(throws: CredentialsError(.invalidAddress, "")) {
            try fixture.ca.addUser("mallory@beta.test", assurance: .low)
        }
    }

    @Test("enrolment issues a signing and an encryption certificate with the assurance policy")
    func enrolBoth() throws {
        let fixture = try CAFixture()
        let code = try fixture.ca.addUser("alice@alpha.test", assurance: .high)
        let issued = try fixture.enrolBoth("alice@alpha.test", code: code)
        #expect(issued.signing.emailAddresses == ["alice@alpha.test"])
        #expect(issued.signing.keyUsage?.contains(.nonRepudiation) == true)
        #expect(issued.signing.extendedKeyUsage.contains(.emailProtection))
        #expect(issued.encryption.keyUsage?.contains(.keyAgreement) == true)
        #expect(issued.signing.policies == [AssuranceLevel.high.policyOID])
        #expect(AssuranceLevel(policies: issued.encryption.policies) == .high)
        #expect(issued.signing.crlDistributionPoints == ["http://ca.alpha.test/crl"])
        #expect(issued.signing.ocspResponderURLs == ["http://ca.alpha.test/ocsp"])
        let archived = try fixture.ca.store.archivedKeys(of: "alice@alpha.test")
        #expect(archived.map(\.serialHex) == [issued.encryption.serialNumberHex])
        // The archive holds ciphertext, which opens with the archive key to the user's key.
        let opened = try CMSEnvelope.decrypt(archived[0].envelope, key: fixture.pki.identity.keyArchive.key,
                                             certificate: fixture.pki.identity.keyArchive.certificate)
        #expect(try PrivateKey(derEncoded: opened.content).matches(issued.encryption.publicKey))
    }

    @Test("a code is good once per certificate kind; wrong and expired codes are refused")
    func codeRules() throws {
        let fixture = try CAFixture()
        let code = try fixture.ca.addUser("bob@alpha.test", assurance: .low)
        let key = try PrivateKey.generate(.ecP256)
        let request = try fixture.request("bob@alpha.test", key: key)
        #expect(throws: CredentialsError(.enrolmentCodeInvalid, "")) {
            try fixture.ca.enrol(address: "bob@alpha.test", code: Secret("AAAAA-BBBBB-CCCCC-DDDDD"), request: request,
                                 kind: .signing)
        }
        _ = try fixture.ca.enrol(address: "bob@alpha.test", code: Secret(code.lowercased()), request: request,
                                 kind: .signing)
        #expect(throws: CredentialsError(.enrolmentCodeUsed, "")) {
            try fixture.ca.enrol(address: "bob@alpha.test", code: Secret(code), request: request, kind: .signing)
        }
        let late = try fixture.ca.newEnrolmentCode(for: "bob@alpha.test", lifetime: 60)
        #expect(throws: CredentialsError(.enrolmentCodeExpired, "")) {
            try fixture.ca.enrol(address: "bob@alpha.test", code: Secret(late), request: request, kind: .signing,
                                 at: Date() + 120)
        }
    }

    @Test("the key archive refuses a key that does not match the request, and the code stays usable")
    func archiveMismatch() throws {
        let fixture = try CAFixture()
        let code = try fixture.ca.addUser("carol@alpha.test", assurance: .low)
        let key = try PrivateKey.generate(.ecP256)
        let request = try fixture.request("carol@alpha.test", key: key)
        #expect(throws: CredentialsError(.keyArchiveMismatch, "")) {
            try fixture.ca.enrol(address: "carol@alpha.test", code: Secret(code), request: request, kind: .encryption,
                                 archivedKey: try fixture.archive(try PrivateKey.generate(.ecP256)))
        }
        #expect(throws: CredentialsError(.keyArchiveRequired, "")) {
            try fixture.ca.enrol(address: "carol@alpha.test", code: Secret(code), request: request, kind: .encryption)
        }
        #expect(throws: CredentialsError(.keyArchiveMismatch, "")) {
            try fixture.ca.enrol(address: "carol@alpha.test", code: Secret(code), request: request, kind: .encryption,
                                 archivedKey: Data("not cms".utf8))
        }
        #expect(try fixture.ca.store.certificates(of: "carol@alpha.test").isEmpty)
        let issued = try fixture.ca.enrol(address: "carol@alpha.test", code: Secret(code), request: request,
                                          kind: .encryption, archivedKey: try fixture.archive(key))
        #expect(key.matches(issued.publicKey))
    }

    @Test("a request for another address or with a bad signature is refused")
    func requestChecks() throws {
        let fixture = try CAFixture()
        let code = try fixture.ca.addUser("dave@alpha.test", assurance: .low)
        let key = try PrivateKey.generate(.ecP256)
        #expect(throws: CredentialsError(.addressMismatch, "")) {
            try fixture.ca.enrol(address: "dave@alpha.test", code: Secret(code),
                                 request: try fixture.request("dave@alpha.test", key: key, emails: ["eve@alpha.test"]),
                                 kind: .signing)
        }
    }

    @Test("revocation shows in the CRL, in OCSP answers, in openssl verify -crl_check, and in the directory")
    func revocation() throws {
        let fixture = try CAFixture()
        let code = try fixture.ca.addUser("alice@alpha.test", assurance: .low)
        let issued = try fixture.enrolBoth("alice@alpha.test", code: code)
        let issuer = fixture.pki.identity.issuer.certificate

        func ocspStatus() throws -> OCSPCertStatus {
            let request = try OCSPRequest(certificate: issued.signing, issuer: issuer, includeNonce: true)
            let response = try OCSPResponse(derEncoded: fixture.ca.answerOCSP(request.derEncoded))
            return try response.verifiedStatus(of: issued.signing, issuer: issuer, expectedNonce: request.nonce)
        }
        func opensslCRLCheck() throws -> ToolResult {
            let scratch = try ScratchDirectory()
            try scratch.write("chain.pem", fixture.pki.identity.chain.map(\.pemEncoded).joined())
            try scratch.write("crl.pem", try fixture.ca.issueCRL().pemEncoded)
            try scratch.write("leaf.pem", issued.signing.pemEncoded)
            return try scratch.openssl(["verify", "-crl_check", "-CAfile", "chain.pem", "-CRLfile", "crl.pem",
                                        "leaf.pem"])
        }

        #expect(try ocspStatus() == .good)
        #expect(try opensslCRLCheck().status == 0)
        #expect(try fixture.ca.directoryEntry(for: "alice@alpha.test").signing == issued.signing)

        try fixture.ca.revoke(serialHex: issued.signing.serialNumberHex, reason: .keyCompromise)
        guard case .revoked(_, let reason) = try ocspStatus() else {
            Issue.record("OCSP still answers good after revocation")
            return
        }
        #expect(reason == .keyCompromise)
        let crl = try fixture.ca.issueCRL()
        #expect(crl.entry(forSerial: issued.signing.serialNumber)?.reason == .keyCompromise)
        let refused = try opensslCRLCheck()
        #expect(refused.status != 0)
        #expect(refused.all.contains("revoked"))
        #expect(throws: CredentialsError(.certificateNotFound, "")) {
            try fixture.ca.directoryEntry(for: "alice@alpha.test")
        }
        #expect(throws: CredentialsError(.alreadyRevoked, "")) {
            try fixture.ca.revoke(serialHex: issued.signing.serialNumberHex, reason: .superseded)
        }
        #expect(try fixture.ca.revokeAll(of: "alice@alpha.test", reason: .cessationOfOperation)
                == [issued.encryption.serialNumberHex])
    }

    @Test("OCSP answers unknown for foreign certificates and malformedRequest for garbage")
    func ocspEdges() throws {
        let fixture = try CAFixture()
        let other = try CAFixture()
        let code = try other.ca.addUser("zed@alpha.test", assurance: .low)
        let foreign = try other.enrolBoth("zed@alpha.test", code: code)
        let request = try OCSPRequest(certificate: foreign.signing, issuer: other.pki.identity.issuer.certificate,
                                      includeNonce: false)
        let response = try OCSPResponse(derEncoded: fixture.ca.answerOCSP(request.derEncoded))
        #expect(response.singleResponses.first?.status == .unknown)
        let garbage = try OCSPResponse(derEncoded: fixture.ca.answerOCSP(Data("garbage".utf8)))
        #expect(garbage.status == .malformedRequest)
    }

    @Test("CRL numbers increase with every issue")
    func crlNumbers() throws {
        let fixture = try CAFixture()
        let first = try fixture.ca.issueCRL().crlNumber ?? 0
        let second = try fixture.ca.issueCRL().crlNumber ?? 0
        #expect(second == first + 1)
    }
}

@Suite("Request rate limiter")
struct RequestRateLimiterTests {
    @Test("a caller gets its limit per window, and a new window starts afresh")
    func fixedWindow() {
        let limiter = RequestRateLimiter(limit: 3, window: 60)
        let start = Date(timeIntervalSince1970: 1_000_000)
        #expect((0..<3).allSatisfy { _ in limiter.allow("caller", at: start) })
        #expect(!limiter.allow("caller", at: start + 10))
        #expect(limiter.allow("someone else", at: start + 10))
        #expect(limiter.allow("caller", at: start + 61))
    }
}
