// Revocation answers fetched over HTTP: OCSP from the certificate's AIA responder first
// (RFC 6960 Appendix A.1, POST), the CRL from its distribution point as the fallback
// (RFC 5280 §4.2.1.13) — architecture R3. Answers are judged by `RevocationEvidence`, so
// a forged or stale answer counts as no answer. CRLs are cached until their nextUpdate.
//
// Only http URLs are fetched: revocation data is signed, and fetching it over TLS would
// need revocation checking of its own (RFC 5280 §8).
public import Foundation
public import SEMCrypto
import Synchronization

public final class OnlineRevocationChecker: RevocationChecker {
    public let timeout: Duration
    /// Largest CRL accepted, so a hostile distribution point cannot exhaust memory.
    public let maximumCRLSize: Int
    private let crlCache = Mutex<[String: CertificateRevocationList]>([:])

    public init(timeout: Duration = .seconds(10), maximumCRLSize: Int = 16 * 1024 * 1024) {
        self.timeout = timeout
        self.maximumCRLSize = maximumCRLSize
    }

    public func status(of certificate: Certificate, issuer: Certificate, at time: Date) -> RevocationStatus {
        var problems: [String] = []
        for url in certificate.ocspResponderURLs {
            do {
                let response = try fetchOCSP(url, certificate: certificate, issuer: issuer, at: time)
                let answer = RevocationEvidence(ocspResponses: [response]).status(of: certificate, issuer: issuer, at: time)
                if case .unknown(let detail) = answer { problems.append(detail) } else { return answer }
            } catch {
                problems.append("the OCSP responder \(url) did not answer usefully (\(error))")
            }
        }
        for url in certificate.crlDistributionPoints {
            do {
                let crl = try fetchCRL(url, at: time)
                let answer = RevocationEvidence(crls: [crl]).status(of: certificate, issuer: issuer, at: time)
                if case .unknown(let detail) = answer { problems.append(detail) } else { return answer }
            } catch {
                problems.append("the CRL at \(url) could not be fetched (\(error))")
            }
        }
        if problems.isEmpty { problems.append("the certificate names no OCSP responder and no CRL") }
        return .unknown(problems.joined(separator: "; "))
    }

    /// Asks the responder at `url` about `certificate`, with a fresh nonce that the
    /// answer must echo.
    public func fetchOCSP(_ url: String, certificate: Certificate, issuer: Certificate,
                          at time: Date = Date()) throws -> OCSPResponse {
        let request = try OCSPRequest(certificate: certificate, issuer: issuer, includeNonce: true)
        let body = try post(url, contentType: "application/ocsp-request", body: request.derEncoded, limit: 1024 * 1024)
        let response = try OCSPResponse(derEncoded: body)
        // Checks signature, responder authority, freshness and the nonce (RFC 8954).
        _ = try response.verifiedStatus(of: certificate, issuer: issuer, expectedNonce: request.nonce, at: time)
        return response
    }

    /// The CRL at `url`, from the cache while it is current.
    public func fetchCRL(_ url: String, at time: Date = Date()) throws -> CertificateRevocationList {
        if let cached = crlCache.withLock({ $0[url] }), let next = cached.nextUpdate, next > time { return cached }
        let crl = try CertificateRevocationList(derEncoded: try get(url, limit: maximumCRLSize))
        crlCache.withLock { $0[url] = crl }
        return crl
    }

    private func post(_ url: String, contentType: String, body: Data, limit: Int) throws -> Data {
        try exchange(url, HTTPClientRequest(method: "POST", target: "", headers: ["Content-Type": contentType],
                                            body: .bytes(Array(body))), limit: limit)
    }

    private func get(_ url: String, limit: Int) throws -> Data {
        try exchange(url, HTTPClientRequest(target: ""), limit: limit)
    }

    private func exchange(_ url: String, _ template: HTTPClientRequest, limit: Int) throws -> Data {
        guard let parsed = URL(string: url), parsed.scheme?.lowercased() == "http", let host = parsed.host else {
            throw HTTPError(.badRequest, "Only http revocation URLs are fetched, not \(url).")
        }
        let port = UInt16(parsed.port ?? 80)
        var request = template
        request.target = parsed.path.isEmpty ? "/" : parsed.path
        request.responseBodyLimit = Int64(limit)
        let client = HTTPClient(configuration: HTTPClientConfiguration(
            host: host, port: port, connectTimeout: timeout, readTimeout: timeout, responseHeadTimeout: timeout))
        defer { client.close() }
        let response = try client.send(request)
        guard response.status == 200 else {
            throw HTTPError(.badGateway, "\(url) answered with status \(response.status).")
        }
        return try response.body.readAll(limit: limit)
    }
}
