// Request handlers of the CA's HTTP interface: EST simpleenroll and the directory.
import Foundation
import SEMCrypto
import SEMTransport

extension CAHTTPService {
    /// RFC 7030 §4.2: a base64 PKCS#10 in, a certs-only PKCS#7 with the new certificate out.
    func enrol(_ request: HTTPRequest, kind: CertificateKind) -> HTTPResponse {
        guard let (address, code) = Self.basicCredentials(request.headers.first("Authorization")) else {
            return .error(status: 401, code: "unauthorized",
                          message: "Enrolment needs the address and the one-time code as HTTP Basic credentials.",
                          headers: ["WWW-Authenticate": "Basic realm=\"EST\""])
        }
        do {
            let body = try request.body.readAll(limit: Int(Self.enrolmentBodyLimit))
            guard let der = Self.decodeBase64(body) else {
                return .error(status: 400, code: "request-invalid", message: "The body is not base64 DER.")
            }
            let csr: CertificateSigningRequest
            do { csr = try CertificateSigningRequest(derEncoded: der) } catch {
                return .error(status: 400, code: "request-invalid", message: "The body is not a PKCS#10 request.")
            }
            var archived: Data?
            if let header = request.headers.first("SEM-Key-Archive") {
                guard let envelope = Data(base64Encoded: header) else {
                    return .error(status: 400, code: "key-archive-mismatch",
                                  message: "The SEM-Key-Archive header is not base64.")
                }
                archived = envelope
            }
            let certificate = try ca.enrol(address: address.lowercased(), code: code, request: csr, kind: kind,
                                           archivedKey: archived)
            return Self.certsOnly(try CMSCertificateBundle.encode([certificate]))
        } catch let error as CredentialsError {
            return Self.response(for: error)
        } catch let error as HTTPError {
            return .error(error)
        } catch {
            return .error(HTTPError(.internalError, "The certificate could not be issued."))
        }
    }

    /// The current certificates of a user, for callers authenticated by certificate.
    func directory(_ request: HTTPRequest) -> HTTPResponse {
        guard let caller = request.connection.peerCertificateChain.first else {
            return .error(status: 401, code: "unauthorized",
                          message: "The directory answers only callers that present a certificate.")
        }
        guard directoryLimiter.allow(caller.fingerprint) else {
            return .error(HTTPError(.tooManyRequests, "Too many directory look-ups; try again in a minute."),
                          headers: ["Retry-After": "60"])
        }
        let address = (request.parameters["address"] ?? "").lowercased()
        do {
            let entry = try ca.directoryEntry(for: address)
            return try .json(DirectoryAnswer(address: address, signing: entry.signing.pemEncoded,
                                             encryption: entry.encryption.pemEncoded,
                                             chain: entry.chain.map(\.pemEncoded)))
        } catch let error as CredentialsError {
            return Self.response(for: error)
        } catch {
            return .error(HTTPError(.internalError, "The directory could not answer."))
        }
    }

    /// Maps the service's refusals onto HTTP statuses, keeping the stable code.
    static func response(for error: CredentialsError) -> HTTPResponse {
        let status: Int
        switch error.code {
        case .enrolmentCodeInvalid, .unknownUser: status = 401
        case .enrolmentCodeUsed, .enrolmentCodeExpired: status = 403
        case .certificateNotFound: status = 404
        case .userExists, .alreadyRevoked: status = 409
        case .requestInvalid, .addressMismatch, .keyArchiveRequired, .keyArchiveMismatch, .invalidAddress: status = 400
        case .configurationInvalid, .internalFailure: status = 500
        // Recovery runs through semctl only; these never reach the HTTP service.
        case .recoveryNotConfigured, .recoveryRequestNotFound, .recoveryOfficerUnknown, .recoveryRefused,
             .recoveryIncomplete, .auditLogBroken: status = 500
        }
        return .error(status: status, code: error.code.rawValue, message: error.reason)
    }

    /// `Authorization: Basic base64(user:password)` (RFC 7617 §2).
    static func basicCredentials(_ header: String?) -> (String, Secret)? {
        guard let header, header.count < 4096 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let user = String(decoding: decoded[decoded.startIndex..<colon], as: UTF8.self)
        return (user, Secret(Data(decoded[decoded.index(after: colon)...])))
    }

    /// Base64 with or without line breaks, as EST clients send it.
    static func decodeBase64(_ body: Data) -> Data? {
        let text = String(decoding: body, as: UTF8.self).filter { !$0.isWhitespace }
        return Data(base64Encoded: text)
    }
}

/// The directory's JSON answer: PEM certificates.
struct DirectoryAnswer: Codable {
    let address: String
    let signing: String
    let encryption: String
    let chain: [String]
}
