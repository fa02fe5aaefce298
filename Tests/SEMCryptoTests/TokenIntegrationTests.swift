// Keys generated on a SoftHSM2 token do the work of a user's smart card: they sign a
// CSR and a CMS message, and decrypt CMS messages, while the private key stays on the token.
import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Token keys in use")
struct TokenIntegrationTests {
    private func tokenStore() throws -> PKCS11TokenStore {
        let fixture = try SoftHSMFixture.shared.get()
        let token = try fixture.takeToken()
        return try PKCS11TokenStore(modulePath: SoftHSMFixture.modulePath, tokenLabel: token.label,
                                    pin: Secret(token.pin))
    }

    @Test("a token key signs a CSR that ours and openssl accept, and the CA certifies it")
    func tokenSignsCSR() throws {
        let store = try tokenStore()
        let key = try store.generateKey(label: "signing", algorithm: .ecP256)
        let request = try CertificateSigningRequest(subject: DistinguishedName([("CN", "Alice")]), key: key,
                                                    emailAddresses: ["alice@example.test"])
        #expect(request.isSignatureValid)
        let scratch = try X509Scratch()
        try scratch.write("req.pem", request.pemEncoded)
        let verified = try scratch.openssl(["req", "-in", "req.pem", "-verify", "-noout"])
        #expect(verified.status == 0)
        #expect(verified.all.contains("verify OK"))

        let pki = try X509TestPKI()
        let certificate = try pki.issuing.issue(.userSigning, request: request, notBefore: pki.now - 60,
                                                notAfter: pki.now + 86400)
        #expect(key.matches(certificate.publicKey))
        #expect(certificate.emailAddresses == ["alice@example.test"])
    }

    @Test("a token key signs a CMS message that verifies in ours and in openssl cms")
    func tokenSignsCMS() throws {
        let store = try tokenStore()
        let key = try store.generateKey(label: "signing", algorithm: .ecP256)
        let pki = try X509TestPKI()
        let leaf = try pki.leaf(.userSigning, key: key)
        let content = Data("Signed on a smart card.\r\n".utf8)
        let signed = try CMSSigner(key: key, certificate: leaf.certificate, chain: [pki.issuing.certificate])
            .sign(content)
        let verified = try CMSVerifier.verify(signed)
        #expect(verified.content == content)
        #expect(verified.signer.certificate == leaf.certificate)

        let scratch = try X509Scratch()
        try scratch.write("signed.der", signed)
        try scratch.write("ca.pem", certificates: [pki.root.certificate, pki.issuing.certificate])
        let result = try scratch.openssl(["cms", "-verify", "-inform", "DER", "-in", "signed.der", "-CAfile", "ca.pem",
                                          "-purpose", "any", "-out", "content.txt"])
        #expect(result.status == 0, "\(result.all)")
        #expect(try scratch.read("content.txt") == content)
    }

    @Test("a token key decrypts CMS messages for its certificate", arguments: [KeyAlgorithm.ecP256, .rsa3072])
    func tokenDecryptsCMS(_ algorithm: KeyAlgorithm) throws {
        let store = try tokenStore()
        let key = try store.generateKey(label: "encryption", algorithm: algorithm)
        let pki = try X509TestPKI()
        let leaf = try pki.leaf(.userEncryption, key: key)
        let content = Data("For the token holder only.".utf8)
        for cipher in [ContentEncryptionAlgorithm.aes256GCM, .aes256CBC] {
            let sealed = try CMSEnvelope.encrypt(content, for: [leaf.certificate], algorithm: cipher)
            let opened = try CMSEnvelope.decrypt(sealed, key: key, certificate: leaf.certificate)
            #expect(opened.content == content)
            #expect(opened.algorithm == cipher)
        }
        #expect(throws: CryptoError(.keyNotExtractable, "")) { try key.pkcs8DER() }
    }
}
