import Foundation
import SEMCrypto
import Testing

@Suite("Shamir secret sharing over GF(2^8)")
struct ShamirSecretSharingTests {
    @Test("field multiplication matches FIPS 197 §4.2 and is the polynomial product modulo {11b}")
    func multiplication() {
        #expect(GF256.multiply(0x57, 0x83) == 0xC1)
        #expect(GF256.multiply(0x57, 0x13) == 0xFE)
        #expect(GF256.multiply(0x57, 0x02) == 0xAE)
        #expect(GF256.multiply(0x57, 0x04) == 0x47)
        #expect(GF256.multiply(0x57, 0x08) == 0x8E)
        #expect(GF256.multiply(0x57, 0x10) == 0x07)
        // Against a slow reference: carry-less product, then reduction bit by bit.
        for a in 0...255 {
            for b in stride(from: 0, through: 255, by: 7) {
                var wide = 0
                for bit in 0..<8 where b >> bit & 1 == 1 { wide ^= a << bit }
                for bit in stride(from: 14, through: 8, by: -1) where wide >> bit & 1 == 1 { wide ^= 0x11B << (bit - 8) }
                #expect(GF256.multiply(UInt8(a), UInt8(b)) == UInt8(wide))
            }
        }
    }

    @Test("every non-zero element has an inverse, {53}^-1 = {ca}, and zero maps to zero")
    func inverses() {
        #expect(GF256.inverse(0x53) == 0xCA)
        #expect(GF256.inverse(0x01) == 0x01)
        #expect(GF256.inverse(0x00) == 0x00)
        var seen = Set<UInt8>()
        for a in 1...255 {
            let inverse = GF256.inverse(UInt8(a))
            #expect(GF256.multiply(UInt8(a), inverse) == 1, "inverse of \(a)")
            seen.insert(inverse)
        }
        #expect(seen.count == 255)
    }

    @Test("any M of N shares reconstruct the secret; M-1 shares do not")
    func thresholds() throws {
        let secret = SecureRandom.bytes(138)
        for (threshold, count) in [(1, 1), (1, 4), (2, 3), (3, 5), (5, 5)] {
            let shares = try ShamirSecretSharing.split(secret, threshold: threshold, count: count)
            #expect(shares.map(\.x) == (1...count).map { UInt8($0) })
            for subset in Self.subsets(of: Array(shares.indices), size: threshold) {
                #expect(try ShamirSecretSharing.combine(subset.map { shares[$0] }) == secret,
                        "\(threshold) of \(count): shares \(subset)")
                // Order does not matter.
                #expect(try ShamirSecretSharing.combine(subset.reversed().map { shares[$0] }) == secret)
            }
            if threshold > 1 {
                for subset in Self.subsets(of: Array(shares.indices), size: threshold - 1) {
                    #expect(try ShamirSecretSharing.combine(subset.map { shares[$0] }) != secret,
                            "\(threshold - 1) shares of a \(threshold)-of-\(count) split")
                }
            }
            if threshold == 1 {
                // Threshold 1: every share is the secret itself (a constant polynomial).
                #expect(shares.allSatisfy { Data($0.y) == secret })
            }
        }
    }

    @Test("M-1 shares are equally consistent with all 256 values of a one-byte secret")
    func perfectSecrecy() throws {
        // 2 of 3: for a share (x, y) and each candidate s there must be exactly one
        // polynomial s + a1·x through it, counted over all 256 values of a1.
        let two = try ShamirSecretSharing.split([0x2A], threshold: 2, count: 3)
        for share in two {
            for candidate in 0...255 {
                let fitting = (0...255).filter {
                    ShamirSecretSharing.evaluate([UInt8(candidate), UInt8($0)], at: share.x) == share.y[0]
                }
                #expect(fitting.count == 1, "candidate \(candidate) with share x=\(share.x)")
            }
        }
        // 3 of 4 with two shares: the polynomial through (0, s) and the two shares exists
        // for every s and is different for each; the third and fourth shares then tell
        // the candidates apart, which is the threshold doing its job.
        let three = try ShamirSecretSharing.split([0xC3], threshold: 3, count: 4)
        let known = Array(three[0..<2])
        var thirdValues = Set<UInt8>()
        for candidate in 0...255 {
            let xs = [0] + known.map(\.x), ys = [UInt8(candidate)] + known.map { $0.y[0] }
            for share in known { #expect(ShamirSecretSharing.interpolate(xs: xs, ys: ys, at: share.x) == share.y[0]) }
            thirdValues.insert(ShamirSecretSharing.interpolate(xs: xs, ys: ys, at: three[2].x))
        }
        #expect(thirdValues.count == 256)
        #expect(try ShamirSecretSharing.combine(Array(three[0..<3])) == Data([0xC3]))
    }

    @Test("refused: a repeated x, x = 0, no shares, unequal lengths, impossible thresholds, an empty secret")
    func refusals() throws {
        let shares = try ShamirSecretSharing.split(Data("key".utf8), threshold: 2, count: 3)
        #expect(throws: CryptoError(.invalidArgument, "")) { try ShamirSecretSharing.combine([shares[0], shares[0]]) }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try ShamirSecretSharing.combine([SecretShare(x: 0, y: shares[0].y), shares[1]])
        }
        #expect(throws: CryptoError(.invalidArgument, "")) { try ShamirSecretSharing.combine([]) }
        #expect(throws: CryptoError(.invalidArgument, "")) {
            try ShamirSecretSharing.combine([shares[0], SecretShare(x: shares[1].x, y: Array(shares[1].y.dropLast()))])
        }
        for (threshold, count) in [(0, 3), (4, 3), (1, 0), (2, 256)] {
            #expect(throws: CryptoError(.invalidArgument, "")) {
                try ShamirSecretSharing.split(Data("key".utf8), threshold: threshold, count: count)
            }
        }
        #expect(throws: CryptoError(.invalidArgument, "")) { try ShamirSecretSharing.split(Data(), threshold: 1, count: 1) }
        #expect(throws: CryptoError(.malformedInput, "")) { try SecretShare(encoded: Data([0, 1, 2])) }
        #expect(try SecretShare(encoded: shares[2].encoded) == shares[2])
    }

    @Test("255 shares, the largest split, still reconstruct from the last M")
    func largestSplit() throws {
        let secret = SecureRandom.bytes(16)
        let shares = try ShamirSecretSharing.split(secret, threshold: 4, count: 255)
        #expect(shares.last?.x == 255)
        #expect(try ShamirSecretSharing.combine(Array(shares.suffix(4))) == secret)
    }

    /// Every subset of `items` with `size` elements.
    static func subsets(of items: [Int], size: Int) -> [[Int]] {
        guard size > 0 else { return [[]] }
        guard items.count >= size else { return [] }
        let first = items[0], rest = Array(items.dropFirst())
        return subsets(of: rest, size: size - 1).map { [first] + $0 } + subsets(of: rest, size: size)
    }
}
