import Foundation
import SEMCrypto
import SEMMessage
import Testing

@Suite("Chunked attachment encryption")
struct AttachmentTests {
    private let chunk = 4_096

    private func sealed(_ size: Int) throws -> (Data, Data, AttachmentReference) {
        var stream = PatternStream(seed: UInt64(size) + 7, length: size)
        let plaintext = stream.next(maximum: size) ?? Data()
        let (ciphertext, reference) = try AttachmentSealer.seal(plaintext, fileName: "f.bin",
                                                                mediaType: "application/octet-stream", chunkSize: chunk)
        return (plaintext, ciphertext, reference)
    }

    @Test("round trip for empty, sub-chunk, exact-chunk and multi-chunk files", arguments: [0, 1, 4_095, 4_096, 4_097, 40_000])
    func roundTrip(size: Int) throws {
        let (plaintext, ciphertext, reference) = try sealed(size)
        #expect(reference.size == Int64(size))
        #expect(Int64(ciphertext.count) == reference.ciphertextSize)
        #expect(reference.ciphertextSHA256 == Digest.sha256(ciphertext).hexString)
        #expect(reference.plaintextSHA256 == Digest.sha256(plaintext).hexString)
        #expect(Data(base64Encoded: reference.key)?.count == 32)
        #expect(try AttachmentOpener.open(ciphertext, reference: reference) == plaintext)
        #expect(try AttachmentReference.decode(reference.jsonEncoded()) == reference)
    }

    @Test("reordered, truncated, extended and bit-flipped ciphertexts are refused")
    func tampering() throws {
        let (_, ciphertext, reference) = try sealed(3 * chunk + 100)
        let sealedChunk = chunk + 16
        func refused(_ candidate: Data, _ adjusted: Bool = false) -> Bool {
            var reference = reference
            if adjusted {
                // An attacker who also rewrites the reference sizes and digest (the reference itself
                // is signed, so this models the worst case) is still caught by the AEAD.
                reference.ciphertextSize = Int64(candidate.count)
                reference.size = reference.ciphertextSize - Int64((candidate.count + sealedChunk - 1) / sealedChunk * 16)
                reference.ciphertextSHA256 = Digest.sha256(candidate).hexString
            }
            return (try? AttachmentOpener.open(candidate, reference: reference)) == nil
        }
        let chunks = stride(from: 0, to: ciphertext.count, by: sealedChunk).map {
            ciphertext.subdata(in: $0..<min(ciphertext.count, $0 + sealedChunk))
        }
        let reordered = chunks[1] + chunks[0] + chunks[2] + chunks[3]
        #expect(refused(reordered) && refused(reordered, true))
        let truncated = chunks[0] + chunks[1] + chunks[2]
        #expect(refused(truncated) && refused(truncated, true))
        let cutInside = ciphertext.prefix(ciphertext.count - 5)
        #expect(refused(cutInside) && refused(cutInside, true))
        let extended = ciphertext + chunks[1]
        #expect(refused(extended) && refused(extended, true))
        for offset in [0, 17, sealedChunk + 3, ciphertext.count - 1] {
            var flipped = ciphertext
            flipped[offset] ^= 0x01
            #expect(refused(flipped) && refused(flipped, true))
        }
        #expect(throws: CryptoError(.authenticationFailed, "")) {
            var candidate = ciphertext
            candidate[5] ^= 0x80
            var reference = reference
            reference.ciphertextSHA256 = Digest.sha256(candidate).hexString
            _ = try AttachmentOpener.open(candidate, reference: reference)
        }
    }

    @Test("a few MiB stream through sealer and opener with bounded buffers")
    func largeStream() throws {
        let size = 5 << 20 + 12_345
        var source = PatternStream(seed: 99, length: size)
        var ciphertextPieces: [Data] = []  // ciphertext kept to feed the opener; plaintext is not
        let reference = try AttachmentSealer.seal(fileName: "big.bin", mediaType: "application/octet-stream",
                                                  read: {
            source.next(maximum: 10_007)
        }, write: { ciphertextPieces.append($0) })
        #expect(reference.size == Int64(size))
        #expect(ciphertextPieces.allSatisfy { $0.count <= 2 * (65_536 + 16) })

        var opener = try AttachmentOpener(reference: reference)
        var openedDigest = Digest.Hasher(.sha256)
        var largestBuffer = 0
        for piece in ciphertextPieces {
            // Re-split into odd sizes so chunk boundaries never line up with the pieces.
            var offset = 0
            while offset < piece.count {
                let part = piece.subdata(in: offset..<min(piece.count, offset + 9_999))
                openedDigest.update(try opener.update(part))
                largestBuffer = max(largestBuffer, opener.bufferedBytes)
                offset += 9_999
            }
        }
        openedDigest.update(try opener.finish())
        #expect(largestBuffer <= 65_536 + 16 + 9_999)
        // The same deterministic stream again gives the expected digest without keeping the file.
        var again = PatternStream(seed: 99, length: size)
        var plainDigest = Digest.Hasher(.sha256)
        while let piece = again.next(maximum: 65_536) { plainDigest.update(piece) }
        let expected = plainDigest.finish()
        #expect(openedDigest.finish() == expected)
        #expect(reference.plaintextSHA256 == expected.hexString)
    }

    @Test("a reference with a wrong key length or unknown format is refused")
    func badReference() throws {
        var reference = try sealed(10).2
        reference.key = Data(count: 16).base64EncodedString()
        #expect(throws: MessageError(.malformed, "")) { try reference.validate() }
        reference = try sealed(10).2
        reference.format = "something-else"
        #expect(throws: MessageError(.unsupported, "")) { try AttachmentReference.decode(reference.jsonEncoded()) }
        #expect(throws: MessageError(.malformed, "")) { try AttachmentReference.decode(Data("{\"size\": 1}".utf8)) }
    }
}
