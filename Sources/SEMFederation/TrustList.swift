// The federation's trust list: every approved domain with its root CA certificate, its
// mail servers, its profile and status, and the agreements between domains. The SMI
// operator signs its canonical JSON (TrustList+Signing.swift); relying parties hold only
// the SMI signer's certificate and learn everything foreign from here.
//
// Suspended domains stay in the list, marked `suspended`, rather than being dropped: a
// relying party can then tell "suspended" from "unknown" in its errors, and the
// agreement records remain. Every lookup treats a suspended domain as absent.
public import Foundation
public import SEMCrypto

/// Whether a listed domain may take part in the federation now.
public enum DomainStatus: String, Sendable, Codable, CaseIterable {
    case active, suspended
}

/// A domain's server as the trust list registers it.
public struct TrustedServer: Sendable, Equatable, Codable {
    /// What the server does; `mail` is the only role so far.
    public var role: String
    /// The server's host name; its certificate must name it as a DNS name.
    public var hostName: String
    /// ESMTP endpoint, `host:port`.
    public var smtp: String
    /// HTTPS endpoint (look-ups, attachments), `host:port`.
    public var https: String
    /// The TLS certificate the server presents; peers compare it byte for byte.
    public var certificate: Certificate

    public init(role: String = "mail", hostName: String, smtp: String, https: String, certificate: Certificate) {
        self.role = role
        self.hostName = hostName.lowercased()
        self.smtp = smtp
        self.https = https
        self.certificate = certificate
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case role, hostName, smtp, https, certificate }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        hostName = try container.decode(String.self, forKey: .hostName)
        smtp = try container.decode(String.self, forKey: .smtp)
        https = try container.decode(String.self, forKey: .https)
        certificate = try TrustList.certificate(try container.decode(Data.self, forKey: .certificate), "server \(hostName)")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        try container.encode(hostName, forKey: .hostName)
        try container.encode(smtp, forKey: .smtp)
        try container.encode(https, forKey: .https)
        try container.encode(certificate.derEncoded, forKey: .certificate)
    }
}

/// One domain of the federation.
public struct TrustedDomain: Sendable, Equatable, Codable {
    public var name: String
    public var status: DomainStatus
    /// The domain's root CA; its users' and administrators' certificates chain to it.
    public var rootCertificate: Certificate
    public var servers: [TrustedServer]
    public var profile: DomainProfile

    public init(name: String, status: DomainStatus = .active, rootCertificate: Certificate,
                servers: [TrustedServer], profile: DomainProfile = DomainProfile()) {
        self.name = name.lowercased()
        self.status = status
        self.rootCertificate = rootCertificate
        self.servers = servers
        self.profile = profile
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, status, rootCertificate, servers, profile }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        status = try container.decode(DomainStatus.self, forKey: .status)
        rootCertificate = try TrustList.certificate(try container.decode(Data.self, forKey: .rootCertificate), "root of \(name)")
        servers = try container.decode([TrustedServer].self, forKey: .servers)
        profile = try container.decode(DomainProfile.self, forKey: .profile)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(status, forKey: .status)
        try container.encode(rootCertificate.derEncoded, forKey: .rootCertificate)
        try container.encode(servers, forKey: .servers)
        try container.encode(profile, forKey: .profile)
    }
}

/// The signed list of the federation (format version 1; see docs/FEDERATION.md).
public struct TrustList: Sendable, Equatable, Codable {
    public static let currentVersion = 1
    /// Bounds: the canonical JSON of a list stays below 16 MiB with at most 10,000 domains.
    public static let maximumBytes = 16 << 20
    public static let maximumDomains = 10_000

    public var version: Int
    /// Grows with every list the SMI issues; relying parties refuse to go back.
    public var sequence: UInt64
    public var issuedAt: Date
    /// When the next list is due; after it (plus a grace period) this one is stale.
    public var nextUpdate: Date
    /// The SMI operator's name.
    public var issuer: String
    public var domains: [TrustedDomain]
    /// Accepted, unterminated bilateral agreements.
    public var agreements: [BilateralAgreement]
    /// Multilateral agreements with their joined members.
    public var multilateralAgreements: [MultilateralAgreement]

    public init(sequence: UInt64, issuedAt: Date, nextUpdate: Date, issuer: String, domains: [TrustedDomain],
                agreements: [BilateralAgreement] = [], multilateralAgreements: [MultilateralAgreement] = []) {
        version = Self.currentVersion
        self.sequence = sequence
        self.issuedAt = issuedAt
        self.nextUpdate = nextUpdate
        self.issuer = issuer
        self.domains = domains
        self.agreements = agreements
        self.multilateralAgreements = multilateralAgreements
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, sequence, issuedAt, nextUpdate, issuer, domains, agreements, multilateralAgreements
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        sequence = try container.decode(UInt64.self, forKey: .sequence)
        issuedAt = try container.decode(Date.self, forKey: .issuedAt)
        nextUpdate = try container.decode(Date.self, forKey: .nextUpdate)
        issuer = try container.decode(String.self, forKey: .issuer)
        domains = try container.decode([TrustedDomain].self, forKey: .domains)
        agreements = try container.decode([BilateralAgreement].self, forKey: .agreements)
        multilateralAgreements = try container.decode([MultilateralAgreement].self, forKey: .multilateralAgreements)
        try validate()
    }

    /// Checks the list's structure (not signatures). Throws `FederationError(.trustListMalformed)`.
    public func validate() throws {
        func fault(_ text: String) -> FederationError { FederationError(.trustListMalformed, "The trust list \(text).") }
        guard version == Self.currentVersion else { throw fault("has format version \(version); only 1 is understood") }
        guard issuedAt < nextUpdate else { throw fault("is due for update before it was issued") }
        guard !issuer.isEmpty, issuer.utf8.count <= 256 else { throw fault("names no issuer (or one over 256 bytes)") }
        guard domains.count <= Self.maximumDomains else { throw fault("lists more than \(Self.maximumDomains) domains") }
        var names = Set<String>()
        var hosts = Set<String>()
        for domain in domains {
            try DomainName.check(domain.name, code: .trustListMalformed)
            guard names.insert(domain.name).inserted else { throw fault("lists \(domain.name) twice") }
            guard domain.rootCertificate.basicConstraints.isCA, domain.rootCertificate.isSelfIssued else {
                throw fault("gives \(domain.name) a root that is not a self-issued CA certificate")
            }
            do { try domain.profile.validate() } catch let error as FederationError {
                throw fault("gives \(domain.name) an invalid profile: \(error.reason)")
            }
            for server in domain.servers {
                guard server.role == "mail" else { throw fault("gives \(server.hostName) the unknown role \"\(server.role)\"") }
                try DomainName.check(server.hostName, code: .trustListMalformed)
                guard hosts.insert(server.hostName).inserted else { throw fault("lists the server \(server.hostName) twice") }
                try Endpoint.check(server.smtp, "\(server.hostName) smtp")
                try Endpoint.check(server.https, "\(server.hostName) https")
                guard server.certificate.dnsNames.map({ $0.lowercased() }).contains(server.hostName) else {
                    throw fault("gives \(server.hostName) a certificate that does not name it")
                }
            }
        }
        var ids = Set<String>()
        for agreement in agreements {
            guard agreement.state == .accepted else {
                throw fault("carries agreement \"\(agreement.terms.id)\" in state \(agreement.state.rawValue); only accepted ones belong")
            }
            guard ids.insert(agreement.terms.id).inserted else { throw fault("carries agreement \"\(agreement.terms.id)\" twice") }
            for party in [agreement.terms.proposingDomain, agreement.terms.acceptingDomain] where !names.contains(party) {
                throw fault("carries agreement \"\(agreement.terms.id)\" with the unlisted domain \(party)")
            }
        }
        for group in multilateralAgreements {
            guard ids.insert(group.terms.id).inserted else { throw fault("carries agreement \"\(group.terms.id)\" twice") }
            for member in group.joinedDomains where !names.contains(member) {
                throw fault("carries agreement \"\(group.terms.id)\" with the unlisted domain \(member)")
            }
        }
    }

    static func certificate(_ der: Data, _ what: String) throws -> Certificate {
        do { return try Certificate(derEncoded: der) } catch {
            throw FederationError(.trustListMalformed, "The trust list's certificate for the \(what) is not valid DER.")
        }
    }
}

/// `host:port` endpoints.
enum Endpoint {
    static func check(_ text: String, _ what: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0,
              (try? DomainName.check(String(text[..<colon]), code: .trustListMalformed)) != nil else {
            throw FederationError(.trustListMalformed, "The trust list's \(what) endpoint \"\(text)\" is not host:port.")
        }
    }
}
