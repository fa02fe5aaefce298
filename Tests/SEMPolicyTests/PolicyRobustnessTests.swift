// The policy reader over damaged documents: the sem-fuzz seeds (Fuzz/corpus/policy) with
// seeded random damage, a bounded share of what scripts/fuzz runs for minutes. Nothing
// may trap, and every refusal must be a PolicyError with a JSON path, never a stray
// DecodingError, so that `semctl policy check` can always name the fault.
import Foundation
import SEMPolicy
import SEMTestSupport
import Testing

@Suite("Policy robustness")
struct PolicyRobustnessTests {
    @Test("damaged policy documents are read or refused with a PolicyError, never anything else")
    func damagedSeeds() throws {
        let seeds = try Mutation.seeds("policy")
        for seed in seeds { _ = try PolicyDocument.parse(Data(seed)) }
        var generator = SeededGenerator(seed: 0x9011)
        var parsed = 0
        var foreign: [String] = []
        var unnamed: [String] = []
        for round in 0..<2000 {
            let input = Data(Mutation.mutate(seeds[round % seeds.count], using: &generator))
            do {
                _ = try PolicyDocument.parse(input)
                parsed += 1
            } catch let error as PolicyError {
                if error.description.isEmpty { unnamed.append(String(decoding: input, as: UTF8.self)) }
            } catch {
                foreign.append("\(type(of: error)): \(error)")
            }
        }
        #expect(foreign.isEmpty, "\(foreign.prefix(3))")
        #expect(unnamed.isEmpty)
        #expect(parsed > 0 && parsed < 2000)
    }
}
