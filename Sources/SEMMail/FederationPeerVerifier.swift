// Trust between mail servers of different domains comes from the trust list alone: a
// peer is accepted when the certificate it presents is, byte for byte, the registered
// certificate of a server of an active domain (and within its validity). DNS and public
// CAs play no part (architecture P4).
import Foundation
public import SEMCrypto
import SEMFederation

/// Accepts a peer whose certificate is a registered server certificate in the current
/// trust list, optionally of one expected domain.
public struct FederationPeerVerifier: TLSPeerVerifier {
    let trustList: TrustListSource
    let expectedDomain: String?

    public init(trustList: @escaping TrustListSource, expectedDomain: String? = nil) {
        self.trustList = trustList
        self.expectedDomain = expectedDomain?.lowercased()
    }

    public func verifyPeer(chain: [Certificate]) -> TLSPeerVerdict {
        guard let leaf = chain.first else { return .reject(reason: "The peer sent no certificate.") }
        let list: TrustList
        do { list = try trustList() } catch { return .reject(reason: "There is no current trust list: \(error)") }
        guard let owner = try? list.owner(ofServerCertificate: leaf) else {
            return .reject(reason: "\(leaf.subject) is not a registered server of the federation.")
        }
        if let expectedDomain, owner.domain.name != expectedDomain {
            return .reject(reason: "\(leaf.subject) is registered for \(owner.domain.name), not for \(expectedDomain).")
        }
        let now = Date()
        guard leaf.notBefore <= now, now <= leaf.notAfter else {
            return .reject(reason: "The registered certificate of \(owner.server.hostName) is outside its validity period.")
        }
        return .accept
    }
}

/// Accepts a client that is either a local user or server (path validation against the
/// local root, revocation included) or a registered server of another domain.
public struct MailClientVerifier: TLSPeerVerifier {
    let local: PathValidatingPeerVerifier
    let federation: FederationPeerVerifier

    public init(identity: MailServerIdentity, trustList: @escaping TrustListSource) {
        local = PathValidatingPeerVerifier(validator: identity.localValidator, purpose: .tlsClient)
        federation = FederationPeerVerifier(trustList: trustList)
    }

    public func verifyPeer(chain: [Certificate]) -> TLSPeerVerdict {
        let localVerdict = local.verifyPeer(chain: chain)
        if case .accept = localVerdict { return .accept }
        if case .accept = federation.verifyPeer(chain: chain) { return .accept }
        return localVerdict
    }
}
