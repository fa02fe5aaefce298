// The running policy decision point (`semd pdp`) with the domain's default policy, asked
// by curl presenting the mail server's certificate; `semctl policy check` explains.
import Foundation
import SEMTestSupport
import Testing

@Suite("PDP server", .serialized)
struct PDPServerTests {
    private static let sendLocal = """
        {"subject": {"kind": "user", "address": "alice@alpha.test", "assurance": "substantial"},
         "action": "send", "resource": {"recipient": "bob@alpha.test", "size": 2048}}
        """
    private static let sendProgram = """
        {"subject": {"kind": "user", "address": "alice@alpha.test"}, "action": "send",
         "resource": {"recipient": "bob@alpha.test",
                      "attachments": [{"size": 4096, "mediaType": "application/x-msdownload"}]}}
        """

    @Test("decisions over HTTPS with mutual TLS follow the default policy; malformed requests name the path")
    func decisionsOverHTTPS() throws {
        let scratch = try ScratchDirectory()
        let ports = try FreePorts.allocate(5)
        let environment = ["SEM_KEY_PASSPHRASE": "pdp server test", "SEM_DOMAIN_DIR": scratch.path("alpha.test")]
        let created = try Programs.run("semctl", [
            "domain", "init", "alpha.test", "--dir", scratch.url.path, "--mail-https-port", "\(ports[0])",
            "--smtp-port", "\(ports[1])", "--ca-https-port", "\(ports[2])", "--ca-http-port", "\(ports[3])",
            "--pdp-port", "\(ports[4])"], environment: environment)
        #expect(created.status == 0, "\(created.all)")
        let ca = try BackgroundProcess(Programs.url("semd"), ["ca", "--config", scratch.path("alpha.test/ca.json")],
                                       environment: environment, readyText: "semd ca ready")
        defer { ca.stop() }
        // Facts from a file: beta.test is a partner domain.
        try scratch.write("alpha.test/facts.json", #"{"groups": {"partners": {"domains": ["beta.test"]}}}"#)
        let pdp = try BackgroundProcess(Programs.url("semd"), ["pdp", "--config", scratch.path("alpha.test/pdp.json")],
                                        environment: environment, readyText: "semd pdp ready")
        defer { pdp.stop() }

        let probe = try PDPProbe(scratch: scratch, domain: "alpha.test", port: ports[4], environment: environment)
        func ask(_ path: String, _ body: String, certificate: Bool = true) throws -> (status: Int, body: String) {
            try probe.ask(path, body, certificate: certificate)
        }

        let permitted = try ask("/v1/decisions", Self.sendLocal)
        #expect(permitted.status == 200, "\(permitted.body) \(pdp.standardError)")
        #expect(permitted.body.contains("\"decision\":\"permit\""))
        #expect(permitted.body.contains("local-mail"))
        let partner = try ask("/v1/decisions", Self.sendLocal.replacingOccurrences(of: "bob@alpha.test",
                                                                                    with: "bob@beta.test"))
        #expect(partner.body.contains("\"decision\":\"permit\""), "\(partner.body)")
        #expect(partner.body.contains("partner-mail"))
        #expect(partner.body.contains("minimum-algorithm"))
        let stranger = try ask("/v1/decisions", Self.sendLocal.replacingOccurrences(of: "bob@alpha.test",
                                                                                     with: "bob@gamma.test"))
        #expect(stranger.body.contains("\"decision\":\"deny\""))
        let denied = try ask("/v1/decisions", Self.sendProgram)
        #expect(denied.body.contains("\"decision\":\"deny\""))
        #expect(denied.body.contains("no-executables"))
        let malformed = try ask("/v1/decisions", #"{"subject": {"kind": "user", "address": "a@alpha.test"}, "action": "fly"}"#)
        #expect(malformed.status == 400)
        #expect(malformed.body.contains("$.action"))
        let explained = try ask("/v1/explanations", Self.sendProgram)
        #expect(explained.status == 200)
        #expect(explained.body.contains("no-executables"))
        let anonymous = try ask("/v1/decisions", Self.sendLocal, certificate: false)
        #expect(anonymous.status != 200)
    }

    @Test("semctl policy check explains a decision and refuses a malformed policy with its path")
    func policyCheck() throws {
        let scratch = try ScratchDirectory()
        let environment = ["SEM_KEY_PASSPHRASE": "policy check test"]
        #expect(try Programs.run("semctl", ["domain", "init", "alpha.test", "--dir", scratch.url.path],
                                 environment: environment).status == 0)
        try scratch.write("request.json", Self.sendProgram)
        let explained = try Programs.run("semctl", ["policy", "check", scratch.path("alpha.test/policy.json"),
                                                    scratch.path("request.json")])
        #expect(explained.status == 0, "\(explained.all)")
        #expect(explained.output.contains("deny"))
        #expect(explained.output.contains("no-executables"))
        try scratch.write("bad.json", #"{"version": 1, "rules": [{"id": "x", "effect": "perhaps", "actions": ["send"]}]}"#)
        let refused = try Programs.run("semctl", ["policy", "check", scratch.path("bad.json"), scratch.path("request.json")])
        #expect(refused.status == 1)
        #expect(refused.errors.contains("$.rules[0].effect"), "\(refused.errors)")
    }
}
