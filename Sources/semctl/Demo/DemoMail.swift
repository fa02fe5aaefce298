// How the demo's people use their mail servers: the client API (MailAPIClient) with their
// own signing certificate as the login, as the `sem` client does.
import Foundation
import SEMClient
import SEMMail

struct DemoMailbox {
    let user: DemoUser

    var api: MailAPIClient {
        get throws {
            let domain = user.domain
            return try MailAPIClient(host: "127.0.0.1", port: domain.ports.mailHTTPS, domain: domain.name,
                                     credential: user.signing, chain: [domain.pki.identity.issuer.certificate],
                                     root: domain.root, intermediates: [domain.pki.identity.issuer.certificate])
        }
    }

    func me() throws -> String { try api.me().address }
    func upload(_ ciphertext: Data) throws -> String { try api.upload(ciphertext) }

    func submit(_ content: Data, to recipients: [String], attachments: [Submission.Attachment] = []) throws -> SubmissionResult {
        try api.submit(Submission(recipients: recipients, content: content, attachments: attachments))
    }

    func entries() throws -> [MailboxEntry] { try api.changes(after: 0).entries }
    func content(_ id: String) throws -> Data { try api.content(id) }
    func attachment(_ id: String) throws -> Data { try api.attachment(id) }

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
