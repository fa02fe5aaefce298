// Random bytes from OpenSSL's DRBG, constant-time comparison, and wiping.
import COpenSSL
public import Foundation

public enum SecureRandom {
    /// `count` bytes from OpenSSL's CSPRNG. Traps if the generator fails, because
    /// continuing without randomness would silently weaken every key and nonce.
    public static func bytes(_ count: Int) -> Data {
        precondition(count >= 0)
        var buffer = [UInt8](repeating: 0, count: count)
        if count > 0 {
            guard RAND_bytes(&buffer, Int32(count)) == 1 else {
                fatalError("OpenSSL's random generator failed: \(OpenSSL.drainErrors())")
            }
        }
        return Data(buffer)
    }

    /// A random identifier: `bytes` random bytes as lower-case hex.
    public static func identifier(bytes: Int = 16) -> String { Self.bytes(bytes).hexString }
}

public enum ConstantTime {
    /// Compares two byte strings in time that depends only on their lengths (RFC 2104
    /// §5 style); use it for MACs, tokens, enrolment codes and any other secret.
    public static func equals(_ lhs: some DataProtocol, _ rhs: some DataProtocol) -> Bool {
        let left = Array(lhs)
        let right = Array(rhs)
        guard left.count == right.count else { return false }
        if left.isEmpty { return true }
        return left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
    }
}

extension Data {
    /// Overwrites the bytes with zeros in a way the optimiser may not remove.
    public mutating func wipe() {
        let count = self.count
        if count == 0 { return }
        withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, count) }
    }
}
