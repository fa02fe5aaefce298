// semctl policy check POLICY REQUEST
import Foundation
import SEMCommandLine
import SEMPolicy

enum PolicyCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        guard arguments.first == "check" else { throw UsageError("Expected 'policy check'.") }
        let parsed = try Arguments(arguments.dropFirst(), flags: ["json"])
        try parsed.expectPositionals(atMost: 2)
        let policyPath = try parsed.positional(0, "the policy file")
        let requestPath = try parsed.positional(1, "the request file")
        let engine = try PolicyEngine(json: try read(policyPath))
        let request = try DecisionRequest.parse(try read(requestPath))
        let explanation = engine.explain(request)
        if parsed.flag("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(explanation), as: UTF8.self))
        } else {
            print(explanation.text)
        }
        return 0
    }

    private static func read(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw UsageError("Cannot read \(path).")
        }
    }
}
