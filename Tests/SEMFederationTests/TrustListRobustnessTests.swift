// The trust list's canonical JSON over damaged documents: the sem-fuzz seeds
// (Fuzz/corpus/trustlist, the content of a list the demo SMI signed) with seeded random
// damage, a bounded share of what scripts/fuzz runs for minutes. The decoder sits behind
// the signature check, but it must still never trap and refuse only with FederationError.
import Foundation
import SEMFederation
import SEMTestSupport
import Testing

@Suite("Trust list robustness")
struct TrustListRobustnessTests {
    @Test("damaged trust-list JSON decodes or is refused with a FederationError, never anything else")
    func damagedSeeds() throws {
        let seeds = try Mutation.seeds("trustlist")
        for seed in seeds { _ = try CanonicalJSON.decodeCanonical(TrustList.self, from: Data(seed)) }
        var generator = SeededGenerator(seed: 0x7157)
        var decoded = 0
        var foreign: [String] = []
        for round in 0..<2000 {
            let input = Data(Mutation.mutate(seeds[round % seeds.count], using: &generator))
            do {
                _ = try CanonicalJSON.decodeCanonical(TrustList.self, from: input)
                decoded += 1
            } catch let error as FederationError {
                // Syntax, model, profile and agreement faults each keep their own code.
                #expect(!error.reason.isEmpty, "\(error.code)")
            } catch {
                foreign.append("\(type(of: error)): \(error)")
            }
        }
        #expect(foreign.isEmpty, "\(foreign.prefix(3))")
        // Canonical JSON leaves almost no room: a change that still decodes must have hit
        // a string's contents, which is rare but possible.
        #expect(decoded < 2000)
    }
}
