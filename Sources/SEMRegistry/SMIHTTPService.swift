// The SMI's HTTPS interface (TLS 1.3, server authentication only: everything it serves is
// public, and every change it accepts carries its own administrator or agreement signature):
//
//   GET  /v1/trust-list                      the current signed trust list (application/cms)
//   GET  /v1/status                          role, log head and hash, trust-list sequence,
//                                            a follower's last refusal
//   GET  /v1/log?after=N&limit=M             stored entry bytes after N, base64 in a JSON array
//   GET  /v1/agreements/{id}                 an agreement in any state, canonical JSON
//   GET  /v1/groups/{id}                     a multilateral agreement, canonical JSON
//   POST /v1/registrations                   a signed registration request (DER CMS)
//   POST /v1/domains/{domain}/updates        a signed DomainUpdate (DER CMS): new profile,
//                                            server added or removed, key rolled
//   POST /v1/agreements                      a proposed agreement (canonical JSON)
//   POST /v1/agreements/{id}/acceptance      the accepted agreement (canonical JSON)
//   POST /v1/agreements/{id}/termination     a signed TerminationRequest (DER CMS); ends a
//                                            bilateral or a multilateral agreement
//   POST /v1/groups                          a new multilateral agreement with its founder's
//                                            signature (canonical JSON)
//   POST /v1/groups/{id}/members             the agreement with one more member's signature
//
// A follower serves the GET routes from its replicated log and answers every POST with
// 503 `read-only`, naming the leader. Errors are {"error": <RegistryError code>, "message"}:
// 400 for a malformed or unverifiable request, 404 for an unknown agreement, 409 for a
// change the registry's state does not allow.
public import Foundation
public import SEMCrypto
public import SEMLogging
public import SEMTransport
import SEMFederation

/// Whether this server writes the log or replicates it.
public enum SMIRoleMode: Sendable {
    case leader(signer: CertifiedKey)
    case follower(leader: String, replication: SMIFollower)
}

/// What GET /v1/status returns.
public struct SMIStatus: Codable, Sendable, Equatable {
    public var role: String
    public var head: UInt64
    public var headHash: String
    public var trustListSequence: UInt64?
    /// A follower's last refused entry, with the reason.
    public var refusedEntry: String?
    /// A follower's last refused trust list, with the reason (usually a race it recovers from).
    public var refusedTrustList: String?
}

/// The routes of `semd smi` over a registry log.
public struct SMIHTTPService: Sendable {
    public let log: RegistryLog
    public let mode: SMIRoleMode
    public let configuration: SMIConfiguration
    let logger: Logger

    /// Most entries one log request returns.
    public static let maximumLogPage = 500
    /// Bound on an agreement posted as JSON.
    public static let maximumAgreementBytes = 256 << 10

    public init(log: RegistryLog, mode: SMIRoleMode, configuration: SMIConfiguration, logger: Logger = .disabled) {
        self.log = log
        self.mode = mode
        self.configuration = configuration
        self.logger = logger
    }

    public func routes() -> HTTPRouter<HTTPHandler> {
        var router = HTTPRouter<HTTPHandler>()
        router.add("GET", "/v1/trust-list") { _ in
            try self.registryCall {
                HTTPResponse(headers: ["Content-Type": "application/cms", "Cache-Control": "no-cache"],
                             bytes: try self.trustList())
            }
        }
        router.add("GET", "/v1/status") { _ in try self.registryCall { try .json(try self.status()) } }
        router.add("GET", "/v1/log") { request in
            guard let after = UInt64(request.target.queryValue("after") ?? "0") else {
                return .error(HTTPError(.badRequest, "The parameter after must be a non-negative integer."))
            }
            guard let limit = Int(request.target.queryValue("limit") ?? "\(Self.maximumLogPage)"), limit > 0 else {
                return .error(HTTPError(.badRequest, "The parameter limit must be a positive integer."))
            }
            return try self.registryCall {
                try .json(try self.log.storedBytes(after: after, limit: min(limit, Self.maximumLogPage))
                    .map { $0.base64EncodedString() })
            }
        }
        router.add("GET", "/v1/agreements/{id}") { request in
            try self.registryCall {
                let id = request.parameters["id"] ?? ""
                guard let agreement = try self.log.state().agreements[id] else {
                    return .error(status: 404, code: "unknown-agreement", message: "There is no agreement \"\(id)\".")
                }
                return HTTPResponse(headers: ["Content-Type": "application/json"], bytes: try CanonicalJSON.encode(agreement))
            }
        }
        router.add("GET", "/v1/groups/{id}") { request in
            try self.registryCall {
                let id = request.parameters["id"] ?? ""
                guard let group = try self.log.state().groups[id] else {
                    return .error(status: 404, code: "unknown-agreement", message: "There is no multilateral agreement \"\(id)\".")
                }
                return HTTPResponse(headers: ["Content-Type": "application/json"], bytes: try CanonicalJSON.encode(group))
            }
        }
        addChanges(to: &router)
        return router
    }

    /// The trust list to serve: the leader signs as needed, a follower serves what it mirrored.
    public func trustList(now: Date = Date()) throws -> Data {
        switch mode {
        case .leader(let signer):
            return try log.currentTrustList(signer: signer, issuer: configuration.issuer,
                                            lifetime: TimeInterval(max(configuration.trustListLifetimeSeconds, 60)),
                                            now: now).bytes
        case .follower:
            guard let latest = try log.latestTrustList() else {
                throw RegistryError(.readOnly, "This follower has not mirrored a trust list from its leader yet.")
            }
            return latest.bytes
        }
    }

    public func status() throws -> SMIStatus {
        let head = try log.head()
        var status = SMIStatus(role: "leader", head: head.sequence, headHash: head.hash,
                               trustListSequence: try log.latestTrustList()?.sequence)
        if case .follower(_, let replication) = mode {
            status.role = "follower"
            status.refusedEntry = replication.lastEntryRefusal
            status.refusedTrustList = replication.lastTrustListRefusal
        }
        return status
    }

    /// Runs `body`, turning a `RegistryError` into its JSON error response.
    func registryCall(_ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do { return try body() } catch let error as RegistryError {
            logger.warning("smi.request.refused", ["code": error.code.rawValue, "reason": error.reason])
            return Self.errorResponse(error)
        }
    }

    static func errorResponse(_ error: RegistryError) -> HTTPResponse {
        let status = switch error.code {
        case .invalidTransition: 409
        case .readOnly: 503
        case .storage: 500
        default: 400
        }
        return .error(status: status, code: error.code.rawValue, message: error.reason)
    }
}
