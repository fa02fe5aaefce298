// A registered domain's changes to what the registry holds about it: a new profile, a
// server added or removed, a new root (key roll). Like a registration, the request is a
// CMS SignedData (RFC 5652 §5) over the canonical JSON of the change with exactly one
// signer, admin@<domain>; unlike a registration, the signer must chain to the root the
// registry already has for the domain, so only the domain's own administrator can change
// it. A key roll is authorised under the outgoing root; later requests chain to the new one.
//
// The signed request is kept in the log entry's payload, and folding the log checks it
// again against the root in force at that point of the log.
public import Foundation
public import SEMCrypto
public import SEMFederation

/// A domain administrator's signed change to the domain's registry record.
public struct DomainUpdate: Sendable, Equatable, Codable {
    /// What changes; each takes exactly one of the optional members.
    public enum Change: String, Sendable, Codable, CaseIterable {
        /// `profile`
        case profile
        /// `server`
        case addServer = "add-server"
        /// `hostName`
        case removeServer = "remove-server"
        /// `rootCertificate` (DER)
        case rollKey = "roll-key"

        /// The log entry the change becomes.
        public var entryKind: RegistryEntryKind {
            switch self {
            case .profile: .profileUpdated
            case .addServer: .serverAdded
            case .removeServer: .serverRemoved
            case .rollKey: .keyRolled
            }
        }
    }

    public var domain: String
    public var change: Change
    public var profile: DomainProfile?
    public var server: TrustedServer?
    public var hostName: String?
    public var rootCertificate: Data?
    public var requestedAt: Date

    init(domain: String, change: Change, requestedAt: Date) {
        self.domain = domain.lowercased()
        self.change = change
        self.requestedAt = requestedAt
    }

    public static func profile(_ profile: DomainProfile, for domain: String, at time: Date = Date()) -> DomainUpdate {
        var update = DomainUpdate(domain: domain, change: .profile, requestedAt: time)
        update.profile = profile
        return update
    }

    public static func addServer(_ server: TrustedServer, for domain: String, at time: Date = Date()) -> DomainUpdate {
        var update = DomainUpdate(domain: domain, change: .addServer, requestedAt: time)
        update.server = server
        return update
    }

    public static func removeServer(_ hostName: String, for domain: String, at time: Date = Date()) -> DomainUpdate {
        var update = DomainUpdate(domain: domain, change: .removeServer, requestedAt: time)
        update.hostName = hostName.lowercased()
        return update
    }

    public static func rollKey(_ root: Certificate, for domain: String, at time: Date = Date()) -> DomainUpdate {
        var update = DomainUpdate(domain: domain, change: .rollKey, requestedAt: time)
        update.rootCertificate = root.derEncoded
        return update
    }

    /// Signs the update as the domain's administrator: attached CMS SignedData, DER.
    public func signed(by administrator: CMSSigner) throws -> Data {
        try administrator.sign(try CanonicalJSON.encode(self))
    }

    static let what = "domain update"

    /// The update a signed request carries, after its CMS signature verified but before its
    /// signer is checked against the domain's root (the registry state does that).
    public static func unverified(_ der: Data) throws -> DomainUpdate {
        let verified = try AdministratorSignature.open(der, what: what, code: .invalidPayload)
        return try decode(verified)
    }

    /// Checks a signed request against the domain's registered `root` at `time`.
    public static func verify(_ der: Data, root: Certificate, at time: Date) throws -> DomainUpdate {
        let verified = try AdministratorSignature.open(der, what: what, code: .invalidTransition)
        let update = try decode(verified)
        try AdministratorSignature.checkSigner(of: verified, domain: update.domain, root: root, at: time, what: what,
                                               code: .invalidTransition)
        return update
    }

    private static func decode(_ verified: CMSVerifiedContent) throws -> DomainUpdate {
        let update: DomainUpdate
        do { update = try CanonicalJSON.decodeCanonical(DomainUpdate.self, from: verified.content) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, "The \(what) is not canonical JSON: \(error.reason)")
        }
        let present: [Change] = [update.profile.map { _ in .profile }, update.server.map { _ in .addServer },
                                 update.hostName.map { _ in .removeServer }, update.rootCertificate.map { _ in .rollKey }]
            .compactMap { $0 }
        guard present == [update.change] else {
            throw RegistryError(.invalidPayload, "The \(what) for \(update.domain) must carry exactly the member "
                                + "its change \"\(update.change.rawValue)\" needs.")
        }
        return update
    }
}

extension RegistryLog {
    /// Records a signed domain update as its entry (profileUpdated, serverAdded,
    /// serverRemoved or keyRolled) with the request kept in the payload. Applying the entry
    /// checks the signer against the domain's registered root; nothing is appended otherwise.
    @discardableResult
    public func update(request: Data, signer: CertifiedKey, at time: Date = Date()) throws -> RegistryEntry {
        let update = try DomainUpdate.unverified(request)
        let kind = update.change.entryKind, name = update.domain
        switch update.change {
        case .profile:
            return try append(kind, domain: name, payload: ProfilePayload(profile: update.profile!, request: request),
                              signer: signer, at: time)
        case .addServer:
            return try append(kind, domain: name, payload: ServerPayload(server: update.server!, request: request),
                              signer: signer, at: time)
        case .removeServer:
            return try append(kind, domain: name, payload: ServerRemovalPayload(hostName: update.hostName!, request: request),
                              signer: signer, at: time)
        case .rollKey:
            guard let der = update.rootCertificate, let root = try? Certificate(derEncoded: der) else {
                throw RegistryError(.invalidPayload, "The new root certificate of \(name) is not valid DER.")
            }
            return try append(kind, domain: name, payload: KeyRollPayload(rootCertificate: root, request: request),
                              signer: signer, at: time)
        }
    }
}

extension RegistryState {
    /// Checks the signed update behind a `profileUpdated`, `serverAdded`, `serverRemoved` or
    /// `keyRolled` entry: signed by the domain's administrator under the root the registry
    /// holds for it, for this domain and this change, and leaving a record that fits the
    /// trust list, and made no earlier than the last update applied. `changed` is the record
    /// after the change.
    func checkUpdate(_ der: Data, kind: RegistryEntryKind, domain name: String, changed: RegisteredDomain,
                     at time: Date, _ number: UInt64, matches: (DomainUpdate) -> Bool) throws -> DomainUpdate {
        func refuse(_ text: String) -> RegistryError { RegistryError(.invalidTransition, sequence: number, text) }
        guard let current = domains[name] else { throw refuse("The domain \(name) is not registered.") }
        let update: DomainUpdate
        do { update = try DomainUpdate.verify(der, root: current.rootCertificate, at: time) } catch let error as RegistryError {
            throw refuse(error.reason)
        }
        guard update.domain == name, update.change.entryKind == kind, matches(update) else {
            throw refuse("The \(DomainUpdate.what) is a \(update.change.rawValue) change for \(update.domain), "
                         + "not the \(kind.rawValue) entry for \(name) it is recorded in.")
        }
        if let last = current.lastUpdateRequestedAt, update.requestedAt < last {
            throw refuse("The \(DomainUpdate.what) for \(name) was made at \(RFC3339.string(from: update.requestedAt)), "
                         + "before the last one applied (\(RFC3339.string(from: last))); a replayed request "
                         + "cannot undo a later change.")
        }
        do {
            try TrustList(sequence: 1, issuedAt: time, nextUpdate: time + 1, issuer: "update check",
                          domains: [TrustedDomain(name: name, status: .active, rootCertificate: changed.rootCertificate,
                                                  servers: changed.servers, profile: changed.profile)]).validate()
        } catch let error as FederationError {
            throw refuse("The \(DomainUpdate.what) would leave \(name) unfit for the trust list: \(error.reason)")
        }
        return update
    }
}
