// The chunked AES-256-GCM attachment format (docs/ATTACHMENTS.md). A file is split into
// chunks of `chunkSize` plaintext bytes (the last may be shorter, or empty for an empty
// file); each chunk is sealed separately, so both ends need memory for about one chunk.
//
//   nonce_i = baseNonce XOR (0x00000000 ‖ uint64_be(i))
//   aad_i   = "cryptonet-attachment-v1" ‖ uint64_be(i) ‖ (0x01 if last chunk else 0x00)
//   chunk_i = AES-256-GCM(key, nonce_i, aad_i, plaintext_i) = ciphertext_i ‖ tag_i (16 bytes)
//
// The index in the nonce and the associated data makes reordering fail; the last-chunk
// flag makes truncation at a chunk boundary and appended chunks fail.
import Foundation
import SEMCrypto

enum AttachmentFormat {
    static let defaultChunkSize = 64 << 10
    static let allowedChunkSizes: ClosedRange<Int> = 1_024...(1 << 20)
    static let tagLength = 16
    private static let label = Array("cryptonet-attachment-v1".utf8)

    static func nonce(base: Data, index: UInt64) -> Data {
        var nonce = [UInt8](base)
        for byte in 0..<8 { nonce[4 + byte] ^= UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64(byte))) }
        return Data(nonce)
    }

    static func associatedData(index: UInt64, last: Bool) -> Data {
        var aad = label
        for byte in 0..<8 { aad.append(UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64(byte)))) }
        aad.append(last ? 1 : 0)
        return Data(aad)
    }

    /// The ciphertext size for `plaintext` bytes: every chunk adds a tag; an empty file
    /// is one empty chunk.
    static func ciphertextSize(plaintext: Int64, chunkSize: Int) -> Int64 {
        guard chunkSize > 0 else { return -1 }
        let chunks = max(1, (plaintext + Int64(chunkSize) - 1) / Int64(chunkSize))
        return plaintext + chunks * Int64(tagLength)
    }
}
