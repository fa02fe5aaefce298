// SignedData fields outside the signature: the signer's signatureAlgorithm identifier and
// the version numbers. OpenSSL verifies without looking at them, so the verifier checks
// them itself; these tests change exactly one of them and expect a refusal.
import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("CMS fields outside the signature")
struct CMSUnsignedFieldsTests {
    let content = Data("signed content".utf8)

    /// Offsets of `openssl asn1parse` lines matching `predicate`, as (offset, header length).
    private func fields(_ der: Data, _ predicate: (String) -> Bool) throws -> [(offset: Int, header: Int)] {
        let directory = try CMSTempDirectory()
        try directory.write(der, to: "s.der")
        let listing = String(decoding: try CMSOpenSSLTool.check(["asn1parse", "-inform", "DER", "-in", "s.der"],
                                                                in: directory), as: UTF8.self)
        return listing.split(separator: "\n").map(String.init).filter(predicate).compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard let offset = Int(parts[0].trimmingCharacters(in: .whitespaces)),
                  let header = line.firstMatch(of: /hl=(\d+)/).flatMap({ Int($0.1) }) else { return nil }
            return (offset, header)
        }
    }

    private func expectRefused(_ der: Data) {
        do {
            _ = try CMSVerifier.verify(der)
            Issue.record("the altered message verified")
        } catch let error as CryptoError {
            #expect(error.code == .badSignature || error.code == .malformedInput, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a signature algorithm naming another digest is refused, though OpenSSL alone accepts it")
    func signatureAlgorithmDigest() throws {
        let pki = try CMSTestPKI.shared()
        let der = try pki.alice.signer().sign(content)
        #expect(try CMSVerifier.verify(der).content == content)
        // ecdsa-with-SHA256 (1.2.840.10045.4.3.2): the last occurrence is the SignerInfo's.
        let sha256 = Data([0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02])
        let range = try #require(der.range(of: sha256, options: .backwards))
        for replacement: UInt8 in [0x03, 0x04, 0x01] {
            var altered = der
            altered[range.upperBound - 1] = replacement
            expectRefused(altered)
        }
        var unknown = der
        unknown[range.lowerBound + 5] ^= 0x01
        expectRefused(unknown)
    }

    @Test("changed SignedData and SignerInfo version numbers are refused")
    func versions() throws {
        let pki = try CMSTestPKI.shared()
        let der = try pki.alice.signer().sign(content)
        // SignedData.version is the INTEGER at depth 3, SignerInfo.version the one at depth 5
        // (certificate fields sit deeper).
        let signedData = try fields(der) { $0.contains("d=3") && $0.contains("INTEGER") }
        let signerInfo = try fields(der) { $0.contains("d=5") && $0.contains("l=   1 prim: INTEGER") }
        #expect(signedData.count == 1)
        #expect(signerInfo.count == 1)
        for field in signedData + signerInfo {
            for value: UInt8 in [0x00, 0x03, 0x05] {
                var altered = der
                altered[field.offset + field.header] = value
                expectRefused(altered)
            }
        }
    }
}
