// The registry's current state, folded from its log entry by entry: domains move
// registered → approved → suspended (and back to approved when reinstated), agreements
// move proposed → accepted → terminated. Every entry is checked against the state before
// it, so a log whose entries each pass `apply` holds only allowed changes.
//
// Shortcoming: folding re-checks registration requests and agreement signatures, which
// costs a path validation per such entry; a long log is slow to fold from the start, and
// there are no snapshots yet.
public import Foundation
public import SEMCrypto
public import SEMFederation

/// Where a registered domain stands.
public enum RegistrationStatus: String, Sendable, Equatable, CaseIterable {
    case registered, approved, suspended
}

/// A domain as the registry knows it.
public struct RegisteredDomain: Sendable, Equatable {
    public var name: String
    public var status: RegistrationStatus
    public var rootCertificate: Certificate
    public var servers: [TrustedServer]
    public var profile: DomainProfile
    /// `requestedAt` of the last signed domain update applied; an older one is refused, so
    /// that replaying a request cannot undo a later change.
    public var lastUpdateRequestedAt: Date?
}

/// The state of the federation after a prefix of the log.
public struct RegistryState: Sendable {
    public private(set) var domains: [String: RegisteredDomain] = [:]
    public private(set) var agreements: [String: BilateralAgreement] = [:]
    /// Multilateral agreements by id; `terminatedGroups` holds the ids that were ended.
    public internal(set) var groups: [String: MultilateralAgreement] = [:]
    public internal(set) var terminatedGroups: Set<String> = []
    /// Abuse reports in the order they were filed.
    public private(set) var abuseReports: [RecordedAbuseReport] = []
    /// The sequence number of the last entry applied; 0 for none.
    public private(set) var sequence: UInt64 = 0

    public init() {}

    /// Folds `entries` (in order, starting at 1) into a state.
    public init(folding entries: [RegistryEntry]) throws {
        for entry in entries { try apply(entry) }
    }

    /// Applies one entry. Throws `RegistryError` naming the entry when the change is not
    /// allowed (`.invalidTransition`), its payload does not fit (`.invalidPayload`) or a
    /// registration it records does not verify (`.registrationRefused`).
    public mutating func apply(_ entry: RegistryEntry) throws {
        let number = entry.sequence
        func refuse(_ text: String) -> RegistryError { RegistryError(.invalidTransition, sequence: number, text) }
        guard number == sequence + 1 else { throw RegistryError(.sequenceGap, sequence: number, "Entry \(number) follows entry \(sequence).") }
        let name = entry.domain
        switch entry.kind {
        case .domainRegistered:
            let payload = try entry.payload(as: RegistrationPayload.self)
            guard domains[name] == nil else { throw refuse("The domain \(name) is already registered.") }
            let registration: DomainRegistration
            do { registration = try DomainRegistration.verify(request: payload.request, at: entry.time) } catch let error as RegistryError {
                throw RegistryError(.registrationRefused, sequence: number, error.reason)
            }
            guard registration == payload.registration, registration.domain == name else {
                throw RegistryError(.registrationRefused, sequence: number,
                                    "The recorded registration is not the one the request for \(name) carries.")
            }
            for server in registration.servers { try checkHostFree(server.hostName, refuse) }
            domains[name] = RegisteredDomain(name: name, status: .registered, rootCertificate: registration.rootCertificate,
                                             servers: registration.servers, profile: registration.profile)
        case .domainApproved:
            _ = try entry.payload(as: StatusPayload.self)
            try change(name, from: [.registered, .suspended], to: .approved, refuse)
        case .domainSuspended:
            _ = try entry.payload(as: StatusPayload.self)
            try change(name, from: [.approved], to: .suspended, refuse)
        case .profileUpdated:
            let payload = try entry.payload(as: ProfilePayload.self)
            try update(name, refuse, request: payload.request, entry) { $0.profile = payload.profile } matches: {
                $0.profile == payload.profile
            }
        case .serverAdded:
            let payload = try entry.payload(as: ServerPayload.self)
            try checkHostFree(payload.server.hostName, refuse)
            try update(name, refuse, request: payload.request, entry) { $0.servers.append(payload.server) } matches: {
                $0.server == payload.server
            }
        case .serverRemoved:
            let payload = try entry.payload(as: ServerRemovalPayload.self)
            let host = payload.hostName
            guard domains[name]?.servers.contains(where: { $0.hostName == host }) == true else {
                throw refuse("The domain \(name) has no server \(host).")
            }
            try update(name, refuse, request: payload.request, entry) { $0.servers.removeAll { $0.hostName == host } } matches: {
                $0.hostName == host
            }
        case .keyRolled:
            let payload = try entry.payload(as: KeyRollPayload.self)
            guard let root = try? Certificate(derEncoded: payload.rootCertificate) else {
                throw RegistryError(.invalidPayload, sequence: number, "The new root certificate of \(name) is not valid DER.")
            }
            try update(name, refuse, request: payload.request, entry) { $0.rootCertificate = root } matches: {
                $0.rootCertificate == payload.rootCertificate
            }
        case .agreementProposed:
            let agreement = try entry.payload(as: AgreementPayload.self).agreement
            let terms = agreement.terms
            guard agreement.state == .proposed else { throw refuse("A proposal must be in state proposed.") }
            guard terms.proposingDomain == name else { throw refuse("Agreement \"\(terms.id)\" is not proposed by \(name).") }
            guard agreements[terms.id] == nil, groups[terms.id] == nil else {
                throw refuse("Agreement \"\(terms.id)\" already exists.")
            }
            for party in [terms.proposingDomain, terms.acceptingDomain] where domains[party]?.status != .approved {
                throw refuse("Agreement \"\(terms.id)\" names \(party), which is not an approved domain.")
            }
            try verify(agreement, at: entry.time, number)
            agreements[terms.id] = agreement
        case .agreementAccepted:
            let agreement = try entry.payload(as: AgreementPayload.self).agreement
            let id = agreement.terms.id
            guard let proposed = agreements[id], proposed.state == .proposed else {
                throw refuse("Agreement \"\(id)\" is not an open proposal.")
            }
            guard agreement.state == .accepted, agreement.terms == proposed.terms, agreement.proposal == proposed.proposal,
                  proposed.terms.proposingDomain == name else {
                throw refuse("The acceptance of \"\(id)\" does not match its proposal.")
            }
            try verify(agreement, at: entry.time, number)
            agreements[id] = agreement
        case .agreementTerminated:
            let payload = try entry.payload(as: TerminationPayload.self)
            let id = payload.agreementId
            if groups[id] != nil {
                try terminateGroup(id, by: name, request: payload.request, at: entry.time, number)
                break
            }
            guard var agreement = agreements[id], agreement.state != .terminated else {
                throw refuse("Agreement \"\(id)\" does not exist or is already terminated.")
            }
            guard agreement.terms.proposingDomain == name || agreement.terms.acceptingDomain == name else {
                throw refuse("Agreement \"\(id)\" is not one of \(name)'s.")
            }
            if let request = payload.request {
                try checkTermination(request, id: id, by: name, at: entry.time, number)
            }
            try agreement.terminate(at: entry.time)
            agreements[id] = agreement
        case .groupFormed:
            try formGroup(try entry.payload(as: GroupPayload.self).agreement, by: name, at: entry.time, number)
        case .groupJoined:
            try joinGroup(try entry.payload(as: GroupPayload.self).agreement, by: name, at: entry.time, number)
        case .abuseReported:
            let payload = try entry.payload(as: AbuseReportPayload.self)
            guard let reporter = domains[name], reporter.status == .approved else {
                throw refuse("Only an approved domain files abuse reports; \(name) is not one.")
            }
            let report: AbuseReportRequest
            do { report = try AbuseReportRequest.verify(payload.request, root: reporter.rootCertificate, at: entry.time) } catch let error as RegistryError {
                throw RegistryError(error.code, sequence: number, error.reason)
            }
            guard report.domain == name else { throw refuse("The abuse report is signed for \(report.domain), not \(name).") }
            guard domains[report.senderDomain] != nil, report.senderDomain != name else {
                throw refuse("An abuse report is about a sender of another registered domain, not \(report.senderDomain).")
            }
            abuseReports.append(RecordedAbuseReport(sequence: number, report: report))
        }
        sequence = number
    }

    /// A trust list of the approved domains and the accepted, unterminated agreements
    /// between approved domains. Registered-only and suspended domains are left out.
    public func trustList(sequence: UInt64, issuedAt: Date, nextUpdate: Date, issuer: String) throws -> TrustList {
        let listed = domains.values.filter { $0.status == .approved }.sorted { $0.name < $1.name }
        let names = Set(listed.map(\.name))
        let accepted = agreements.values.filter {
            $0.state == .accepted && names.contains($0.terms.proposingDomain) && names.contains($0.terms.acceptingDomain)
        }.sorted { $0.terms.id < $1.terms.id }
        let list = TrustList(sequence: sequence, issuedAt: issuedAt, nextUpdate: nextUpdate, issuer: issuer,
                             domains: listed.map {
                                 TrustedDomain(name: $0.name, status: .active, rootCertificate: $0.rootCertificate,
                                               servers: $0.servers, profile: $0.profile)
                             },
                             agreements: accepted, multilateralAgreements: listedGroups(approved: names))
        try list.validate()
        return list
    }

    // MARK: Helpers

    private mutating func change(_ name: String, from allowed: Set<RegistrationStatus>, to status: RegistrationStatus,
                                 _ refuse: (String) -> RegistryError) throws {
        guard let current = domains[name]?.status else { throw refuse("The domain \(name) is not registered.") }
        guard allowed.contains(current) else {
            throw refuse("The domain \(name) is \(current.rawValue) and cannot become \(status.rawValue).")
        }
        domains[name]?.status = status
    }

    /// Applies a domain change, which may come with the administrator's signed request; the
    /// request is checked against the record before the change.
    private mutating func update(_ name: String, _ refuse: (String) -> RegistryError, request: Data?,
                                 _ entry: RegistryEntry, _ body: (inout RegisteredDomain) -> Void,
                                 matches: (DomainUpdate) -> Bool) throws {
        guard var domain = domains[name] else { throw refuse("The domain \(name) is not registered.") }
        body(&domain)
        if let request {
            let update = try checkUpdate(request, kind: entry.kind, domain: name, changed: domain, at: entry.time,
                                         entry.sequence, matches: matches)
            domain.lastUpdateRequestedAt = update.requestedAt
        }
        domains[name] = domain
    }

    private func checkHostFree(_ host: String, _ refuse: (String) -> RegistryError) throws {
        if let owner = domains.values.first(where: { $0.servers.contains { $0.hostName == host } }) {
            throw refuse("The server \(host) is already registered for \(owner.name).")
        }
    }

    func checkTermination(_ der: Data, id: String, by name: String, at time: Date, _ number: UInt64) throws {
        guard let root = domains[name]?.rootCertificate else {
            throw RegistryError(.invalidTransition, sequence: number, "The domain \(name) is not registered.")
        }
        let request: TerminationRequest
        do { request = try TerminationRequest.verify(der, root: root, at: time) } catch let error as RegistryError {
            throw RegistryError(.invalidTransition, sequence: number, error.reason)
        }
        guard request.agreementId == id, request.domain == name else {
            throw RegistryError(.invalidTransition, sequence: number,
                                "The termination request is for \"\(request.agreementId)\" by \(request.domain), "
                                + "not for \"\(id)\" by \(name).")
        }
    }

    func verify(_ agreement: BilateralAgreement, at time: Date, _ number: UInt64) throws {
        let verification = AgreementVerification(roots: domains.mapValues(\.rootCertificate))
        do { try agreement.verifySignatures(verification, at: time) } catch let error as FederationError {
            throw RegistryError(.invalidTransition, sequence: number,
                                "Agreement \"\(agreement.terms.id)\" carries a signature that does not verify: \(error.reason)")
        }
    }
}
