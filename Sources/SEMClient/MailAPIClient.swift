// The client side of the mail server's API (docs/MAIL.md, Sources/SEMMail/Resources/
// openapi.json): a user's HTTPS calls with the signing certificate as the login and the
// server checked against the domain root, revocation included.
public import Foundation
public import SEMCrypto
public import SEMMail
import SEMTransport

public struct MailAPIClient: Sendable {
    public let host: String
    public let port: UInt16
    public let serverName: String
    let tls: TLSContext

    /// `credential` is the user's signing certificate and key (possibly on a token);
    /// `chain` what to present after it; `root` the pinned domain root.
    public init(host: String, port: UInt16, domain: String, credential: CertifiedKey, chain: [Certificate],
                root: Certificate, intermediates: [Certificate] = []) throws {
        self.host = host
        self.port = port
        serverName = "mail.\(domain)"
        let validator = PathValidator(trustAnchors: [root], knownIntermediates: intermediates,
                                      revocationChecker: OnlineRevocationChecker())
        tls = try TLSContext(.client(peerVerifier: PathValidatingPeerVerifier(validator: validator, purpose: .tlsServer),
                                     chain: [credential.certificate] + chain, key: credential.key))
    }

    public struct Me: Decodable, Sendable {
        public let address: String
        public let domain: String
        public let trustListSequence: UInt64?
    }

    public func me() throws -> Me { try call { try $0.getJSON("/v1/me", as: Me.self) } }

    public func trustList() throws -> Data { try bytes("/v1/trust-list", limit: 16 << 20) }

    public func lookup(_ address: String) throws -> DirectoryEntry {
        try call { try $0.getJSON("/v1/directory/\(address)", as: DirectoryEntry.self) }
    }

    /// Uploads ciphertext; `read(n)` returns up to n more bytes, empty at the end.
    public func upload(length: Int64, read: @escaping (Int) throws -> Data) throws -> String {
        struct Uploaded: Decodable { let id: String }
        let body = HTTPOutgoingBody.stream(length: length) { writer in
            while true {
                let chunk = try read(256 << 10)
                if chunk.isEmpty { return }
                try writer.write(chunk)
            }
        }
        return try call { http in
            try http.send(HTTPClientRequest(method: "POST", target: "/v1/attachments",
                                            headers: ["Content-Type": "application/octet-stream"], body: body))
                .decodeJSON(Uploaded.self).id
        }
    }

    /// Uploads `ciphertext`; `progress` hears the bytes sent so far after every piece.
    public func upload(_ ciphertext: Data, progress: ((Int64) -> Void)? = nil) throws -> String {
        var offset = 0
        return try upload(length: Int64(ciphertext.count)) { count in
            defer {
                offset = min(ciphertext.count, offset + count)
                progress?(Int64(offset))
            }
            return ciphertext.subdata(in: offset..<min(ciphertext.count, offset + count))
        }
    }

    /// Files an abuse report about a letter in the mailbox.
    public func report(_ request: ReportRequest) throws -> AbuseReport {
        try call { try $0.sendJSON("POST", "/v1/reports", request, as: AbuseReport.self, limit: 64 << 10) }
    }

    /// Attachment bytes the server stores, against what one full copy per mailbox that
    /// refers to them would take (`GET /v1/attachments-footprint`).
    public struct AttachmentFootprint: Decodable, Sendable {
        public let stored: Int64
        public let perMailbox: Int64
    }

    public func attachmentFootprint() throws -> AttachmentFootprint {
        try call { try $0.getJSON("/v1/attachments-footprint", as: AttachmentFootprint.self) }
    }

    /// Asks whether attachments of these types and sizes may be saved (policy `fetch-attachment`).
    public func checkAttachments(_ check: AttachmentCheck) throws -> AttachmentCheckResult {
        try call { try $0.sendJSON("POST", "/v1/attachment-checks", check, as: AttachmentCheckResult.self, limit: 64 << 10) }
    }

    public func submit(_ submission: Submission) throws -> SubmissionResult {
        try call { try $0.sendJSON("POST", "/v1/messages", submission, as: SubmissionResult.self, limit: 1 << 20) }
    }

    public struct Page: Decodable, Sendable {
        public let entries: [MailboxEntry]
        public let cursor: Int64
    }

    public func changes(after cursor: Int64, limit: Int = 500) throws -> Page {
        try call { try $0.getJSON("/v1/messages?after=\(cursor)&limit=\(limit)", as: Page.self, limit: 16 << 20) }
    }

    public func content(_ id: String) throws -> Data { try bytes("/v1/messages/\(id)/content", limit: 64 << 20) }

    /// Streams an attachment's ciphertext to `sink`; returns the bytes received. `limit`
    /// bounds the body (default: the mail server's default largest attachment, 1 GiB);
    /// without it the HTTP client's general 10 MiB response limit would apply.
    @discardableResult
    public func download(_ id: String, limit: Int64 = 1 << 30, to sink: (Data) throws -> Void) throws -> Int64 {
        try call { http in
            let response = try http.send(HTTPClientRequest(method: "GET", target: "/v1/attachments/\(id)",
                                                           responseBodyLimit: limit))
            guard response.status == 200 else { throw response.remoteError() }
            var total: Int64 = 0
            while true {
                let chunk = try response.body.read(maximum: 256 << 10)
                if chunk.isEmpty { return total }
                total += Int64(chunk.count)
                try sink(chunk)
            }
        }
    }

    /// The whole ciphertext of an attachment; `progress` hears the bytes received so far.
    public func attachment(_ id: String, progress: ((Int64) -> Void)? = nil) throws -> Data {
        var all = Data()
        try download(id) {
            all.append($0)
            progress?(Int64(all.count))
        }
        return all
    }

    /// The encrypted address book and its version; nil when none is stored.
    public func addressBook() throws -> (version: Int64, content: Data)? {
        try call { http in
            let response = try http.send(HTTPClientRequest(method: "GET", target: "/v1/address-book"))
            if response.status == 404 { return nil }
            guard response.status == 200 else { throw response.remoteError() }
            let tag = (response.headers.first("ETag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (Int64(tag) ?? 0, try response.body.readAll(limit: MailService.maximumAddressBookBytes))
        }
    }

    /// Stores a new version; throws `HTTPRemoteError` 409 when `expected` is not current.
    public func putAddressBook(_ content: Data, expected: Int64) throws -> Int64 {
        struct Version: Decodable { let version: Int64 }
        return try call { http in
            try http.send(HTTPClientRequest(method: "PUT", target: "/v1/address-book",
                                            headers: ["If-Match": "\"\(expected)\"", "Content-Type": "application/octet-stream"],
                                            body: .bytes(Array(content)))).decodeJSON(Version.self).version
        }
    }

    private func bytes(_ target: String, limit: Int) throws -> Data {
        try call { http in
            let response = try http.send(HTTPClientRequest(method: "GET", target: target))
            guard response.status == 200 else { throw response.remoteError() }
            return try response.body.readAll(limit: limit)
        }
    }

    private func call<T>(_ body: (HTTPClient) throws -> T) throws -> T {
        let http = HTTPClient(configuration: HTTPClientConfiguration(host: host, port: port, tls: tls, serverName: serverName))
        defer { http.close() }
        return try body(http)
    }
}
