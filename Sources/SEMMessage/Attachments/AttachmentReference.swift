// The reference part that stands in for a large attachment inside the signed, encrypted
// letter (architecture §4): where the ciphertext is, how to check it, and the key that
// opens it. Media type application/vnd.cryptonet.attachment-reference+json.
public import Foundation

/// A reference to an attachment stored, encrypted, on the sender's server.
public struct AttachmentReference: Sendable, Hashable, Codable {
    public static let mediaType = "application/vnd.cryptonet.attachment-reference+json"
    /// The only chunked format there is; see docs/ATTACHMENTS.md.
    public static let formatV1 = "cryptonet-chunked-aes256gcm-v1"
    /// Largest reference part accepted when reading.
    static let maximumEncodedBytes = 16 << 10

    /// The server's identifier of the stored ciphertext; empty until uploaded.
    public var attachmentID: String
    /// Host name of the sender's server that stores the ciphertext; empty until uploaded.
    public var server: String
    /// Plaintext size in bytes.
    public var size: Int64
    /// Ciphertext size in bytes.
    public var ciphertextSize: Int64
    /// SHA-256 of the ciphertext, hex.
    public var ciphertextSHA256: String
    /// SHA-256 of the plaintext, hex.
    public var plaintextSHA256: String
    public var fileName: String
    public var mediaType: String
    /// The attachment's own AES-256 key, base64 (32 bytes).
    public var key: String
    /// The random base nonce, base64 (12 bytes).
    public var nonce: String
    /// The format name, `formatV1`.
    public var format: String
    /// Plaintext bytes per chunk.
    public var chunkSize: Int

    enum CodingKeys: String, CodingKey {
        case attachmentID = "attachment_id", server, size, ciphertextSize = "ciphertext_size"
        case ciphertextSHA256 = "ciphertext_sha256", plaintextSHA256 = "plaintext_sha256"
        case fileName = "file_name", mediaType = "media_type", key, nonce, format, chunkSize = "chunk_size"
    }

    /// The JSON body of the reference part (keys sorted, so equal references encode equally).
    public func jsonEncoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a reference part's JSON body and checks its fields.
    public static func decode(_ data: Data) throws -> AttachmentReference {
        guard data.count <= maximumEncodedBytes else {
            throw MessageError(.limitExceeded, "An attachment reference is larger than \(maximumEncodedBytes) bytes.")
        }
        let reference: AttachmentReference
        do {
            reference = try JSONDecoder().decode(AttachmentReference.self, from: data)
        } catch {
            throw MessageError(.malformed, "An attachment reference is not valid JSON with the expected fields.")
        }
        try reference.validate()
        return reference
    }

    /// Checks the format, key and nonce lengths, sizes and digests.
    public func validate() throws {
        guard format == Self.formatV1 else {
            throw MessageError(.unsupported, "The attachment format \"\(format.prefix(60))\" is unknown.")
        }
        guard Data(base64Encoded: key)?.count == 32, Data(base64Encoded: nonce)?.count == 12 else {
            throw MessageError(.malformed, "An attachment reference needs a 32-byte key and a 12-byte nonce.")
        }
        guard size >= 0, ciphertextSize == AttachmentFormat.ciphertextSize(plaintext: size, chunkSize: chunkSize),
              AttachmentFormat.allowedChunkSizes.contains(chunkSize),
              ciphertextSHA256.count == 64, plaintextSHA256.count == 64 else {
            throw MessageError(.malformed, "An attachment reference has inconsistent sizes or digests.")
        }
    }
}
