import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

/// A PKI with a leaf and a delegated OCSP responder.
private struct OCSPFixture {
    let pki: X509TestPKI
    let leaf: Certificate
    let responder: (certificate: Certificate, key: PrivateKey)

    init() throws {
        pki = try X509TestPKI()
        leaf = try pki.leaf(.userSigning).certificate
        responder = try pki.leaf(.ocspResponder, name: "Responder")
    }

    var now: Date { pki.now }

    func request(nonce: Bool = true) throws -> OCSPRequest {
        try OCSPRequest(certificate: leaf, issuer: pki.issuing.certificate, includeNonce: nonce)
    }

    /// Answers with `status`, signed by the delegated responder unless `signer` is given.
    func respond(to request: OCSPRequest, _ status: OCSPCertStatus = .good,
                 signer: (certificate: Certificate, key: PrivateKey)? = nil,
                 thisUpdate: Date? = nil, nextUpdate: Date?? = nil) throws -> OCSPResponse {
        let signer = signer ?? responder
        return try OCSPResponse.signed(answering: request, responderCertificate: signer.certificate,
                                       responderKey: signer.key, thisUpdate: thisUpdate ?? now - 60,
                                       nextUpdate: nextUpdate ?? now + 3600) { _ in status }
    }

    func check(_ response: OCSPResponse, nonce: Data?, at time: Date? = nil) throws -> OCSPCertStatus {
        try response.verifiedStatus(of: leaf, issuer: pki.issuing.certificate, expectedNonce: nonce, at: time ?? now)
    }

    /// Writes leaf.pem, issuing.pem and chain.pem (issuing CA + root) into `scratch`.
    func writeChain(_ scratch: X509Scratch) throws {
        try scratch.write("leaf.pem", certificates: [leaf])
        try scratch.write("issuing.pem", certificates: [pki.issuing.certificate])
        try scratch.write("chain.pem", certificates: [pki.issuing.certificate, pki.root.certificate])
    }
}

@Suite("OCSP")
struct OCSPTests {
    @Test("a request round-trips with a SHA-1 CertID naming the certificate and a 32-octet nonce")
    func requestRoundTrip() throws {
        let fixture = try OCSPFixture()
        let request = try fixture.request()
        let parsed = try OCSPRequest(derEncoded: request.derEncoded)
        let certID = try #require(parsed.certIDs.first)
        #expect(parsed.certIDs.count == 1)
        #expect(certID.hashAlgorithm == "1.3.14.3.2.26")
        #expect(certID.identifies(fixture.leaf, issuer: fixture.pki.issuing.certificate))
        #expect(!certID.isIssued(by: fixture.pki.root.certificate))
        #expect(certID.serialNumber == fixture.leaf.serialNumber)
        #expect(parsed.nonce?.count == 32)
        #expect(parsed.nonce == request.nonce)
        #expect(try fixture.request(nonce: false).nonce == nil)
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try OCSPRequest(certificate: fixture.leaf, issuer: fixture.pki.root.certificate)
        }
    }

    @Test("good, revoked and unknown answers verify, from a delegated responder and from the CA itself")
    func statusesVerify() throws {
        let fixture = try OCSPFixture()
        let ca = (certificate: fixture.pki.issuing.certificate, key: fixture.pki.issuing.key)
        let revoked = OCSPCertStatus.revoked(date: (fixture.now - 500).roundedDownToSecond, reason: .keyCompromise)
        for signer in [fixture.responder, ca] {
            for status in [OCSPCertStatus.good, revoked, .unknown,
                           .revoked(date: (fixture.now - 9).roundedDownToSecond, reason: .unspecified)] {
                let request = try fixture.request()
                let response = try OCSPResponse(derEncoded: try fixture.respond(to: request, status, signer: signer)
                    .derEncoded)
                #expect(response.status == .successful)
                #expect(response.nonce == request.nonce)
                #expect(try fixture.check(response, nonce: request.nonce) == status)
            }
        }
    }

    @Test("a signed response carries the responder certificate, times and CertID")
    func responseContents() throws {
        let fixture = try OCSPFixture()
        let response = try fixture.respond(to: try fixture.request())
        #expect(response.certificates == [fixture.responder.certificate])
        let single = try #require(response.singleResponses.first)
        #expect(single.certID.identifies(fixture.leaf, issuer: fixture.pki.issuing.certificate))
        #expect(single.thisUpdate == (fixture.now - 60).roundedDownToSecond)
        #expect(single.nextUpdate == (fixture.now + 3600).roundedDownToSecond)
        let producedAt = try #require(response.producedAt)
        #expect(abs(producedAt.timeIntervalSinceNow) < 120)
    }

    @Test("openssl ocsp accepts our responses (delegated responder and CA) with their status",
          arguments: [false, true])
    func opensslVerifiesOurs(signedByCA: Bool) throws {
        let fixture = try OCSPFixture()
        let ca = (certificate: fixture.pki.issuing.certificate, key: fixture.pki.issuing.key)
        let scratch = try X509Scratch()
        try fixture.writeChain(scratch)
        let revoked = OCSPCertStatus.revoked(date: fixture.now - 100, reason: .cessationOfOperation)
        for (status, word) in [(OCSPCertStatus.good, "leaf.pem: good"), (revoked, "leaf.pem: revoked")] {
            let response = try fixture.respond(to: try fixture.request(), status,
                                               signer: signedByCA ? ca : fixture.responder)
            try scratch.write("resp.der", response.derEncoded)
            let result = try scratch.openssl(["ocsp", "-respin", "resp.der", "-issuer", "issuing.pem",
                                              "-cert", "leaf.pem", "-CAfile", "chain.pem", "-no_nonce"])
            #expect(result.status == 0, "\(result.all)")
            #expect(result.all.contains("Response verify OK"), "\(result.all)")
            #expect(result.output.contains(word), "\(result.output)")
        }
    }

    @Test("we parse and answer a request made by openssl ocsp -reqout, and openssl accepts the answer")
    func answersOpenSSLRequest() throws {
        let fixture = try OCSPFixture()
        let scratch = try X509Scratch()
        try fixture.writeChain(scratch)
        let made = try scratch.openssl(["ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-reqout", "req.der"])
        try #require(made.status == 0, "\(made.all)")
        let request = try OCSPRequest(derEncoded: try scratch.read("req.der"))
        let certID = try #require(request.certIDs.first)
        #expect(certID.identifies(fixture.leaf, issuer: fixture.pki.issuing.certificate))
        let nonce = try #require(request.nonce)
        let response = try OCSPResponse.signed(
            answering: request, responderCertificate: fixture.responder.certificate,
            responderKey: fixture.responder.key, thisUpdate: fixture.now, nextUpdate: fixture.now + 600
        ) { $0.isIssued(by: fixture.pki.issuing.certificate) ? .good : .unknown }
        #expect(try fixture.check(response, nonce: nonce) == .good)
        try scratch.write("resp.der", response.derEncoded)
        // With -reqin, openssl checks that our response echoes its nonce.
        let nonceChecked = try scratch.openssl(["ocsp", "-reqin", "req.der", "-respin", "resp.der",
                                                "-CAfile", "chain.pem"])
        #expect(nonceChecked.status == 0, "\(nonceChecked.all)")
        #expect(nonceChecked.all.contains("Response verify OK"), "\(nonceChecked.all)")
        #expect(!nonceChecked.all.contains("Nonce"), "\(nonceChecked.all)")
        let status = try scratch.openssl(["ocsp", "-respin", "resp.der", "-issuer", "issuing.pem", "-cert", "leaf.pem",
                                          "-CAfile", "chain.pem", "-no_nonce"])
        #expect(status.output.contains("leaf.pem: good"), "\(status.all)")
    }

    @Test("a response from openssl acting as responder verifies in ours", arguments: [false, true])
    func verifiesOpenSSLResponder(revoked: Bool) throws {
        let fixture = try OCSPFixture()
        let scratch = try X509Scratch()
        try fixture.writeChain(scratch)
        try scratch.write("responder.pem", certificates: [fixture.responder.certificate])
        try scratch.write("responder.key", try fixture.responder.key.pkcs8PEM(), secret: true)
        let serial = fixture.leaf.serialNumberHex.uppercased()
        let line = revoked ? "R\t351231235959Z\t240301120000Z,keyCompromise\t\(serial)\tunknown\t/CN=Alice\n"
                           : "V\t351231235959Z\t\t\(serial)\tunknown\t/CN=Alice\n"
        try scratch.write("index.txt", line)
        let request = try fixture.request()
        try scratch.write("req.der", request.derEncoded)
        let answered = try scratch.openssl(["ocsp", "-index", "index.txt", "-rsigner", "responder.pem",
                                            "-rkey", "responder.key", "-CA", "issuing.pem", "-reqin", "req.der",
                                            "-respout", "resp.der", "-nmin", "10"])
        try #require(answered.status == 0, "\(answered.all)")
        let response = try OCSPResponse(derEncoded: try scratch.read("resp.der"))
        let expected = revoked ? OCSPCertStatus.revoked(date: Date(timeIntervalSince1970: 1_709_294_400),
                                                        reason: .keyCompromise) : .good
        #expect(try fixture.check(response, nonce: request.nonce, at: Date()) == expected)
    }

    @Test("error responses parse, carry their status, and are refused as answers",
          arguments: [OCSPResponseStatus.malformedRequest, .internalError, .tryLater, .unauthorized])
    func errorResponses(_ status: OCSPResponseStatus) throws {
        let fixture = try OCSPFixture()
        let response = try OCSPResponse(derEncoded: try OCSPResponse.error(status).derEncoded)
        #expect(response.status == status)
        #expect(response.singleResponses.isEmpty)
        #expect(throws: CryptoError(.responderError, "")) { try fixture.check(response, nonce: nil) }
        let scratch = try X509Scratch()
        try scratch.write("resp.der", response.derEncoded)
        let text = try scratch.openssl(["ocsp", "-respin", "resp.der", "-resp_text", "-noverify"])
        #expect(text.all.contains("(\(status.rawValue))"), "\(text.all)")
        #expect(throws: CryptoError(.invalidArgument, "")) { try OCSPResponse.error(.successful) }
    }

    @Test("a response signed by a key the CA did not authorise for OCSP is refused")
    func unauthorisedSigner() throws {
        let fixture = try OCSPFixture()
        let request = try fixture.request()
        // Issued by the right CA, but without id-kp-OCSPSigning.
        let client = try fixture.pki.leaf(.tlsClient, name: "Client")
        let byClient = try fixture.respond(to: request, signer: client)
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try fixture.check(byClient, nonce: request.nonce) }
        // A responder certificate from another PKI with the same names.
        let rogue = try X509TestPKI().leaf(.ocspResponder, name: "Responder")
        let byRogue = try fixture.respond(to: request, signer: rogue)
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try fixture.check(byRogue, nonce: request.nonce) }
        // Another CA's own key.
        let byRoot = try fixture.respond(to: request, signer: (fixture.pki.root.certificate, fixture.pki.root.key))
        #expect(throws: CryptoError(.certificateUnsuitable, "")) { try fixture.check(byRoot, nonce: request.nonce) }
        // openssl agrees about the first one.
        let scratch = try X509Scratch()
        try fixture.writeChain(scratch)
        try scratch.write("resp.der", byClient.derEncoded)
        let result = try scratch.openssl(["ocsp", "-respin", "resp.der", "-issuer", "issuing.pem", "-cert", "leaf.pem",
                                          "-CAfile", "chain.pem", "-no_nonce"])
        #expect(result.all.contains("Response Verify Failure"), "\(result.all)")
    }

    @Test("a response whose signed data was altered is refused with bad-signature")
    func tamperedResponse() throws {
        let fixture = try OCSPFixture()
        let request = try fixture.request()
        let der = try fixture.respond(to: request).derEncoded
        let nonce = try #require(request.nonce)
        let location = try #require(der.range(of: nonce))
        let tampered = try OCSPResponse(derEncoded: der.flippingByte(at: location.lowerBound - der.startIndex + 4))
        #expect(throws: CryptoError(.badSignature, "")) { try fixture.check(tampered, nonce: nil) }
    }

    @Test("a missing or different nonce is refused as not fresh")
    func nonceMismatch() throws {
        let fixture = try OCSPFixture()
        let sent = try fixture.request()
        let other = try fixture.respond(to: try fixture.request())
        #expect(throws: CryptoError(.notFresh, "")) { try fixture.check(other, nonce: sent.nonce) }
        let without = try fixture.respond(to: try fixture.request(nonce: false))
        #expect(throws: CryptoError(.notFresh, "")) { try fixture.check(without, nonce: sent.nonce) }
        #expect(try fixture.check(without, nonce: nil) == .good)
    }

    @Test("answers outside thisUpdate/nextUpdate are refused, within the clock skew accepted")
    func freshnessWindow() throws {
        let fixture = try OCSPFixture()
        let request = try fixture.request()
        let now = fixture.now
        let stale = try fixture.respond(to: request, thisUpdate: now - 7200, nextUpdate: now - 3600)
        #expect(throws: CryptoError(.notFresh, "")) { try fixture.check(stale, nonce: request.nonce) }
        let justExpired = try fixture.respond(to: request, thisUpdate: now - 7200, nextUpdate: now - 60)
        #expect(try fixture.check(justExpired, nonce: request.nonce) == .good)
        let future = try fixture.respond(to: request, thisUpdate: now + 3600, nextUpdate: now + 7200)
        #expect(throws: CryptoError(.notFresh, "")) { try fixture.check(future, nonce: request.nonce) }
        let open = try fixture.respond(to: request, thisUpdate: now - 7200, nextUpdate: .some(nil))
        #expect(try fixture.check(open, nonce: request.nonce) == .good)
        #expect(throws: CryptoError(.notFresh, "")) {
            try open.verifiedStatus(of: fixture.leaf, issuer: fixture.pki.issuing.certificate,
                                    expectedNonce: request.nonce, at: now, maximumAge: 600)
        }
    }

    @Test("a response about another certificate does not answer for this one")
    func otherCertificate() throws {
        let fixture = try OCSPFixture()
        let other = try fixture.pki.leaf(.userSigning, name: "Other").certificate
        let request = try OCSPRequest(certificate: other, issuer: fixture.pki.issuing.certificate)
        let response = try fixture.respond(to: request)
        #expect(throws: CryptoError(.responderError, "")) { try fixture.check(response, nonce: request.nonce) }
    }

    @Test("garbage and truncated OCSP DER give malformed-input")
    func malformed() throws {
        let fixture = try OCSPFixture()
        let request = try fixture.request().derEncoded
        let response = try fixture.respond(to: try fixture.request()).derEncoded
        #expect(throws: CryptoError(.malformedInput, "")) { try OCSPRequest(derEncoded: request.dropLast(3)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try OCSPRequest(derEncoded: Data("GET /".utf8)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try OCSPRequest(derEncoded: request + Data([0])) }
        #expect(throws: CryptoError(.malformedInput, "")) { try OCSPResponse(derEncoded: response.prefix(30)) }
        // responseStatus 4 is not defined (RFC 6960 §4.2.1).
        let undefinedStatus = Data([0x30, 0x03, 0x0A, 0x01, 0x04])
        #expect(throws: CryptoError(.malformedInput, "")) { try OCSPResponse(derEncoded: undefinedStatus) }
        #expect(throws: CryptoError(.malformedInput, "")) {
            try OCSPResponse(derEncoded: Data(repeating: 0xFF, count: 9))
        }
    }
}
