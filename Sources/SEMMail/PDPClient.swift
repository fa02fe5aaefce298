// Asks the domain's PDP over HTTPS with mutual TLS (the server presents its own
// certificate). Connections are kept and reused: a TLS handshake per decision would cost
// more than the decision (BENCHMARKS.md).
import Foundation
public import SEMCredentials
public import SEMPolicy
import SEMTransport
import Synchronization

/// The PDP as the mail server sees it.
public protocol DecisionPoint: Sendable {
    func decide(_ request: DecisionRequest) throws -> DecisionResponse
}

/// A `DecisionPoint` over HTTPS.
public final class PDPClient: DecisionPoint {
    let configuration: HTTPClientConfiguration
    /// Idle connections; each is used by one thread at a time.
    private let idle = Mutex<[IdleClient]>([])

    /// `endpoint` is the PDP's address; its certificate must name pdp.<domain>.
    public init(endpoint: Endpoint, domain: String, identity: MailServerIdentity) throws {
        configuration = HTTPClientConfiguration(host: endpoint.host, port: endpoint.port, tls: try identity.localClientTLS(),
                                                serverName: "pdp.\(domain)")
    }

    public func decide(_ request: DecisionRequest) throws -> DecisionResponse {
        let client = idle.withLock { $0.popLast() } ?? IdleClient(HTTPClient(configuration: configuration))
        do {
            let response = try client.http.send(.json("POST", "/v1/decisions", request))
            guard response.status == 200 else {
                let remote = response.remoteError()
                client.http.close()
                throw MailError(.unavailable, "The PDP refused the question: \(remote)")
            }
            let body = try response.body.readAll(limit: 256 << 10)
            idle.withLock { if $0.count < 8 { $0.append(client) } }
            return try DecisionResponse.parse(body)
        } catch let error as MailError {
            throw error
        } catch {
            client.http.close()
            throw MailError(.unavailable, "The PDP could not be asked: \(error)")
        }
    }
}

/// An HTTP client parked between uses.
final class IdleClient: @unchecked Sendable {
    // @unchecked Sendable: a client is taken out of the idle list before use and put back
    // after, so only one thread touches it at a time.
    let http: HTTPClient
    init(_ http: HTTPClient) { self.http = http }
}
