// The HTTPS client of an SMI server, for followers, domain administrators (semctl) and the
// servers that import the trust list. The TLS certificate must chain to the pinned SMI
// root and name `SMIDirectory.serverName`; what it returns is still checked by the caller
// (trust lists against the pinned signer, log entries entry by entry).
public import Foundation
public import SEMCrypto
import SEMTransport
public import SEMFederation

/// Talks to one SMI server; one connection per call.
public struct SMIClient: Sendable {
    public let host: String
    public let port: UInt16
    let tls: TLSContext

    /// Bounds on what the SMI may send.
    public static let trustListLimit = 16 << 20
    public static let logPageLimit = 64 << 20

    /// `url` is `https://host:port`.
    public init(url: String, root: Certificate) throws {
        guard let components = URLComponents(string: url), components.scheme == "https", let host = components.host,
              let port = components.port, let portNumber = UInt16(exactly: port), components.path.isEmpty || components.path == "/"
        else {
            throw RegistryError(.invalidPayload, "The SMI address \(url) is not https://host:port.")
        }
        self.host = host
        self.port = portNumber
        tls = try TLSContext(.client(peerVerifier: SMIPeerVerifier(root: root)))
    }

    public var url: String { "https://\(host):\(port)" }

    /// The signed trust list, DER, unverified.
    public func trustList() throws -> Data {
        try call { client in
            let response = try client.send(HTTPClientRequest(method: "GET", target: "/v1/trust-list"))
            guard response.status == 200 else { throw response.remoteError() }
            return try response.body.readAll(limit: Self.trustListLimit)
        }
    }

    public func status() throws -> SMIStatus { try call { try $0.getJSON("/v1/status", as: SMIStatus.self) } }

    /// Stored entry bytes after `sequence`, unverified.
    public func logEntries(after sequence: UInt64) throws -> [Data] {
        let texts = try call {
            try $0.getJSON("/v1/log?after=\(sequence)&limit=\(SMIHTTPService.maximumLogPage)", as: [String].self,
                           limit: Self.logPageLimit)
        }
        return try texts.enumerated().map { offset, text in
            guard let bytes = Data(base64Encoded: text) else {
                throw RegistryError(.malformedEntry, sequence: sequence + UInt64(offset) + 1,
                                    "The SMI sent an entry that is not base64.")
            }
            return bytes
        }
    }

    /// A bilateral agreement in any state, as the SMI recorded it.
    public func agreement(id: String) throws -> BilateralAgreement {
        try SMIHTTPService.decodeAgreement(try get("/v1/agreements/\(Self.escape(id))"))
    }

    /// A multilateral agreement with the signatures recorded so far.
    public func group(id: String) throws -> MultilateralAgreement {
        try SMIHTTPService.decodeGroup(try get("/v1/groups/\(Self.escape(id))"))
    }

    /// Records a new multilateral agreement signed by its founder.
    @discardableResult
    public func formGroup(_ group: MultilateralAgreement) throws -> UInt64 {
        try post("/v1/groups", try CanonicalJSON.encode(group), type: "application/json")
    }

    /// Records one more member's signature.
    @discardableResult
    public func joinGroup(_ group: MultilateralAgreement) throws -> UInt64 {
        try post("/v1/groups/\(Self.escape(group.terms.id))/members", try CanonicalJSON.encode(group), type: "application/json")
    }

    /// Submits a signed registration request; returns the log entry's sequence.
    @discardableResult
    public func register(_ signedRequest: Data) throws -> UInt64 {
        try post("/v1/registrations", signedRequest, type: "application/cms")
    }

    /// Sends a signed DomainUpdate for `domain`; returns the log entry's sequence.
    @discardableResult
    public func update(domain: String, signedRequest: Data) throws -> UInt64 {
        try post("/v1/domains/\(Self.escape(domain))/updates", signedRequest, type: "application/cms")
    }

    @discardableResult
    public func propose(_ agreement: BilateralAgreement) throws -> UInt64 {
        try post("/v1/agreements", try CanonicalJSON.encode(agreement), type: "application/json")
    }

    @discardableResult
    public func accept(_ agreement: BilateralAgreement) throws -> UInt64 {
        try post("/v1/agreements/\(Self.escape(agreement.terms.id))/acceptance", try CanonicalJSON.encode(agreement),
                 type: "application/json")
    }

    @discardableResult
    public func terminate(agreementId: String, signedRequest: Data) throws -> UInt64 {
        try post("/v1/agreements/\(Self.escape(agreementId))/termination", signedRequest, type: "application/cms")
    }

    /// Files a signed `AbuseReportRequest`; returns its log entry.
    @discardableResult
    public func fileReport(signedRequest: Data) throws -> UInt64 {
        try post("/v1/reports", signedRequest, type: "application/cms")
    }

    private struct Appended: Decodable { let sequence: UInt64 }

    private func get(_ target: String) throws -> Data {
        try call { client in
            let response = try client.send(HTTPClientRequest(method: "GET", target: target))
            guard response.status == 200 else { throw response.remoteError() }
            return try response.body.readAll(limit: SMIHTTPService.maximumAgreementBytes)
        }
    }

    private func post(_ target: String, _ body: Data, type: String) throws -> UInt64 {
        try call { client in
            let request = HTTPClientRequest(method: "POST", target: target,
                                            headers: ["Content-Type": type, "Accept": "application/json"],
                                            body: .bytes(Array(body)))
            return try client.send(request).decodeJSON(Appended.self).sequence
        }
    }

    private func call<T>(_ body: (HTTPClient) throws -> T) throws -> T {
        let client = HTTPClient(configuration: HTTPClientConfiguration(host: host, port: port, tls: tls,
                                                                        serverName: SMIDirectory.serverName))
        defer { client.close() }
        return try body(client)
    }

    private static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
    }
}

/// Accepts an SMI server's TLS certificate when it chains to the pinned SMI root.
///
/// Revocation is not checked: the SMI root issues only the SMI's own few certificates and
/// publishes no CRL or OCSP; replacing one means re-issuing it and, if the root itself is
/// compromised, replacing the pin everywhere.
public struct SMIPeerVerifier: TLSPeerVerifier {
    let validator: PathValidator

    public init(root: Certificate) {
        validator = PathValidator(trustAnchors: [root], revocationChecker: NoRevocationEvidence())
    }

    public func verifyPeer(chain: [Certificate]) -> TLSPeerVerdict {
        guard let leaf = chain.first else { return .reject(reason: "The SMI server sent no certificate.") }
        let verdict = validator.validate(leaf, intermediates: Array(chain.dropFirst()),
                                         policy: ValidationPolicy(purpose: .tlsServer, revocationMode: .softFail))
        if let failure = verdict.failure { return .reject(reason: failure.description) }
        return .accept
    }
}
