import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Certificate signing requests")
struct CSRTests {
    @Test("a request round-trips through DER and PEM with subject, key and requested names")
    func roundTrip() throws {
        let key = try PrivateKey.generate(.ecP256)
        let subject = DistinguishedName([("C", "SE"), ("O", "Example Ö"), ("CN", "Alice"),
                                         ("emailAddress", "alice@example.test")])
        let request = try CertificateSigningRequest(subject: subject, key: key,
                                                    emailAddresses: ["alice@example.test"],
                                                    dnsNames: ["alice.example.test"])
        for parsed in [try CertificateSigningRequest(derEncoded: request.derEncoded),
                       try CertificateSigningRequest(pemEncoded: request.pemEncoded)] {
            #expect(parsed.subject == subject)
            #expect(try parsed.publicKey == key.publicKey)
            #expect(parsed.emailAddresses == ["alice@example.test"])
            #expect(parsed.dnsNames == ["alice.example.test"])
            #expect(parsed.isSignatureValid)
        }
    }

    @Test("openssl req -verify accepts our request and shows its names and digest",
          arguments: [KeyAlgorithm.ecP256, .ecP384])
    func opensslVerifiesOurs(_ algorithm: KeyAlgorithm) throws {
        let request = try CertificateSigningRequest(subject: DistinguishedName([("CN", "Carol")]),
                                                    key: try PrivateKey.generate(algorithm),
                                                    emailAddresses: ["carol@example.test"])
        let scratch = try X509Scratch()
        try scratch.write("req.pem", request.pemEncoded)
        let result = try scratch.openssl(["req", "-in", "req.pem", "-verify", "-noout", "-text"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.all.contains("verify OK"))
        #expect(result.output.contains("email:carol@example.test"))
        #expect(result.output.contains(algorithm == .ecP384 ? "ecdsa-with-SHA384" : "ecdsa-with-SHA256"))
    }

    @Test("a request made by openssl req -new parses, verifies and can be certified")
    func parsesOpenSSLRequest() throws {
        let scratch = try X509Scratch()
        let made = try scratch.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem",
            "-out", "req.pem", "-subj", "/O=Example/CN=Dave",
            "-addext", "subjectAltName=email:dave@example.test,DNS:dave.example.test",
        ])
        try #require(made.status == 0, "\(made.errors)")
        let request = try CertificateSigningRequest(pemEncoded: String(decoding: try scratch.read("req.pem"),
                                                                       as: UTF8.self))
        #expect(request.subject == DistinguishedName([("O", "Example"), ("CN", "Dave")]))
        #expect(request.emailAddresses == ["dave@example.test"])
        #expect(request.dnsNames == ["dave.example.test"])
        #expect(request.isSignatureValid)
        let pki = try X509TestPKI()
        let cert = try pki.issuing.issue(.userSigning, request: request, notBefore: pki.now, notAfter: pki.now + 3600)
        #expect(cert.emailAddresses == ["dave@example.test"])
        #expect(try cert.publicKey == request.publicKey)
    }

    @Test("a tampered signature makes the request fail proof of possession")
    func tamperedSignature() throws {
        let request = try CertificateSigningRequest(subject: DistinguishedName([("CN", "Eve")]),
                                                    key: try PrivateKey.generate(.ecP256))
        let der = request.derEncoded
        let tampered = try CertificateSigningRequest(derEncoded: der.flippingByte(at: der.count - 3))
        #expect(!tampered.isSignatureValid)
        #expect(throws: CryptoError(.badSignature, "")) {
            try CertificateParameters(request: tampered, notBefore: Date(), notAfter: Date() + 60)
        }
        let scratch = try X509Scratch()
        try scratch.write("req.der", tampered.derEncoded)
        // openssl 3.0 reports the failure in text but exits with 0.
        let result = try scratch.openssl(["req", "-inform", "DER", "-in", "req.der", "-verify", "-noout"])
        #expect(result.all.contains("verify failure"), "\(result.all)")
    }

    @Test("bad subject attributes and names are refused before signing")
    func refusesBadInput() throws {
        let key = try PrivateKey.generate(.ecP256)
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CertificateSigningRequest(subject: DistinguishedName([("C", "Sweden")]), key: key)
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CertificateSigningRequest(subject: DistinguishedName([("noSuchAttribute", "x")]), key: key)
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CertificateSigningRequest(subject: DistinguishedName([("CN", "x")]), key: key,
                                          emailAddresses: ["not-an-address"])
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try CertificateSigningRequest(subject: DistinguishedName([("CN", "x")]), key: key,
                                          emailAddresses: ["ö@example.test"])
        }
    }

    @Test("garbage and truncated request DER give malformed-input")
    func malformed() throws {
        let der = try CertificateSigningRequest(subject: DistinguishedName([("CN", "F")]),
                                                key: try PrivateKey.generate(.ecP256)).derEncoded
        #expect(throws: CryptoError(.malformedInput, "")) { try CertificateSigningRequest(derEncoded: der.prefix(40)) }
        #expect(throws: CryptoError(.malformedInput, "")) {
            try CertificateSigningRequest(derEncoded: Data([0x30, 0x82, 0x01]))
        }
        #expect(throws: CryptoError(.malformedInput, "")) { try CertificateSigningRequest(derEncoded: der + Data([5])) }
        #expect(throws: CryptoError(.malformedInput, "")) { try CertificateSigningRequest(pemEncoded: "nothing here") }
    }
}
