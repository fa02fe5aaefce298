// Streaming encryption of an attachment in the chunked format (AttachmentFormat.swift,
// docs/ATTACHMENTS.md). Feed plaintext in pieces of any size; ciphertext comes out chunk
// by chunk, so memory stays at about two chunks whatever the file size.
public import Foundation
import SEMCrypto

/// Encrypts one attachment with a fresh key and base nonce.
public struct AttachmentSealer: ~Copyable {
    private let key: Data
    private let baseNonce: Data
    private let chunkSize: Int
    private var pending = Data()
    private var index: UInt64 = 0
    private var plaintextSize: Int64 = 0
    private var ciphertextSize: Int64 = 0
    private var plaintextDigest = Digest.Hasher(.sha256)
    private var ciphertextDigest = Digest.Hasher(.sha256)

    /// A sealer with a fresh random key and nonce. `chunkSize` is for tests; the default
    /// is 64 KiB.
    public init(chunkSize: Int = 64 << 10) throws {
        guard AttachmentFormat.allowedChunkSizes.contains(chunkSize) else {
            throw MessageError(.invalidArgument, "The chunk size must be between 1 KiB and 1 MiB.")
        }
        key = AESGCM.generateKey()
        baseNonce = SecureRandom.bytes(AESGCM.nonceLength)
        self.chunkSize = chunkSize
    }

    /// Adds plaintext; returns the ciphertext of every chunk that is complete and known
    /// not to be the last (one full chunk is held back until more data or `finish`).
    public mutating func update(_ plaintext: Data) throws -> Data {
        plaintextDigest.update(plaintext)
        plaintextSize += Int64(plaintext.count)
        pending.append(plaintext)
        var out = Data()
        // Strictly more than one chunk pending: the first one cannot be the last.
        while pending.count > chunkSize {
            out.append(try sealChunk(Data(pending.prefix(chunkSize)), last: false))
            pending.removeFirst(chunkSize)
        }
        return out
    }

    /// Seals the final chunk and returns its ciphertext with the reference (without
    /// attachment id and server, which the upload assigns).
    public consuming func finish(fileName: String, mediaType: String) throws -> (Data, AttachmentReference) {
        let last = try sealChunk(pending, last: true)
        pending.removeAll()
        let reference = AttachmentReference(
            attachmentID: "", server: "", size: plaintextSize, ciphertextSize: ciphertextSize,
            ciphertextSHA256: ciphertextDigest.finish().hexString, plaintextSHA256: plaintextDigest.finish().hexString,
            fileName: fileName, mediaType: mediaType, key: key.base64EncodedString(),
            nonce: baseNonce.base64EncodedString(), format: AttachmentReference.formatV1, chunkSize: chunkSize)
        return (last, reference)
    }

    private mutating func sealChunk(_ plaintext: Data, last: Bool) throws -> Data {
        let sealed = try AESGCM.seal(plaintext, key: key, nonce: AttachmentFormat.nonce(base: baseNonce, index: index),
                                     associatedData: AttachmentFormat.associatedData(index: index, last: last))
        index += 1
        ciphertextSize += Int64(sealed.count)
        ciphertextDigest.update(sealed)
        return sealed
    }

    /// Seals a whole attachment held in memory (small files, tests).
    public static func seal(_ plaintext: Data, fileName: String, mediaType: String,
                            chunkSize: Int = 64 << 10) throws -> (ciphertext: Data, reference: AttachmentReference) {
        var sealer = try AttachmentSealer(chunkSize: chunkSize)
        var out = try sealer.update(plaintext)
        let (last, reference) = try sealer.finish(fileName: fileName, mediaType: mediaType)
        out.append(last)
        return (out, reference)
    }

    /// Seals a stream: `read` returns the next piece of plaintext or nil at the end;
    /// `write` receives ciphertext in order. Memory stays bounded by the chunk size.
    public static func seal(fileName: String, mediaType: String, chunkSize: Int = 64 << 10,
                            read: () throws -> Data?, write: (Data) throws -> Void) throws -> AttachmentReference {
        var sealer = try AttachmentSealer(chunkSize: chunkSize)
        while let piece = try read() {
            let out = try sealer.update(piece)
            if !out.isEmpty { try write(out) }
        }
        let (last, reference) = try sealer.finish(fileName: fileName, mediaType: mediaType)
        try write(last)
        return reference
    }
}
