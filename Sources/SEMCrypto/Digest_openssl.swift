// Message digests through EVP, one-shot and streaming.
import COpenSSL
public import Foundation

/// The digest algorithms the system uses. SHA-1 is absent on purpose.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case sha256 = "SHA-256"
    case sha384 = "SHA-384"
    case sha512 = "SHA-512"

    var evp: OpaquePointer {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    /// Output length in bytes.
    public var length: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }
}

/// One-shot digests.
public enum Digest {
    public static func sha256(_ data: some DataProtocol) -> Data { hash(data, .sha256) }

    public static func hash(_ data: some DataProtocol, _ algorithm: DigestAlgorithm) -> Data {
        var hasher = Hasher(algorithm)
        hasher.update(data)
        return hasher.finish()
    }

    /// A streaming digest. Copying a `Hasher` is not supported: it owns its context.
    public struct Hasher: ~Copyable {
        private let context: OpaquePointer
        public let algorithm: DigestAlgorithm

        public init(_ algorithm: DigestAlgorithm = .sha256) {
            // Allocation or init failure here means OpenSSL itself is unusable; there
            // is no sensible recovery, so trap like any other broken invariant.
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, algorithm.evp, nil) == 1 else {
                fatalError("OpenSSL could not initialise \(algorithm.rawValue)")
            }
            self.context = context
            self.algorithm = algorithm
        }

        deinit { EVP_MD_CTX_free(context) }

        public mutating func update(_ data: some DataProtocol) {
            for region in data.regions {
                region.withUnsafeBytes { raw in
                    if raw.count > 0 { _ = EVP_DigestUpdate(context, raw.baseAddress, raw.count) }
                }
            }
        }

        public mutating func update(bytes: UnsafeRawBufferPointer) {
            if bytes.count > 0 { _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }
        }

        public consuming func finish() -> Data {
            var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            _ = EVP_DigestFinal_ex(context, &output, &length)
            return Data(output.prefix(Int(length)))
        }
    }
}
