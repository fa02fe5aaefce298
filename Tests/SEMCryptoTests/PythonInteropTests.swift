// Python's `cryptography` package as an independent peer for X.509, CRL, OCSP and CMS.
import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

private func python(_ script: String, in scratch: ScratchDirectory) throws -> [String] {
    let result = try scratch.run("python3", ["-c", script])
    guard result.status == 0 else { throw ScratchError("python3 failed: \(result.errors)") }
    return result.output.split(separator: "\n").map(String.init)
}

@Suite("Interoperation with Python cryptography")
struct PythonInteropTests {
    @Test("Python verifies our chain and reads the leaf's names and usages")
    func pythonReadsOurCertificates() throws {
        let pki = try X509TestPKI()
        let leaf = try pki.leaf(.userSigning, name: "Alice")
        let scratch = try ScratchDirectory()
        try scratch.write("leaf.der", leaf.certificate.derEncoded)
        try scratch.write("issuing.der", pki.issuing.certificate.derEncoded)
        try scratch.write("root.der", pki.root.certificate.derEncoded)
        let lines = try python("""
            from cryptography import x509
            load = lambda n: x509.load_der_x509_certificate(open(n, "rb").read())
            leaf, issuing, root = load("leaf.der"), load("issuing.der"), load("root.der")
            leaf.verify_directly_issued_by(issuing)
            issuing.verify_directly_issued_by(root)
            san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            print(",".join(san.get_values_for_type(x509.RFC822Name)))
            ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
            print(ku.digital_signature, ku.content_commitment, ku.key_encipherment)
            print(leaf.serial_number)
            """, in: scratch)
        #expect(lines.count == 3)
        #expect(lines.first == "alice@example.test")
        #expect(lines.dropFirst().first == "True True False")
        #expect(lines.last == String(BigDecimalString.decimal(fromBigEndian: leaf.certificate.serialNumber)))
    }

    @Test("Python accepts our CRL's signature and finds the revoked serial with its reason")
    func pythonReadsOurCRL() throws {
        let pki = try X509TestPKI()
        let leaf = try pki.leaf(.userSigning)
        let crl = try CertificateRevocationList.issue(
            issuer: pki.issuing.certificate, key: pki.issuing.key, thisUpdate: pki.now - 60, nextUpdate: pki.now + 3600,
            crlNumber: 7, revoked: [RevokedEntry(serialNumber: leaf.certificate.serialNumber,
                                                 revocationDate: pki.now - 30, reason: .keyCompromise)])
        let scratch = try ScratchDirectory()
        try scratch.write("crl.der", crl.derEncoded)
        try scratch.write("issuing.der", pki.issuing.certificate.derEncoded)
        try scratch.write("leaf.der", leaf.certificate.derEncoded)
        let lines = try python("""
            from cryptography import x509
            crl = x509.load_der_x509_crl(open("crl.der", "rb").read())
            issuer = x509.load_der_x509_certificate(open("issuing.der", "rb").read())
            leaf = x509.load_der_x509_certificate(open("leaf.der", "rb").read())
            print(crl.is_signature_valid(issuer.public_key()))
            entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
            print(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name)
            print(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
            """, in: scratch)
        #expect(lines == ["True", "key_compromise", "7"])
    }

    @Test("Python reads our OCSP response as revoked with the reason we gave")
    func pythonReadsOurOCSPResponse() throws {
        let pki = try X509TestPKI()
        let leaf = try pki.leaf(.userSigning)
        let request = try OCSPRequest(certificate: leaf.certificate, issuer: pki.issuing.certificate, includeNonce: true)
        let response = try OCSPResponse.signed(answering: request, responderCertificate: pki.issuing.certificate,
                                               responderKey: pki.issuing.key, thisUpdate: pki.now,
                                               nextUpdate: pki.now + 3600) { _ in
            .revoked(date: pki.now - 100, reason: .superseded)
        }
        let scratch = try ScratchDirectory()
        try scratch.write("response.der", response.derEncoded)
        let lines = try python("""
            from cryptography.x509 import ocsp
            r = ocsp.load_der_ocsp_response(open("response.der", "rb").read())
            print(r.response_status.name, r.certificate_status.name, r.revocation_reason.name)
            """, in: scratch)
        #expect(lines == ["SUCCESSFUL REVOKED superseded"])
    }

    @Test("a chain, CSR and CMS signature made by Python are accepted here")
    func pythonMadeObjectsAccepted() throws {
        let scratch = try ScratchDirectory()
        _ = try python("""
            import datetime
            from cryptography import x509
            from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.serialization import pkcs7
            now = datetime.datetime.now(datetime.timezone.utc)
            name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
            ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
            ca = (x509.CertificateBuilder().subject_name(name("Py Root")).issuer_name(name("Py Root"))
                  .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                  .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
                  .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                  .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                  .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
                  .sign(ca_key, hashes.SHA256()))
            leaf = (x509.CertificateBuilder().subject_name(name("Py User")).issuer_name(ca.subject)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                    .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("py@example.test")]), critical=False)
                    .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                    .sign(ca_key, hashes.SHA256()))
            csr = (x509.CertificateSigningRequestBuilder().subject_name(name("Py User"))
                   .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("py@example.test")]), critical=False)
                   .sign(key, hashes.SHA256()))
            signed = (pkcs7.PKCS7SignatureBuilder().set_data(b"signed in python")
                      .add_signer(leaf, key, hashes.SHA256()).sign(serialization.Encoding.DER, []))
            open("ca.der", "wb").write(ca.public_bytes(serialization.Encoding.DER))
            open("leaf.der", "wb").write(leaf.public_bytes(serialization.Encoding.DER))
            open("csr.der", "wb").write(csr.public_bytes(serialization.Encoding.DER))
            open("signed.der", "wb").write(signed)
            """, in: scratch)
        let root = try Certificate(derEncoded: try scratch.read("ca.der"))
        let leaf = try Certificate(derEncoded: try scratch.read("leaf.der"))
        #expect(leaf.emailAddresses == ["py@example.test"])
        let validator = PathValidator(trustAnchors: [root], revocationChecker: RevocationEvidence())
        let verdict = validator.validate(leaf, policy: ValidationPolicy(purpose: .emailSigning, revocationMode: .softFail))
        #expect(verdict.isValid, "\(String(describing: verdict.failure))")

        let request = try CertificateSigningRequest(derEncoded: try scratch.read("csr.der"))
        #expect(request.isSignatureValid)
        #expect(request.emailAddresses == ["py@example.test"])

        let verified = try CMSVerifier.verify(try scratch.read("signed.der"))
        #expect(verified.content == Data("signed in python".utf8))
        #expect(verified.signer.certificate == leaf)
    }
}

/// Big-endian magnitude bytes to a decimal string, for comparing serial numbers with Python.
enum BigDecimalString {
    static func decimal(fromBigEndian bytes: Data) -> String {
        var digits: [UInt8] = [0]   // little-endian base-10 digits
        for byte in bytes {
            var carry = Int(byte)
            for index in digits.indices {
                let value = Int(digits[index]) * 256 + carry
                digits[index] = UInt8(value % 10)
                carry = value / 10
            }
            while carry > 0 {
                digits.append(UInt8(carry % 10))
                carry /= 10
            }
        }
        while digits.count > 1, digits.last == 0 { digits.removeLast() }
        return String(digits.reversed().map { Character(String($0)) })
    }
}
