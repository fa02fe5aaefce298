import Foundation
@testable import SEMPolicy
import Testing

@Suite("Decision requests")
struct DecisionRequestTests {
    typealias F = PolicyFixture

    static let full = """
        {"subject": {"kind": "user", "address": "Alice@Alpha.TEST", "assurance": "high",
                     "certificate": {"issuer": "CN=Alpha CA", "subject": "CN=Alice",
                                     "policies": ["1.3.6.1.4.1.55555.1.2"]},
                     "groups": ["finance"]},
         "action": "send",
         "resource": {"recipient": "Bob@Beta.test", "size": 20480, "recipientGroups": ["partners"],
                      "attachments": [{"size": 1000, "mediaType": "Image/PNG; name=logo.png"}]},
         "context": {"time": "2026-03-02T10:00:00Z", "clientIP": "192.0.2.10", "tls": "TLSv1.3"}}
        """

    /// A request by a@x.test for `send` with the given extra members (and subject members).
    static func send(_ members: String = "", subject: String = "") -> String {
        #"{"subject": {"kind": "user", "address": "a@x.test"\#(subject)}, "action": "send"\#(members)}"#
    }

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
        let expected = [
            #"{"action":"send","#,
            #""context":{"clientIP":"192.0.2.10","time":"2026-03-02T10:00:00Z","tls":"TLSv1.3"},"#,
            #""resource":{"attachments":[{"mediaType":"image/png","size":1000}],"recipient":"bob@beta.test","#,
            #""recipientDomain":"beta.test","recipientGroups":["partners"],"size":20480},"#,
            #""subject":{"address":"alice@alpha.test","assurance":"high","#,
            #""certificate":{"issuer":"CN=Alpha CA","policies":["1.3.6.1.4.1.55555.1.2"],"subject":"CN=Alice"},"#,
            #""domain":"alpha.test","groups":["finance"],"kind":"user"}}"#,
        ].joined()
        #expect(text == expected)
        #expect(try DecisionRequest.parse(Data(text.utf8)) == request)
    }

    @Test("requests that mean the same are equal and hash alike")
    func equality() throws {
        let lookup = { (subject: String, ip: String) in
            try F.request(#"{"subject": {"kind": "user", \#(subject)}, "action": "lookup", "#
                          + #""context": {"clientIP": "\#(ip)"}}"#)
        }
        let a = try lookup(#""address": "A@X.TEST""#, "2001:DB8::1")
        let b = try lookup(#""address": "a@x.test", "domain": "x.test""#, "2001:db8:0::1")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != (try lookup(#""address": "a@x.test""#, "2001:db8::2")))
    }

    @Test("a malformed request is refused with the exact JSON path", arguments: [
        (#"{"subject": {"kind": "user", "address": "a@x.test"}}"#, PolicyError.Code.missingField, "$.action"),
        (#"{"subject": {"kind": "user", "address": "a@x.test"}, "action": "forward"}"#, .invalidValue, "$.action"),
        (send(#", "extra": 1"#), .unknownField, "$.extra"),
        (#"{"subject": {"kind": "user"}, "action": "send"}"#, .invalidValue, "$.subject"),
        (#"{"subject": {"kind": "server", "name": "mx.x.test"}, "action": "send"}"#, .invalidValue, "$.subject"),
        (#"{"subject": {"kind": "user", "address": "a x@x.test"}, "action": "send"}"#,
         .invalidValue, "$.subject.address"),
        (#"{"subject": {"kind": "server", "name": "mx_1.x.test", "domain": "x.test"}, "action": "send"}"#,
         .invalidValue, "$.subject.name"),
        (send(subject: #", "groups": ["ok", "not ok"]"#), .invalidValue, "$.subject.groups[1]"),
        (send(subject: #", "assurance": "medium""#), .invalidValue, "$.subject.assurance"),
        (send(#", "resource": {"recipient": "nobody"}"#), .invalidValue, "$.resource.recipient"),
        (send(#", "resource": {"size": -1}"#), .invalidValue, "$.resource.size"),
        (send(#", "resource": {"attachments": [{"size": 1, "mediaType": "png"}]}"#),
         .invalidValue, "$.resource.attachments[0].mediaType"),
        (send(#", "resource": {"attachments": [{"size": 1}]}"#), .missingField, "$.resource.attachments[0].mediaType"),
        (send(#", "context": {"clientIP": "999.1.1.1"}"#), .invalidValue, "$.context.clientIP"),
        (send(#", "context": {"time": "yesterday"}"#), .invalidValue, "$.context.time"),
        (send(#", "context": {"tls": "TLSv1.4"}"#), .invalidValue, "$.context.tls"),
        (send(#", "action": "lookup""#), .duplicateKey, "$.action"),
        (send(subject: #", "mail": "a@x.test""#), .unknownField, "$.subject.mail"),
        (send(subject: #", "certificate": {"serial": "01"}"#), .unknownField, "$.subject.certificate.serial"),
        (send(#", "resource": {"attachments": [{"size": 1, "mediaType": "a/b", "name": "x"}]}"#),
         .unknownField, "$.resource.attachments[0].name"),
        (send(#", "context": {"port": 25}"#), .unknownField, "$.context.port"),
    ] as [(String, PolicyError.Code, String)])
    func malformed(_ json: String, _ code: PolicyError.Code, _ path: String) {
        let error = F.policyError { _ = try F.request(json) }
        #expect(error?.code == code, "got \(String(describing: error))")
        #expect(error?.path == path, "got \(String(describing: error))")
    }

    @Test("a plain JSONDecoder refuses unknown members too")
    func plainDecoder() {
        let json = Self.send(#", "resource": {"attachments": [{"size": 1, "mediaType": "a/b", "name": "x"}]}"#)
        #expect(throws: PolicyError(.unknownField, at: "$.resource.attachments[0].name", "")) {
            try JSONDecoder().decode(DecisionRequest.self, from: Data(json.utf8))
        }
    }

    @Test("requests are bounded in size")
    func bounded() {
        let padding = String(repeating: " ", count: 70_000)
        let error = F.policyError { _ = try F.request(Self.send() + padding) }
        #expect(error?.code == .tooLarge)
        let many = (0..<1001).map { _ in #"{"size": 1, "mediaType": "a/b"}"# }.joined(separator: ",")
        let tooMany = F.policyError { _ = try F.request(Self.send(#", "resource": {"attachments": [\#(many)]}"#)) }
        #expect(tooMany?.path == "$.resource.attachments")
    }

    @Test("the engine decides JSON requests and refuses bad ones")
    func decideJSON() throws {
        let rule = #"{"id": "r", "effect": "permit", "description": "x", "actions": ["send"]}"#
        let engine = try F.engine(F.document(rules: rule))
        #expect(try engine.decide(json: Data(Self.full.utf8)).isPermit)
        #expect(throws: PolicyError.self) { try engine.decide(json: Data("{}".utf8)) }
    }
}
