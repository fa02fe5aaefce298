// An abuse report one domain files with the SMI about a sender of another domain (P7):
// signed by the reporting domain's administrator, checked against that domain's
// registered root, and kept in the registry log, so the federation has an accountable,
// replicated record of who reported whom and why. The report does not change the trust
// list; whether a domain is suspended stays the SMI operator's decision.
public import Foundation
public import SEMCrypto
import SEMFederation

/// What the reporting domain states.
public struct AbuseReportRequest: Sendable, Equatable, Codable {
    /// The reporting domain; its administrator signs.
    public var domain: String
    /// The sender reported (an address of another domain).
    public var sender: String
    public var messageId: String
    public var reason: String
    public var reportedAt: Date

    public init(domain: String, sender: String, messageId: String, reason: String, reportedAt: Date = Date()) {
        self.domain = domain.lowercased()
        self.sender = sender.lowercased()
        self.messageId = messageId
        self.reason = reason
        self.reportedAt = reportedAt
    }

    /// The domain of the reported sender.
    public var senderDomain: String { String(sender.split(separator: "@").last ?? "") }

    /// Signs the report as the domain's administrator: attached CMS SignedData, DER.
    public func signed(by administrator: CMSSigner) throws -> Data {
        try administrator.sign(try CanonicalJSON.encode(self))
    }

    /// Reads a signed report whose CMS signature verifies, before its signer is checked
    /// against a root (the SMI needs the domain it names to find that root).
    public static func unverified(_ der: Data) throws -> AbuseReportRequest {
        let verified = try AdministratorSignature.open(der, what: "abuse report", code: .invalidPayload)
        return try decode(verified.content)
    }

    /// Checks a signed report against the reporting domain's registered root.
    public static func verify(_ der: Data, root: Certificate, at time: Date) throws -> AbuseReportRequest {
        let verified = try AdministratorSignature.open(der, what: "abuse report", code: .invalidTransition)
        let request = try decode(verified.content)
        try AdministratorSignature.checkSigner(of: verified, domain: request.domain, root: root, at: time,
                                               what: "abuse report", code: .invalidTransition)
        return request
    }

    private static func decode(_ content: Data) throws -> AbuseReportRequest {
        let request: AbuseReportRequest
        do { request = try CanonicalJSON.decodeCanonical(AbuseReportRequest.self, from: content) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, "The abuse report is not canonical JSON: \(error.reason)")
        }
        guard request.sender.contains("@"), !request.messageId.isEmpty, !request.reason.isEmpty, request.reason.count <= 1000 else {
            throw RegistryError(.invalidPayload, "An abuse report names a sender address, a message id and a reason of at most 1000 characters.")
        }
        return request
    }
}

/// The log entry's payload: the signed report as it came.
public struct AbuseReportPayload: Sendable, Equatable, Codable {
    public var request: Data

    public init(request: Data) { self.request = request }
}

/// A report as the registry state keeps it.
public struct RecordedAbuseReport: Sendable, Equatable {
    /// The log entry that records it.
    public var sequence: UInt64
    public var report: AbuseReportRequest
}
