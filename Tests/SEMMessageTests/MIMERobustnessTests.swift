// The MIME parser over damaged messages: the sem-fuzz seeds (Fuzz/corpus/mime) with seeded
// random damage, a bounded share of what scripts/fuzz runs for minutes. Nothing may trap,
// and every refusal must be a MessageError, so that the mail server can name it.
import Foundation
import SEMMessage
import SEMTestSupport
import Testing

@Suite("MIME robustness")
struct MIMERobustnessTests {
    @Test("damaged messages parse or are refused with a MessageError, never anything else")
    func damagedSeeds() throws {
        let seeds = try Mutation.seeds("mime")
        let parser = MIMEParser()
        // The seeds themselves are valid messages, so damage starts from the parsing path.
        for seed in seeds { _ = try parser.parse(Data(seed)) }
        var generator = SeededGenerator(seed: 2045)
        var parsed = 0
        var foreign: [String] = []
        for round in 0..<2000 {
            let input = Data(Mutation.mutate(seeds[round % seeds.count], using: &generator))
            do {
                _ = try parser.parse(input)
                parsed += 1
            } catch is MessageError {
            } catch {
                foreign.append("\(type(of: error)): \(error)")
            }
            do {
                _ = try parser.rawParts(of: input)
            } catch is MessageError {
            } catch {
                foreign.append("rawParts \(type(of: error)): \(error)")
            }
        }
        #expect(foreign.isEmpty, "\(foreign.prefix(3))")
        #expect(parsed > 0 && parsed < 2000)
    }
}
