import Foundation
@testable import SEMPolicy
import Testing

@Suite("Decision requests")
struct DecisionRequestTests {
    typealias F = PolicyFixture

    static let full = """
        {"subject": {"kind": "user", "address": "Alice@Alpha.TEST", "assurance": "high",
                     "certificate": {"issuer": "CN=Alpha CA", "subject": "CN=Alice", "policies": ["1.3.6.1.4.1.55555.1.2"]},
                     "groups": ["finance"]},
         "action": "send",
         "resource": {"recipient": "Bob@Beta.test", "size": 20480, "recipientGroups": ["partners"],
                      "attachments": [{"size": 1000, "mediaType": "Image/PNG; name=logo.png"}]},
         "context": {"time": "2026-03-02T10:00:00Z", "clientIP": "192.0.2.10", "tls": "TLSv1.3"}}
        """

    @Test("a request is read, normalised and written back with the documented member names")
    func readAndWrite() throws {
        let request = try F.request(Self.full)
        #expect(request.subject.address == "alice@alpha.test")
        #expect(request.subject.domain == "alpha.test")
        #expect(request.resource.recipient == "bob@beta.test")
        #expect(request.resource.recipientDomain == "beta.test")
        #expect(request.resource.attachments.first?.mediaType == "image/png")
        #expect(request.context.clientIP == "192.0.2.10")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(request), as: UTF8.self)
        #expect(text == #"{"action":"send","context":{"clientIP":"192.0.2.10","time":"2026-03-02T10:00:00Z","tls":"TLSv1.3"},"#
                + #""resource":{"attachments":[{"mediaType":"image/png","size":1000}],"recipient":"bob@beta.test","#
                + #""recipientDomain":"beta.test","recipientGroups":["partners"],"size":20480},"#
                + #""subject":{"address":"alice@alpha.test","assurance":"high","certificate":{"issuer":"CN=Alpha CA","#
                + #""policies":["1.3.6.1.4.1.55555.1.2"],"subject":"CN=Alice"},"domain":"alpha.test","groups":["finance"],"kind":"user"}}"#)
        #expect(try DecisionRequest.parse(Data(text.utf8)) == request)
    }

    @Test("requests that mean the same are equal and hash alike")
    func equality() throws {
        let a = try F.request(#"{"subject": {"kind": "user", "address": "A@X.TEST"}, "action": "lookup", "context": {"clientIP": "2001:DB8::1"}}"#)
        let b = try F.request(#"{"subject": {"kind": "user", "address": "a@x.test", "domain": "x.test"}, "action": "lookup", "context": {"clientIP": "2001:db8:0::1"}}"#)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        let c = try F.request(#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "lookup", "context": {"clientIP": "2001:db8::2"}}"#)
        #expect(a != c)
    }

    @Test("a malformed request is refused with the exact JSON path", arguments: [
        (#"{"subject": {"kind": "user", "address": "a@x.test"}}"#, PolicyError.Code.missingField, "$.action"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "forward"}"#, .invalidValue, "$.action"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "extra": 1}"#, .unknownField, "$.extra"),
        (#"{"subject": {"kind": "user"}, "action": "send"}"#, .invalidValue, "$.subject"),
        (#"{"subject": {"kind": "server", "name": "mx.x.test"}, "action": "send"}"#, .invalidValue, "$.subject"),
        (#"{"subject": {"kind": "user", "address": "a x@x.test"}, "action": "send"}"#, .invalidValue, "$.subject.address"),
        (#"{"subject": {"kind": "server", "name": "mx_1.x.test", "domain": "x.test"}, "action": "send"}"#, .invalidValue, "$.subject.name"),
        (#"{"subject": {"kind": "user", "address": "a@x.test", "groups": ["ok", "not ok"]}, "action": "send"}"#, .invalidValue, "$.subject.groups[1]"),
        (#"{"subject": {"kind": "user", "address": "a@x.test", "assurance": "medium"}, "action": "send"}"#, .invalidValue, "$.subject.assurance"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "resource": {"recipient": "nobody"}}"#, .invalidValue, "$.resource.recipient"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "resource": {"size": -1}}"#, .invalidValue, "$.resource.size"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "resource": {"attachments": [{"size": 1, "mediaType": "png"}]}}"#,
         .invalidValue, "$.resource.attachments[0].mediaType"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "resource": {"attachments": [{"size": 1}]}}"#,
         .missingField, "$.resource.attachments[0].mediaType"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "context": {"clientIP": "999.1.1.1"}}"#, .invalidValue, "$.context.clientIP"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "context": {"time": "yesterday"}}"#, .invalidValue, "$.context.time"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "context": {"tls": "TLSv1.4"}}"#, .invalidValue, "$.context.tls"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "action": "lookup"}"#, .duplicateKey, "$.action"),
    ] as [(String, PolicyError.Code, String)])
    func malformed(_ json: String, _ code: PolicyError.Code, _ path: String) {
        let error = F.policyError { _ = try F.request(json) }
        #expect(error?.code == code, "got \(String(describing: error))")
        #expect(error?.path == path, "got \(String(describing: error))")
    }

    @Test("requests are bounded in size")
    func bounded() {
        let padding = String(repeating: " ", count: 70_000)
        let error = F.policyError { _ = try F.request(#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send"}"# + padding) }
        #expect(error?.code == .tooLarge)
        let many = (0..<1001).map { _ in #"{"size": 1, "mediaType": "a/b"}"# }.joined(separator: ",")
        let tooMany = F.policyError {
            _ = try F.request(#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "send", "resource": {"attachments": [\#(many)]}}"#)
        }
        #expect(tooMany?.path == "$.resource.attachments")
    }

    @Test("the engine decides JSON requests and refuses bad ones")
    func decideJSON() throws {
        let engine = try F.engine(F.document(rules: #"{"id": "r", "effect": "permit", "description": "x", "actions": ["send"]}"#))
        #expect(try engine.decide(json: Data(Self.full.utf8)).isPermit)
        #expect(throws: PolicyError.self) { try engine.decide(json: Data("{}".utf8)) }
    }
}
