// Seeded mutation for the parser robustness tests: a deterministic generator, a mutator
// that damages valid inputs (bytes replaced, inserted, removed, ranges duplicated, with a
// bias towards the octets parsers care about), and the seeds sem-fuzz starts from.
// The same seeds drive libFuzzer in scripts/fuzz; the tests run a bounded, repeatable
// share of that work on every test run.
import Foundation

/// SplitMix64: a small deterministic generator so that "random" runs repeat exactly.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum Mutation {
    /// Line ends, NUL, dot, colon, space, angle brackets, quotes, backslash, high and DEL
    /// octets, and the JSON and MIME punctuation.
    public static let special: [UInt8] = Array("\r\n\0.: <>\"\\{}[],=-;".utf8) + [0xFF, 0x7F, 0xC3]

    /// `input` with one to six random changes.
    public static func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var out = input
        for _ in 0..<Int.random(in: 1...6, using: &generator) where !out.isEmpty {
            let index = Int.random(in: 0..<out.count, using: &generator)
            let byte = Bool.random(using: &generator) ? special.randomElement(using: &generator)!
                : UInt8.random(in: 0...255, using: &generator)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: out[index] = byte
            case 1: out.insert(byte, at: index)
            case 2: out.remove(at: index)
            default:
                // A copied run of bytes: repeats headers, parts, members and brackets.
                let end = min(out.count, index + Int.random(in: 1...32, using: &generator))
                out.insert(contentsOf: out[index..<end], at: Int.random(in: 0...out.count, using: &generator))
            }
        }
        return out
    }

    /// The seed inputs of one sem-fuzz target (Fuzz/corpus/<target>/), sorted by name.
    public static func seeds(_ target: String) throws -> [[UInt8]] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/\(target)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { [UInt8](try Data(contentsOf: directory.appendingPathComponent($0))) }
    }
}
