// Shamir's threshold secret sharing (Shamir, "How to Share a Secret", CACM 22(11), 1979),
// byte by byte over GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1
// (FIPS 197 §4.2). Each secret byte s becomes the constant term of a random polynomial
// f(x) = s + a1·x + ... + a(M-1)·x^(M-1); share i is f(x_i) for every byte, and any M
// shares give f(0) back by Lagrange interpolation. Fewer than M shares are consistent with
// every value of s equally, so they say nothing about the secret.
//
// This is field arithmetic, not a cipher: the only randomness, the coefficients, comes
// from OpenSSL's generator (SecureRandom). Multiplication and inversion run through a
// fixed sequence of operations without table look-ups or branches on secret values, so
// their timing does not depend on the shares.
//
// A share is not authenticated: a wrong or altered share yields a wrong secret without
// an error. Callers check the result (for a private key: that it matches its certificate).
public import Foundation

/// Arithmetic in GF(2^8) as AES defines it: bytes are polynomials over GF(2), addition
/// is XOR, multiplication is modulo x^8 + x^4 + x^3 + x + 1 ({11b}).
public enum GF256 {
    /// a + b (and a - b, which is the same in characteristic 2).
    @inlinable
    public static func add(_ a: UInt8, _ b: UInt8) -> UInt8 { a ^ b }

    /// a · b: shift-and-add over the eight bits of `b`, reducing by {1b} whenever the
    /// product overflows (FIPS 197 §4.2.1, xtime), with masks instead of branches.
    public static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var product: UInt8 = 0
        var a = a
        var b = b
        for _ in 0..<8 {
            product ^= a & (0 &- (b & 1))
            let carry = a >> 7
            a = (a << 1) ^ (0x1B & (0 &- carry))
            b >>= 1
        }
        return product
    }

    /// The multiplicative inverse: a^254, since a^255 = 1 for every non-zero a. Zero,
    /// which has no inverse, maps to zero (as in the AES S-box construction).
    public static func inverse(_ a: UInt8) -> UInt8 {
        // 254 = 0b11111110: square-and-multiply with a fixed number of steps.
        var result: UInt8 = 1
        var power = a
        for bit in 0..<8 {
            if bit > 0 { result = multiply(result, power) }
            power = multiply(power, power)
        }
        return result
    }
}

/// One share of a secret: the x coordinate (1...255) and f(x) for every byte.
public struct SecretShare: Sendable, Equatable {
    public let x: UInt8
    public var y: [UInt8]

    public init(x: UInt8, y: [UInt8]) {
        self.x = x
        self.y = y
    }

    /// The share as bytes: x followed by the y values, as it is stored inside an envelope.
    public var encoded: Data { Data([x] + y) }

    /// Reads `encoded`; refuses an empty share or x = 0 (the coordinate of the secret itself).
    public init(encoded: Data) throws {
        guard let first = encoded.first, first != 0, encoded.count > 1 else {
            throw CryptoError(.malformedInput, "A secret share needs an x coordinate from 1 to 255 and at least one byte.")
        }
        x = first
        y = Array(encoded.dropFirst())
    }

    /// Overwrites the share values.
    public mutating func wipe() {
        for index in y.indices { y[index] = 0 }
    }
}

public enum ShamirSecretSharing {
    /// Splits `secret` into `count` shares (x = 1...count) of which any `threshold`
    /// reconstruct it. Needs 1 <= threshold <= count <= 255 and a non-empty secret.
    public static func split(_ secret: some DataProtocol, threshold: Int, count: Int) throws -> [SecretShare] {
        guard (1...255).contains(count), (1...count).contains(threshold) else {
            throw CryptoError(.invalidArgument,
                              "A secret is split into 1 to 255 shares with a threshold from 1 to the number of shares.")
        }
        let bytes = Array(secret)
        guard !bytes.isEmpty else { throw CryptoError(.invalidArgument, "An empty secret cannot be shared.") }
        var shares = (1...count).map { SecretShare(x: UInt8($0), y: [UInt8](repeating: 0, count: bytes.count)) }
        var coefficients = [UInt8](repeating: 0, count: threshold)
        defer { for index in coefficients.indices { coefficients[index] = 0 } }
        for (position, byte) in bytes.enumerated() {
            coefficients[0] = byte
            if threshold > 1 {
                var random = SecureRandom.bytes(threshold - 1)
                for index in 1..<threshold { coefficients[index] = random[index - 1] }
                random.wipe()
            }
            for index in shares.indices {
                shares[index].y[position] = evaluate(coefficients, at: shares[index].x)
            }
        }
        return shares
    }

    /// Reconstructs the secret from shares by interpolating at x = 0. Any `threshold`
    /// distinct shares of one split give the secret; fewer give an unrelated value, and
    /// nothing here can tell the two apart. Refuses no shares, x = 0, a repeated x, and
    /// shares of different lengths.
    public static func combine(_ shares: [SecretShare]) throws -> Data {
        guard let length = shares.first?.y.count, length > 0 else {
            throw CryptoError(.invalidArgument, "At least one non-empty share is needed.")
        }
        guard shares.allSatisfy({ $0.y.count == length }) else {
            throw CryptoError(.invalidArgument, "The shares have different lengths; they are not from one secret.")
        }
        guard shares.allSatisfy({ $0.x != 0 }) else {
            throw CryptoError(.invalidArgument, "A share has x coordinate 0, which no share may have.")
        }
        guard Set(shares.map(\.x)).count == shares.count else {
            throw CryptoError(.invalidArgument, "Two shares have the same x coordinate.")
        }
        let weights = lagrangeWeights(shares.map(\.x), at: 0)
        var secret = [UInt8](repeating: 0, count: length)
        for (share, weight) in zip(shares, weights) {
            for position in 0..<length {
                secret[position] ^= GF256.multiply(share.y[position], weight)
            }
        }
        defer { for index in secret.indices { secret[index] = 0 } }
        return Data(secret)
    }

    /// The value at `x` of the polynomial through the points `(xs[i], ys[i])` (distinct
    /// xs). Exposed so that tests can interpolate through a candidate secret at x = 0.
    public static func interpolate(xs: [UInt8], ys: [UInt8], at x: UInt8) -> UInt8 {
        precondition(xs.count == ys.count && Set(xs).count == xs.count, "interpolation needs distinct points")
        var value: UInt8 = 0
        for (y, weight) in zip(ys, lagrangeWeights(xs, at: x)) { value ^= GF256.multiply(y, weight) }
        return value
    }

    /// f(x) for the coefficients (constant term first), by Horner's rule.
    public static func evaluate(_ coefficients: [UInt8], at x: UInt8) -> UInt8 {
        var value: UInt8 = 0
        for coefficient in coefficients.reversed() { value = GF256.multiply(value, x) ^ coefficient }
        return value
    }

    /// The Lagrange basis values l_i(x) = Π_{j≠i} (x - x_j) / (x_i - x_j); minus is XOR.
    static func lagrangeWeights(_ xs: [UInt8], at x: UInt8) -> [UInt8] {
        xs.indices.map { i in
            var numerator: UInt8 = 1
            var denominator: UInt8 = 1
            for j in xs.indices where j != i {
                numerator = GF256.multiply(numerator, x ^ xs[j])
                denominator = GF256.multiply(denominator, xs[i] ^ xs[j])
            }
            return GF256.multiply(numerator, GF256.inverse(denominator))
        }
    }
}
