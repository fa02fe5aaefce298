// How the demo's people use their mail servers: the client API over HTTPS with their own
// signing certificate as the login, as the `sem` client will.
import Foundation
import SEMCrypto
import SEMMail
import SEMTransport

struct DemoMailbox {
    let user: DemoUser

    /// A fresh connection to the user's own mail server, checked against the domain root.
    private func client() throws -> HTTPClient {
        let domain = user.domain
        let validator = PathValidator(trustAnchors: [domain.root], knownIntermediates: [domain.pki.identity.issuer.certificate],
                                      revocationChecker: OnlineRevocationChecker())
        let tls = try TLSContext(.client(peerVerifier: PathValidatingPeerVerifier(validator: validator, purpose: .tlsServer),
                                         chain: [user.signing.certificate, domain.pki.identity.issuer.certificate],
                                         key: user.signing.key))
        return HTTPClient(configuration: HTTPClientConfiguration(host: "127.0.0.1", port: domain.ports.mailHTTPS, tls: tls,
                                                                  serverName: "mail.\(domain.name)"))
    }

    private func call<T>(_ body: (HTTPClient) throws -> T) throws -> T {
        let http = try client()
        defer { http.close() }
        return try body(http)
    }

    /// GET /v1/me: the address the server sees in the certificate.
    func me() throws -> String {
        struct Me: Decodable { let address: String }
        return try call { try $0.getJSON("/v1/me", as: Me.self).address }
    }

    func upload(_ ciphertext: Data) throws -> String {
        struct Uploaded: Decodable { let id: String }
        return try call { http in
            try http.send(HTTPClientRequest(method: "POST", target: "/v1/attachments",
                                            headers: ["Content-Type": "application/octet-stream"],
                                            body: .bytes(Array(ciphertext)))).decodeJSON(Uploaded.self).id
        }
    }

    func submit(_ content: Data, to recipients: [String], attachments: [Submission.Attachment] = []) throws -> SubmissionResult {
        try call { try $0.sendJSON("POST", "/v1/messages", Submission(recipients: recipients, content: content,
                                                                       attachments: attachments),
                                   as: SubmissionResult.self) }
    }

    func entries() throws -> [MailboxEntry] {
        struct Page: Decodable { let entries: [MailboxEntry] }
        return try call { try $0.getJSON("/v1/messages?after=0&limit=1000", as: Page.self).entries }
    }

    func content(_ id: String) throws -> Data {
        try call { http in
            let response = try http.send(HTTPClientRequest(method: "GET", target: "/v1/messages/\(id)/content"))
            guard response.status == 200 else { throw response.remoteError() }
            return try response.body.readAll(limit: 64 << 20)
        }
    }

    func attachment(_ id: String) throws -> Data {
        try call { http in
            let response = try http.send(HTTPClientRequest(method: "GET", target: "/v1/attachments/\(id)"))
            guard response.status == 200 else { throw response.remoteError() }
            return try response.body.readAll(limit: 64 << 20)
        }
    }

    /// Waits up to `seconds` for an entry matching `condition`.
    func waitFor(_ seconds: TimeInterval = 20, _ condition: (MailboxEntry) -> Bool) throws -> MailboxEntry {
        let deadline = Date() + seconds
        while true {
            if let found = try entries().first(where: condition) { return found }
            guard Date() < deadline else { throw DemoFailure("nothing arrived within \(Int(seconds)) seconds") }
            Thread.sleep(forTimeInterval: 0.25)
        }
    }
}
