// The policy decision point's HTTPS interface (architecture R5), for the domain's own
// servers, which authenticate with their certificates (mutual TLS is required, and the
// certificate must be a server's, not a person's):
//
//   POST /v1/decisions     a DecisionRequest as JSON → a DecisionResponse as JSON
//   POST /v1/explanations  the same request → every rule's verdict and the decision
//
// The request and response formats are documented in docs/POLICY.md. A request that
// does not follow them is refused with 400 and an error naming the JSON path.
import Foundation
import SEMCrypto
public import SEMPolicy
public import SEMTransport

public struct PDPHTTPService: Sendable {
    public let engine: PolicyEngine
    /// Largest decision request accepted.
    public static let requestLimit = 256 * 1024

    public init(engine: PolicyEngine) { self.engine = engine }

    public func routes() -> HTTPRouter<HTTPHandler> {
        var router = HTTPRouter<HTTPHandler>()
        router.add("POST", "/v1/decisions", bodyLimit: Int64(Self.requestLimit)) { request in
            try self.answer(request) { HTTPResponse(headers: ["Content-Type": "application/json"],
                                                    bytes: try self.engine.decide($0).jsonData()) }
        }
        router.add("POST", "/v1/explanations", bodyLimit: Int64(Self.requestLimit)) { request in
            try self.answer(request) { try .json(self.engine.explain($0)) }
        }
        return router
    }

    private func answer(_ request: HTTPRequest, _ respond: (DecisionRequest) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let caller = request.connection.peerCertificateChain.first else {
            return .error(status: 401, code: "unauthorized", message: "The PDP answers only authenticated servers.")
        }
        // The handshake checked the chain against the domain's root, but the people of the
        // domain hold login certificates from that root too. A server's certificate names
        // a host (a DNS subjectAltName) and no mailbox; anything else would let a user ask
        // for decisions, and explanations disclose the whole policy.
        guard !caller.dnsNames.isEmpty, caller.emailAddresses.isEmpty else {
            return .error(status: 403, code: "forbidden",
                          message: "The PDP answers only the domain's servers; \(caller.subject) is not a server certificate.")
        }
        try request.requireJSONContentType()
        let body = try request.body.readAll(limit: Self.requestLimit)
        let decisionRequest: DecisionRequest
        do { decisionRequest = try DecisionRequest.parse(body) } catch let error as PolicyError {
            return .error(status: 400, code: error.code.rawValue, message: "\(error.path): \(error.reason)")
        }
        return try respond(decisionRequest)
    }
}
