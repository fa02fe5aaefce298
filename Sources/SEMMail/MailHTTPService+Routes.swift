// The routes of MailHTTPService, grouped as the file header of MailHTTPService.swift lists them.
import Foundation
import SEMCrypto
import SEMTransport

extension MailHTTPService {
    static let submissionLimit = 48 << 20

    func addUserRoutes(to router: inout HTTPRouter<HTTPHandler>) {
        router.add("GET", "/v1/me") { request in try self.asUser(request) { try .json(self.service.me($0)) } }
        router.add("GET", "/v1/trust-list") { request in
            try self.asUser(request) { _ in
                do {
                    return HTTPResponse(headers: ["Content-Type": "application/cms"], bytes: try self.signedTrustList())
                } catch {
                    throw MailError(.unavailable, "The server has no trust list yet.")
                }
            }
        }
        router.add("GET", "/v1/directory/{address}") { request in
            try self.asUser(request) { _ in try .json(try self.service.lookup(request.parameters["address"] ?? "")) }
        }
        router.add("POST", "/v1/messages", bodyLimit: Int64(Self.submissionLimit)) { request in
            try self.asUser(request) { sender in
                try request.requireJSONContentType()
                let submission = try request.decodeJSON(Submission.self, limit: Self.submissionLimit)
                return try .json(try self.service.submit(submission, from: sender,
                                                         certificate: request.connection.peerCertificateChain.first),
                                 status: 201)
            }
        }
        router.add("POST", "/v1/reports", bodyLimit: 16 << 10) { request in
            try self.asUser(request) { reporter in
                try request.requireJSONContentType()
                let report = try self.service.report(try request.decodeJSON(ReportRequest.self, limit: 16 << 10), from: reporter)
                return try .json(report, status: 201)
            }
        }
        router.add("GET", "/v1/address-book") { request in
            try self.asUser(request) { owner in
                let book = try self.service.addressBook(owner)
                return HTTPResponse(headers: ["Content-Type": "application/octet-stream", "ETag": "\"\(book.version)\""],
                                    bytes: book.content)
            }
        }
        router.add("PUT", "/v1/address-book", bodyLimit: Int64(MailService.maximumAddressBookBytes)) { request in
            try self.asUser(request) { owner in
                let match = (request.headers.first("If-Match") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                guard let expected = Int64(match), expected >= 0 else {
                    throw MailError(.invalidRequest, "PUT /v1/address-book needs If-Match with the version read (0 for none).")
                }
                let content = try request.body.readAll(limit: MailService.maximumAddressBookBytes)
                let book = try self.service.storeAddressBook(owner, content: content, expectedVersion: expected)
                var response = try HTTPResponse.json(["version": book.version])
                response.headers.set("ETag", "\"\(book.version)\"")
                return response
            }
        }
    }

    func addMailboxRoutes(to router: inout HTTPRouter<HTTPHandler>) {
        struct Page: Encodable {
            let entries: [MailboxEntry]
            let cursor: Int64
        }
        struct Change: Decodable { let flags: [String] }
        router.add("GET", "/v1/messages") { request in
            try self.asUser(request) { owner in
                let (after, limit) = try Self.cursorAndLimit(request)
                let page = try self.service.sync(owner, after: after, limit: limit)
                return try .json(Page(entries: page.entries, cursor: page.cursor))
            }
        }
        router.add("GET", "/v1/notifications") { request in
            struct NotificationPage: Encodable {
                let entries: [MailService.NotificationEntry]
                let cursor: Int64
            }
            return try self.asUser(request) { owner in
                let (after, limit) = try Self.cursorAndLimit(request)
                let page = try self.service.notifications(owner, after: after, limit: limit)
                return try .json(NotificationPage(entries: page.entries, cursor: page.cursor))
            }
        }
        router.add("GET", "/v1/messages/{id}") { request in
            try self.asUser(request) { owner in
                try .json(try self.service.fetch(owner, messageID: request.parameters["id"] ?? "").entry)
            }
        }
        router.add("GET", "/v1/messages/{id}/content") { request in
            try self.asUser(request) { owner in
                let fetched = try self.service.fetch(owner, messageID: request.parameters["id"] ?? "")
                return HTTPResponse(headers: ["Content-Type": "application/pkcs7-mime",
                                              "SEM-Kind": fetched.entry.message.kind.rawValue], bytes: fetched.content)
            }
        }
        router.add("PATCH", "/v1/messages/{id}", bodyLimit: 16 << 10) { request in
            try self.asUser(request) { owner in
                try request.requireJSONContentType()
                let change = try request.decodeJSON(Change.self, limit: 16 << 10)
                return try .json(try self.service.change(owner, messageID: request.parameters["id"] ?? "", flags: change.flags,
                                                         delete: false))
            }
        }
        router.add("DELETE", "/v1/messages/{id}") { request in
            try self.asUser(request) { owner in
                _ = try self.service.change(owner, messageID: request.parameters["id"] ?? "", flags: nil, delete: true)
                return HTTPResponse(status: 204)
            }
        }
    }

    /// The `after` cursor (default 0) and `limit` (default 100) of a sync request.
    static func cursorAndLimit(_ request: HTTPRequest) throws -> (Int64, Int) {
        guard let after = Int64(request.target.queryValue("after") ?? "0"),
              let limit = Int(request.target.queryValue("limit") ?? "100") else {
            throw MailError(.invalidRequest, "after and limit must be whole numbers.")
        }
        return (after, limit)
    }

    func addAttachmentRoutes(to router: inout HTTPRouter<HTTPHandler>) {
        struct Uploaded: Encodable {
            let id: String
            let size: Int64
        }
        router.add("POST", "/v1/attachments", bodyLimit: service.settings.maximumAttachmentBytes) { request in
            try self.asUser(request) { owner in
                let record = try self.service.upload(owner) { try request.body.read(maximum: $0) }
                return try .json(Uploaded(id: record.id, size: record.size), status: 201)
            }
        }
        router.add("GET", "/v1/attachments/{id}") { request in
            try self.asUser(request) { reader in
                let found = try self.service.attachmentForDownload(request.parameters["id"] ?? "", reader: reader)
                return try Self.download(found.record.size, BlobReaderHandle(found.content), rangeField: request.headers.first("Range"))
            }
        }
        router.add("POST", "/v1/attachment-checks", bodyLimit: 64 << 10) { request in
            try self.asUser(request) { reader in
                try request.requireJSONContentType()
                let check = try request.decodeJSON(AttachmentCheck.self, limit: 64 << 10)
                return try .json(try self.service.checkAttachments(check, reader: reader))
            }
        }
        router.add("GET", "/v1/attachments-footprint") { request in
            try self.asUser(request) { _ in
                let footprint = try self.service.attachmentFootprint()
                return try .json(["stored": footprint.stored, "perMailbox": footprint.perMailbox])
            }
        }
    }

    func addFederationRoutes(to router: inout HTTPRouter<HTTPHandler>) {
        router.add("GET", "/v1/federation/attachments/{id}") { request in
            try self.asPeer(request) { peer in
                let (record, reader) = try self.service.attachmentForPeer(request.parameters["id"] ?? "", peerCertificate: peer)
                return try Self.download(record.size, BlobReaderHandle(reader), rangeField: nil)
            }
        }
        router.add("GET", "/v1/federation/directory/{address}") { request in
            try self.asPeer(request) { peer in
                try .json(try self.service.lookupForPeer(request.parameters["address"] ?? "", peerCertificate: peer))
            }
        }
    }

    static func download(_ size: Int64, _ reader: BlobReaderHandle, rangeField: String?) throws -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"]
        let range: ClosedRange<Int64>?
        do { range = try Self.range(rangeField, size: size) } catch let error as MailError {
            return .error(status: 416, code: "range-not-satisfiable", message: error.reason,
                          headers: ["Content-Range": "bytes */\(size)"])
        }
        guard let range else { return stream(reader, offset: 0, count: size, status: 200, headers: headers) }
        headers.set("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound)/\(size)")
        return stream(reader, offset: range.lowerBound, count: range.upperBound - range.lowerBound + 1, status: 206,
                      headers: headers)
    }
}
