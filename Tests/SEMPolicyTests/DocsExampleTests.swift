import Foundation
@testable import SEMPolicy
import Testing

/// Runs the examples of docs/POLICY.md. A fenced block's info string carries a tag such
/// as `policy=office-hours` or `request=office-hours/saturday repeat=4`.
@Suite("Examples of docs/POLICY.md")
struct DocsExampleTests {
    typealias F = PolicyFixture

    struct Block {
        let tag: String
        let name: String
        let attributes: [String: String]
        let text: String
    }

    static let blocks: [Block] = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/POLICY.md")
        guard let markdown = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        var blocks: [Block] = []
        var open: (attributes: [String: String], lines: [String])?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let current = open {
                    if let (tag, name) = current.attributes.first(where: { Self.tags.contains($0.key) }) {
                        blocks.append(Block(tag: tag, name: name, attributes: current.attributes,
                                            text: current.lines.joined(separator: "\n")))
                    }
                    open = nil
                } else {
                    var attributes: [String: String] = [:]
                    for word in line.dropFirst(3).split(separator: " ").dropFirst() {
                        let parts = word.split(separator: "=", maxSplits: 1)
                        if parts.count == 2 { attributes[String(parts[0])] = String(parts[1]) }
                    }
                    open = (attributes, [])
                }
            } else if open != nil {
                open!.lines.append(String(line))
            }
        }
        return blocks
    }()

    static let tags: Set<String> = ["policy", "request", "response", "facts", "explanation", "error", "parses"]

    static func block(_ tag: String, _ name: String) -> Block? {
        blocks.first { $0.tag == tag && $0.name == name }
    }

    static func engine(for example: String) throws -> PolicyEngine {
        let policy = try #require(block("policy", example), "no policy block for \(example)")
        let facts = try block("facts", example).map { try ExternalFacts.parse(Data($0.text.utf8)) } ?? ExternalFacts()
        return try F.engine(policy.text, facts: facts)
    }

    static func exampleName(_ name: String) -> String { String(name.split(separator: "/")[0]) }

    @Test("the page has its examples")
    func found() {
        #expect(Self.blocks.filter { $0.tag == "response" }.count == 14)
        #expect(Self.blocks.filter { $0.tag == "error" }.count == 2)
        #expect(Self.blocks.filter { $0.tag == "request" }.count == Self.blocks.filter { $0.tag == "response" }.count)
    }

    @Test("each documented request gets the documented response",
          arguments: blocks.filter { $0.tag == "response" }.map(\.name))
    func responses(_ name: String) throws {
        let request = try #require(Self.block("request", name), "no request block for \(name)")
        let expected = try DecisionResponse.parse(Data(try #require(Self.block("response", name)).text.utf8))
        let engine = try Self.engine(for: Self.exampleName(name))
        let parsed = try DecisionRequest.parse(Data(request.text.utf8))
        var response: DecisionResponse?
        for _ in 0..<(Int(request.attributes["repeat"] ?? "1") ?? 1) { response = engine.decide(parsed) }
        #expect(response == expected)
    }

    @Test("each documented explanation is the engine's",
          arguments: blocks.filter { $0.tag == "explanation" }.map(\.name))
    func explanations(_ name: String) throws {
        let request = try DecisionRequest.parse(Data(try #require(Self.block("request", name)).text.utf8))
        let engine = try Self.engine(for: Self.exampleName(name))
        #expect(engine.explain(request).text == Self.block("explanation", name)?.text)
    }

    @Test("each documented refusal is the engine's", arguments: blocks.filter { $0.tag == "error" }.map(\.name))
    func errors(_ name: String) throws {
        let policy = try #require(Self.block("policy", name))
        let error = F.policyError { _ = try PolicyDocument.parse(policy.text) }
        #expect(error?.description == Self.block("error", name)?.text)
    }

    @Test("every other documented policy, request, response and set of facts reads")
    func others() throws {
        let refused = Set(Self.blocks.filter { $0.tag == "error" }.map(\.name))
        for block in Self.blocks {
            let data = Data(block.text.utf8)
            switch (block.tag, block.name) {
            case ("policy", let name) where !refused.contains(name): _ = try PolicyDocument.parse(data)
            case ("parses", "request"): _ = try DecisionRequest.parse(data)
            case ("parses", "response"): _ = try DecisionResponse.parse(data)
            case ("parses", "facts"): _ = try ExternalFacts.parse(data)
            case ("parses", let other): Issue.record("unknown parses= kind \(other)")
            default: break
            }
        }
    }

    @Test("the documented default policy is the one DefaultPolicy makes")
    func defaultPolicy() throws {
        let documented = try PolicyDocument.parse(try #require(Self.block("policy", "default")).text)
        #expect(documented == (try DefaultPolicy.document(for: "alpha.test")))
    }
}
