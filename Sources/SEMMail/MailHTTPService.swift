// The mail server's HTTPS interface. Clients (users) present their certificate from the
// domain CA; registered servers of other domains present their registered certificate on
// the /v1/federation routes. Resources/openapi.json (in this module) describes every
// route; the server serves it at /openapi.json.
//
//   GET    /openapi.json                      the OpenAPI 3 document (no certificate needed)
//   GET    /v1/me                             address, domain, profile, trust-list sequence, limits
//   GET    /v1/trust-list                     the signed trust list the server follows (DER CMS)
//   GET    /v1/directory/{address}            a recipient's certificates (local CA or its domain's server)
//   POST   /v1/messages                       submit: recipients, CMS (base64), attachment ids
//   GET    /v1/messages?after=N&limit=M       mailbox changes after cursor N
//   GET    /v1/messages/{id}                  one mailbox entry
//   GET    /v1/messages/{id}/content          its content: the S/MIME CMS, or a signed notification
//   PATCH  /v1/messages/{id}                  {"flags": [...]}
//   DELETE /v1/messages/{id}
//   GET    /v1/notifications?after=N&limit=M  notification entries after cursor N, with their statements
//   POST   /v1/attachments                    streamed ciphertext upload → {"id", "size"}
//   GET    /v1/attachments/{id}               streamed download, with Range: bytes=a-b
//   GET    /v1/attachments-footprint          bytes stored against one copy per mailbox
//   GET    /v1/address-book                   the encrypted blob, version in ETag
//   PUT    /v1/address-book                   If-Match: version (0 for the first) → new version
//   GET    /v1/federation/attachments/{id}    for a registered server with a recipient of it
//   GET    /v1/federation/directory/{address} for a registered server
public import Foundation
import SEMStorage
import SEMCrypto
public import SEMTransport

public struct MailHTTPService: Sendable {
    let service: MailService
    let openAPI: Data
    let signedTrustList: @Sendable () throws -> Data

    /// `openAPI` is the document served at /openapi.json; `signedTrustList` returns the
    /// DER of the list the server follows.
    public init(service: MailService, openAPI: Data, signedTrustList: @escaping @Sendable () throws -> Data) {
        self.service = service
        self.openAPI = openAPI
        self.signedTrustList = signedTrustList
    }

    /// The OpenAPI document shipped with the module.
    public static func bundledOpenAPI() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw MailError(.storage, "The OpenAPI document is missing from the SEMMail bundle.")
        }
        return try Data(contentsOf: url)
    }

    public func routes() -> HTTPRouter<HTTPHandler> {
        var router = HTTPRouter<HTTPHandler>()
        router.add("GET", "/openapi.json") { _ in
            HTTPResponse(headers: ["Content-Type": "application/json"], bytes: self.openAPI)
        }
        addUserRoutes(to: &router)
        addMailboxRoutes(to: &router)
        addAttachmentRoutes(to: &router)
        addFederationRoutes(to: &router)
        return router
    }

    /// Runs `body` for the authenticated user; MailError becomes its JSON response.
    func asUser(_ request: HTTPRequest, _ body: (String) throws -> HTTPResponse) throws -> HTTPResponse {
        do { return try body(try service.authenticate(request.connection.peerCertificateChain)) } catch let error as MailError {
            return error.response
        }
    }

    /// Runs `body` for a peer server that presented a certificate.
    func asPeer(_ request: HTTPRequest, _ body: (Certificate) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let certificate = request.connection.peerCertificateChain.first else {
            return MailError(.unauthenticated, "Federation routes need a registered server's certificate.").response
        }
        do { return try body(certificate) } catch let error as MailError { return error.response }
    }

    /// Streams `count` bytes of `reader` starting at `offset`.
    static func stream(_ reader: BlobReaderHandle, offset: Int64, count: Int64, status: Int,
                       headers: HTTPHeaders) -> HTTPResponse {
        .stream(status: status, headers: headers, length: count) { writer in
            try reader.copy(from: offset, count: count, to: writer)
        }
    }

    /// Parses one `bytes=a-b`, `bytes=a-` or `bytes=-n` range (RFC 9110 §14.1.2) against
    /// `size`; nil when there is no Range field. Throws 416 for one that does not fit.
    public static func range(_ field: String?, size: Int64) throws -> ClosedRange<Int64>? {
        guard let field else { return nil }
        let unsatisfiable = MailError(.invalidRequest, "The range \(field) does not fit an object of \(size) bytes.")
        guard field.hasPrefix("bytes="), !field.contains(",") else { throw unsatisfiable }
        let spec = field.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { throw unsatisfiable }
        let first = Int64(spec[0]), last = Int64(spec[1])
        switch (first, last, spec[0].isEmpty, spec[1].isEmpty) {
        case (let start?, nil, false, true) where start < size: return start...(size - 1)
        case (let start?, let end?, false, false) where start <= end && start < size: return start...min(end, size - 1)
        case (nil, let suffix?, true, false) where suffix > 0 && size > 0: return max(0, size - suffix)...(size - 1)
        default: throw unsatisfiable
        }
    }
}

/// A blob being streamed into a response.
///
/// Shortcoming: a range is reached by reading and discarding the bytes before it (the
/// blob reader verifies the whole content as it goes), so a range near the end of a large
/// attachment costs a read of what precedes it, though no memory.
final class BlobReaderHandle {
    let reader: BlobReader
    init(_ reader: BlobReader) { self.reader = reader }

    func copy(from offset: Int64, count: Int64, to writer: HTTPBodyWriter) throws {
        var position: Int64 = 0, remaining = count
        while remaining > 0, let chunk = try reader.read(upToCount: 256 << 10) {
            let chunkEnd = position + Int64(chunk.count)
            defer { position = chunkEnd }
            guard chunkEnd > offset else { continue }
            let start = Int(max(0, offset - position))
            let take = min(Int64(chunk.count - start), remaining)
            try writer.write(chunk[chunk.startIndex + start ..< chunk.startIndex + start + Int(take)])
            remaining -= take
        }
        guard remaining == 0 else { throw MailError(.storage, "The attachment ended early.") }
    }
}
