import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Digests, random bytes, constant-time comparison, AES-GCM and HKDF")
struct SymmetricTests {
    @Test("SHA-2 digests match the FIPS 180-4 example for \"abc\"")
    func digestVectors() {
        let abc = Data("abc".utf8)
        #expect(Digest.sha256(abc).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.hash(abc, .sha384).hexString.hasPrefix("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"))
        #expect(Digest.hash(abc, .sha512).count == 64)
    }

    @Test("a streaming digest equals the one-shot digest however the input is split")
    func streamingDigest() {
        let data = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        var hasher = Digest.Hasher(.sha256)
        var offset = 0
        for size in [1, 2, 3, 4096, 5000] where offset < data.count {
            let end = min(offset + size, data.count)
            hasher.update(data[offset..<end])
            offset = end
        }
        hasher.update(data[offset...])
        #expect(hasher.finish() == Digest.sha256(data))
    }

    @Test("random bytes have the requested length and do not repeat")
    func randomBytes() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(32).count == 32)
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
        #expect(SecureRandom.identifier().count == 32)
    }

    @Test("constant-time comparison tells equal from different, including lengths")
    func constantTime() {
        #expect(ConstantTime.equals(Data([1, 2, 3]), Data([1, 2, 3])))
        #expect(!ConstantTime.equals(Data([1, 2, 3]), Data([1, 2, 4])))
        #expect(!ConstantTime.equals(Data([1, 2, 3]), Data([1, 2])))
        #expect(ConstantTime.equals(Data(), Data()))
    }

    @Test("HKDF-SHA256 matches RFC 5869 test case 1")
    func hkdfVector() throws {
        let okm = try HKDF.deriveKey(inputKeyMaterial: Data(repeating: 0x0b, count: 22),
                                     salt: Data(hexString: "000102030405060708090a0b0c")!,
                                     info: Data(hexString: "f0f1f2f3f4f5f6f7f8f9")!, outputLength: 42)
        #expect(okm.hexString == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try HKDF.deriveKey(inputKeyMaterial: Data([1]), outputLength: 255 * 32 + 1)
        }
    }

    @Test("scrypt matches the RFC 7914 §12 vectors and Python's hashlib; bad costs are refused")
    func scryptVectors() throws {
        let empty = try Scrypt.deriveKey(passphrase: Secret(""), salt: Data(), cost: .init(n: 16, r: 1, p: 1), outputLength: 64)
        #expect(empty.hexString == "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                + "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
        let nacl = try Scrypt.deriveKey(passphrase: Secret("password"), salt: Data("NaCl".utf8),
                                        cost: .init(n: 1024, r: 8, p: 16), outputLength: 64)
        #expect(nacl.hexString == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
        // The default cost, checked against an independent implementation.
        let salt = SecureRandom.bytes(16)
        let ours = try Scrypt.deriveKey(passphrase: Secret("correct horse"), salt: salt)
        let python = try ExternalTool.run("python3", ["-c", "import hashlib,sys; print(hashlib.scrypt(b'correct horse', "
                                                       + "salt=bytes.fromhex(sys.argv[1]), n=1<<17, r=8, p=1, "
                                                       + "maxmem=1<<28, dklen=32).hex())", salt.hexString])
        #expect(python.output.trimmingCharacters(in: .whitespacesAndNewlines) == ours.hexString, "\(python.errors)")
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try Scrypt.deriveKey(passphrase: Secret("x"), salt: Data(), cost: .init(n: 1000, r: 8, p: 1))
        }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try Scrypt.deriveKey(passphrase: Secret("x"), salt: Data(), cost: .init(n: 1 << 24, r: 8, p: 1))
        }
    }

    @Test("AES-256-GCM opens what it sealed, with associated data bound in")
    func gcmRoundTrip() throws {
        let key = AESGCM.generateKey()
        let aad = Data("message-17".utf8)
        let sealed = try AESGCM.seal(Data("private letter".utf8), key: key, associatedData: aad)
        #expect(sealed.count == AESGCM.nonceLength + 14 + AESGCM.tagLength)
        #expect(try AESGCM.open(sealed, key: key, associatedData: aad) == Data("private letter".utf8))
        #expect(try AESGCM.open(try AESGCM.seal(Data(), key: key), key: key).isEmpty)
    }

    @Test("AES-256-GCM refuses a flipped bit, a wrong key, other associated data and a short box")
    func gcmRefusals() throws {
        let key = AESGCM.generateKey()
        let sealed = try AESGCM.seal(Data("private letter".utf8), key: key, associatedData: Data("a".utf8))
        for offset in [0, AESGCM.nonceLength, sealed.count - 1] {
            var tampered = sealed
            tampered[offset] ^= 0x80
            #expect(throws: CryptoError(.authenticationFailed, "")) {
                try AESGCM.open(tampered, key: key, associatedData: Data("a".utf8))
            }
        }
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            try AESGCM.open(sealed, key: AESGCM.generateKey(), associatedData: Data("a".utf8))
        }
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            try AESGCM.open(sealed, key: key, associatedData: Data("b".utf8))
        }
        #expect(throws: CryptoError(.malformedInput, "")) { try AESGCM.open(sealed.prefix(20), key: key) }
        #expect(throws: CryptoError(.invalidArgument, "")) { try AESGCM.seal(Data(), key: Data(count: 16)) }
    }

    @Test("a sealed box opens in Python's cryptography, and one sealed there opens here")
    func gcmInteroperatesWithPython() throws {
        let key = AESGCM.generateKey()
        let sealed = try AESGCM.seal(Data("from swift".utf8), key: key, associatedData: Data("ad".utf8))
        let script = """
            import sys, os
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            key, box = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
            print(AESGCM(key).decrypt(box[:12], box[12:], b"ad").decode())
            nonce = os.urandom(12)
            print((nonce + AESGCM(key).encrypt(nonce, b"from python", b"ad")).hex())
            """
        let result = try ExternalTool.run("python3", ["-c", script, key.hexString, sealed.hexString])
        #expect(result.status == 0, "\(result.errors)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "from swift")
        let theirs = try #require(Data(hexString: lines.last ?? ""))
        #expect(try AESGCM.open(theirs, key: key, associatedData: Data("ad".utf8)) == Data("from python".utf8))
    }
}
