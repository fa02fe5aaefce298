// The CA's HTTP interface.
//
// Over HTTPS (TLS 1.3; client certificates asked for, required only by the directory):
//   GET  /.well-known/est/cacerts                     RFC 7030 §4.1: the CA chain, certs-only
//   POST /.well-known/est/simpleenroll                RFC 7030 §4.2: signing certificate
//   POST /.well-known/est/sem-signing/simpleenroll    the same, with the label named
//   POST /.well-known/est/sem-encryption/simpleenroll encryption certificate; the private key
//                                                     arrives in the SEM-Key-Archive header
//   GET  /.well-known/est/sem-key-archive             the key-archive certificate, certs-only,
//                                                     for clients to envelope that key to
//   GET  /directory/{address}                         current certificates (mutual TLS only)
// Over plain HTTP (RFC 5280 §4.2.1.13 and RFC 6960 Appendix A expect http URLs):
//   GET  /crl/issuing.crl                             DER CRL of the issuing CA
//   GET  /crl/root.crl                                DER CRL of the root (covers the issuing CA)
//   POST /ocsp                                        DER OCSP request → response
//   GET  /ocsp/{base64 request}                       the same (RFC 6960 A.1)
//
// EST bodies are base64 DER (RFC 7030 §4.2.1, RFC 8951). The one-time code is the
// password of HTTP Basic authentication with the address as user name (§3.2.3).
//
// The plain HTTP server must accept "%2F" in a path segment (HTTPTargetLimits
// .allowsEncodedSlash), since the base64 of an OCSP GET request may contain "/".
import Foundation
import SEMCrypto
public import SEMTransport

public struct CAHTTPService: Sendable {
    public let ca: CertificateAuthority
    let directoryLimiter: RequestRateLimiter

    /// The label-less simpleenroll issues signing certificates.
    static let labels: [String: CertificateKind] = ["sem-signing": .signing, "sem-encryption": .encryption]
    /// Upper bound of an EST request body (a base64 PKCS#10 is a few KiB).
    static let enrolmentBodyLimit: Int64 = 64 * 1024

    public init(ca: CertificateAuthority, directoryRequestsPerMinute: Int = 120) {
        self.ca = ca
        self.directoryLimiter = RequestRateLimiter(limit: directoryRequestsPerMinute)
    }

    /// Routes served over HTTPS: EST and the directory.
    public func secureRoutes() -> HTTPRouter<HTTPHandler> {
        var router = HTTPRouter<HTTPHandler>()
        router.add("GET", "/.well-known/est/cacerts") { _ in try self.caCertificates() }
        router.add("GET", "/.well-known/est/sem-key-archive") { _ in
            Self.certsOnly(try CMSCertificateBundle.encode([self.ca.identity.keyArchive.certificate]))
        }
        router.add("POST", "/.well-known/est/simpleenroll", bodyLimit: Self.enrolmentBodyLimit) { request in
            self.enrol(request, kind: .signing)
        }
        router.add("POST", "/.well-known/est/{label}/simpleenroll", bodyLimit: Self.enrolmentBodyLimit) { request in
            guard let kind = Self.labels[request.parameters["label"] ?? ""] else {
                return .error(status: 404, code: "unknown-label", message: "This CA knows no such EST label.")
            }
            return self.enrol(request, kind: kind)
        }
        router.add("GET", "/directory/{address}") { request in self.directory(request) }
        return router
    }

    /// Routes served over plain HTTP: the CRL and OCSP.
    public func revocationRoutes() -> HTTPRouter<HTTPHandler> {
        var router = HTTPRouter<HTTPHandler>()
        router.add("GET", "/crl/issuing.crl") { _ in
            HTTPResponse(headers: ["Content-Type": "application/pkix-crl", "Cache-Control": "max-age=60"],
                         bytes: try self.ca.issueCRL().derEncoded)
        }
        router.add("GET", "/crl/root.crl") { _ in
            HTTPResponse(headers: ["Content-Type": "application/pkix-crl", "Cache-Control": "max-age=3600"],
                         bytes: self.ca.identity.rootCRL.derEncoded)
        }
        router.add("POST", "/ocsp", bodyLimit: 64 * 1024) { request in
            guard request.headers.first("Content-Type")?.lowercased() == "application/ocsp-request" else {
                return .error(HTTPError(.unsupportedMediaType, "OCSP requests must be application/ocsp-request."))
            }
            return Self.ocspResponse(self.ca.answerOCSP(try request.body.readAll(limit: 64 * 1024)))
        }
        router.add("GET", "/ocsp/{request}") { request in
            guard let der = Data(base64Encoded: request.parameters["request"] ?? "") else {
                return .error(HTTPError(.badRequest, "The OCSP request in the path is not base64."))
            }
            return Self.ocspResponse(self.ca.answerOCSP(der))
        }
        return router
    }

    static func ocspResponse(_ der: Data) -> HTTPResponse {
        HTTPResponse(headers: ["Content-Type": "application/ocsp-response"], bytes: der)
    }

    private func caCertificates() throws -> HTTPResponse {
        Self.certsOnly(try CMSCertificateBundle.encode(ca.identity.chain))
    }

    static func certsOnly(_ der: Data) -> HTTPResponse {
        HTTPResponse(headers: ["Content-Type": "application/pkcs7-mime; smime-type=certs-only",
                               "Content-Transfer-Encoding": "base64"],
                     bytes: Data((der.base64EncodedString(options: [.lineLength64Characters, .endLineWithCarriageReturn,
                                                                    .endLineWithLineFeed]) + "\r\n").utf8))
    }
}
