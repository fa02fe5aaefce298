// Directory look-ups for senders: the certificates of a recipient. A local user's come
// from the domain CA; a foreign user's from the recipient domain's mail server (which
// asks its own CA), over mutual TLS with the trust list deciding both ends, and are then
// validated here against that domain's root from the trust list before anyone sees them,
// and kept for five minutes (DirectoryCache).
// The client validates them again, with revocation, before it encrypts (R3).
public import Foundation
public import SEMCrypto
import SEMFederation
import SEMTransport
import Synchronization

/// A user's certificates as the directory returns them (PEM).
public struct DirectoryEntry: Sendable, Codable, Equatable {
    public var address: String
    public var signing: String
    public var encryption: String
    public var chain: [String]
}

extension MailService {
    public func lookup(_ address: String, at time: Date = Date()) throws -> DirectoryEntry {
        let address = try Self.address(address)
        let target = "/directory/\(address)"
        if Self.domain(of: address) == domain { return try askLocalCA(address) }
        if let cached = directoryCache.entry(for: address, at: time) { return cached }
        let recipientDomain = Self.domain(of: address)
        let list = try currentTrustList()
        guard let registered = list.domain(named: recipientDomain),
              let server = registered.servers.first(where: { $0.role == "mail" }) else {
            throw MailError(.unknownDomain, "\(recipientDomain) is not a domain of the federation's current trust list.")
        }
        let (host, port) = try Self.hostPort(server.https)
        let client = HTTPClient(configuration: HTTPClientConfiguration(
            host: host, port: port, tls: try federationClientTLS(expectedDomain: recipientDomain), serverName: server.hostName))
        defer { client.close() }
        let entry: DirectoryEntry
        do { entry = try client.getJSON("/v1/federation\(target)", as: DirectoryEntry.self) } catch let error as HTTPRemoteError {
            throw error.status == 404 ? MailError(.notFound, "\(address) is not in the directory of \(recipientDomain).")
                : MailError(.unavailable, "\(server.hostName) did not answer the look-up: \(error)")
        } catch {
            throw MailError(.unavailable, "\(server.hostName) could not be asked: \(error)")
        }
        // What another domain says about its users must chain to its registered root.
        let validator = PathValidator(trustAnchors: [registered.rootCertificate], revocationChecker: NoRevocationEvidence())
        let chain = try entry.chain.map { try Certificate(pemEncoded: $0) }
        for (pem, purpose) in [(entry.signing, CertificatePurpose.emailSigning), (entry.encryption, .emailEncryption)] {
            let certificate = try Certificate(pemEncoded: pem)
            let verdict = validator.validate(certificate, intermediates: chain,
                                             policy: ValidationPolicy(purpose: purpose, time: time, revocationMode: .softFail))
            guard verdict.failure == nil, certificate.emailAddresses.map({ $0.lowercased() }).contains(address) else {
                throw MailError(.forbidden, "\(server.hostName) answered with a certificate for \(address) that does not "
                                + "chain to the registered root of \(recipientDomain).")
            }
        }
        directoryCache.store(entry, for: address, at: time)
        return entry
    }

    /// A look-up by a registered server of another domain, for one of our users.
    public func lookupForPeer(_ address: String, peerCertificate: Certificate) throws -> DirectoryEntry {
        _ = try registeredPeer(peerCertificate)
        let address = try Self.address(address)
        guard Self.domain(of: address) == domain else { throw MailError(.notFound, "\(address) is not in \(domain).") }
        return try askLocalCA(address)
    }

    private func askLocalCA(_ address: String) throws -> DirectoryEntry {
        guard let caEndpoint else { throw MailError(.unavailable, "This server has no CA to ask.") }
        let client = HTTPClient(configuration: HTTPClientConfiguration(
            host: caEndpoint.host, port: caEndpoint.port, tls: try identity.localClientTLS(), serverName: "ca.\(domain)"))
        defer { client.close() }
        do { return try client.getJSON("/directory/\(address)", as: DirectoryEntry.self) } catch let error as HTTPRemoteError {
            throw error.status == 404 ? MailError(.notFound, "\(address) is not in the directory of \(domain).")
                : MailError(.unavailable, "The CA did not answer the look-up: \(error)")
        } catch {
            throw MailError(.unavailable, "The CA could not be asked: \(error)")
        }
    }
}

/// Validated answers about other domains' users, kept for a few minutes so that a
/// sender writing several letters does not cross the federation each time. The client
/// still checks revocation itself before it encrypts.
final class DirectoryCache: Sendable {
    static let lifetime: TimeInterval = 300
    static let capacity = 10_000
    private let entries = Mutex<[String: (entry: DirectoryEntry, expires: Date)]>([:])

    func entry(for address: String, at time: Date) -> DirectoryEntry? {
        entries.withLock { table in
            guard let found = table[address], found.expires > time else { return nil }
            return found.entry
        }
    }

    func store(_ entry: DirectoryEntry, for address: String, at time: Date) {
        entries.withLock { table in
            if table.count >= Self.capacity { table = table.filter { $0.value.expires > time } }
            if table.count < Self.capacity { table[address] = (entry, time + Self.lifetime) }
        }
    }
}
