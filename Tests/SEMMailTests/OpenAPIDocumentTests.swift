// The OpenAPI document of the client API promises what scripts/api-fuzz (schemathesis)
// checks against a running server; these checks keep the promises in the document:
// every error is the Error schema, every route but /openapi.json may answer 401, and an
// operation with parameters in its path or query documents the 400 that the HTTP layer
// gives for a malformed one (a percent-encoded control character, for example).
import Foundation
import Testing

@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/SEMMail/Resources/openapi.json")

    @Test("every operation documents its errors as the JSON Error body, with 401 and 400 where they can occur")
    func errorsDocumented() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.file)) as? [String: Any])
        let components = try #require(document["components"] as? [String: Any])
        let responses = try #require(components["responses"] as? [String: [String: Any]])
        for (name, response) in responses {
            let schema = ((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
            #expect((schema as? [String: String])?["$ref"] == "#/components/schemas/Error", "\(name)")
        }
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations = 0
        for (path, item) in paths {
            for (method, value) in item {
                guard let operation = value as? [String: Any], let codes = operation["responses"] as? [String: Any] else {
                    continue
                }
                operations += 1
                let what = "\(method.uppercased()) \(path)"
                for (code, response) in codes where code.hasPrefix("4") || code.hasPrefix("5") {
                    let reference = (response as? [String: String])?["$ref"] ?? ""
                    #expect(reference == "#/components/responses/E\(code)", "\(what) \(code) is not the Error body")
                }
                let parameters = (operation["parameters"] as? [[String: Any]] ?? [])
                    + (item["parameters"] as? [[String: Any]] ?? [])
                if parameters.contains(where: { ["path", "query"].contains($0["in"] as? String) }) {
                    #expect(codes["400"] != nil, "\(what) has parameters but no 400")
                }
                if path != "/openapi.json" { #expect(codes["401"] != nil, "\(what) has no 401") }
            }
        }
        #expect(operations >= 19)
    }
}
