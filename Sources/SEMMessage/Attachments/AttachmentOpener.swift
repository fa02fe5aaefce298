// Streaming decryption of a chunked attachment. Each chunk is authenticated before its
// plaintext is handed out; the end checks the last-chunk flag, sizes and both digests.
// Plaintext handed out before a later chunk fails is authentic as far as it goes, but
// the caller must discard the whole file unless `finish` succeeds (say so to users of
// partial output: the file is only complete and unaltered after `finish`).
public import Foundation
import SEMCrypto

/// Decrypts one attachment described by its reference.
public struct AttachmentOpener: ~Copyable {
    private let reference: AttachmentReference
    private let key: Data
    private let baseNonce: Data
    private let sealedChunkSize: Int
    private var pending = Data()
    private var index: UInt64 = 0
    private var received: Int64 = 0
    private var plaintextSize: Int64 = 0
    private var plaintextDigest = Digest.Hasher(.sha256)
    private var ciphertextDigest = Digest.Hasher(.sha256)

    public init(reference: AttachmentReference) throws {
        try reference.validate()
        self.reference = reference
        key = Data(base64Encoded: reference.key) ?? Data()
        baseNonce = Data(base64Encoded: reference.nonce) ?? Data()
        sealedChunkSize = reference.chunkSize + AttachmentFormat.tagLength
    }

    /// Bytes held while waiting for the rest of a chunk; at most about two chunks.
    public var bufferedBytes: Int { pending.count }

    /// Adds ciphertext; returns the plaintext of every chunk that is complete and known
    /// not to be the last.
    ///
    /// - Throws: `CryptoError.authenticationFailed` for an altered, reordered or foreign
    ///   chunk; `MessageError.integrityFailure` when more arrives than the reference says.
    public mutating func update(_ ciphertext: Data) throws -> Data {
        received += Int64(ciphertext.count)
        guard received <= reference.ciphertextSize else {
            throw MessageError(.integrityFailure, "The attachment is longer than its reference says.")
        }
        ciphertextDigest.update(ciphertext)
        pending.append(ciphertext)
        var out = Data()
        while pending.count > sealedChunkSize {
            out.append(try openChunk(Data(pending.prefix(sealedChunkSize)), last: false))
            pending.removeFirst(sealedChunkSize)
        }
        return out
    }

    /// Opens the last chunk and checks sizes and digests.
    ///
    /// - Throws: `CryptoError.authenticationFailed` when the stream was cut at a chunk
    ///   boundary; `MessageError.integrityFailure` for a size or digest mismatch.
    public consuming func finish() throws -> Data {
        guard received == reference.ciphertextSize else {
            throw MessageError(.integrityFailure, "The attachment is \(received) bytes; its reference says "
                               + "\(reference.ciphertextSize).")
        }
        guard pending.count >= AttachmentFormat.tagLength else {
            throw MessageError(.integrityFailure, "The attachment ends inside a chunk's authentication tag.")
        }
        let last = try openChunk(pending, last: true)
        pending.removeAll()
        guard plaintextSize == reference.size,
              ciphertextDigest.finish().hexString == reference.ciphertextSHA256.lowercased(),
              plaintextDigest.finish().hexString == reference.plaintextSHA256.lowercased() else {
            throw MessageError(.integrityFailure, "The attachment's size or SHA-256 differs from its reference.")
        }
        return last
    }

    private mutating func openChunk(_ sealed: Data, last: Bool) throws -> Data {
        let plaintext = try AESGCM.open(sealed, key: key, nonce: AttachmentFormat.nonce(base: baseNonce, index: index),
                                        associatedData: AttachmentFormat.associatedData(index: index, last: last))
        index += 1
        plaintextSize += Int64(plaintext.count)
        plaintextDigest.update(plaintext)
        return plaintext
    }

    /// Opens a whole attachment held in memory.
    public static func open(_ ciphertext: Data, reference: AttachmentReference) throws -> Data {
        var opener = try AttachmentOpener(reference: reference)
        var out = try opener.update(ciphertext)
        out.append(try opener.finish())
        return out
    }

    /// Opens a stream: `read` returns the next piece of ciphertext or nil at the end;
    /// `write` receives plaintext in order. Discard what was written if this throws.
    public static func open(reference: AttachmentReference, read: () throws -> Data?,
                            write: (Data) throws -> Void) throws {
        var opener = try AttachmentOpener(reference: reference)
        while let piece = try read() {
            let out = try opener.update(piece)
            if !out.isEmpty { try write(out) }
        }
        try write(try opener.finish())
    }
}
