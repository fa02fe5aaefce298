// An opened client: configuration, keys (unlocked from the token or key files), the
// pinned anchors, the server API and the local store, plus the validation every
// certificate from outside goes through (R3): a path to the domain's root (the pinned one
// for our domain, the trust list's for another), the purpose, and revocation by OCSP with
// the CRL as fallback, failing hard when neither answers.
public import Foundation
import SEMCredentials
import SEMTransport
public import SEMCrypto
import SEMFederation
import SEMMessage
import Synchronization

/// Hears how a long transfer goes: what moves, the bytes done, and the bytes in all.
public typealias TransferProgress = @Sendable (_ what: String, _ done: Int64, _ total: Int64) -> Void

public final class ClientSession: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable or behind a Mutex; a
    // session is used by one command on one thread.
    public let home: ClientHome
    public let configuration: ClientConfiguration
    public let signing: CertifiedKey
    public let encryption: CertifiedKey
    let root: Certificate
    let intermediates: [Certificate]
    let smiSigner: Certificate?
    public let api: MailAPIClient
    public let store: ClientStore
    /// Where attachment uploads and downloads report their progress (a terminal meter).
    let progress: TransferProgress?
    /// The trust list this command accepted, once it has asked: validating every
    /// recipient and every letter of a sync against one list costs one fetch and one
    /// signature check, not one per certificate.
    private let acceptedTrustList = Mutex<TrustList?>(nil)

    public init(home: ClientHome, environment: [String: String] = ProcessInfo.processInfo.environment,
                progress: TransferProgress? = nil) throws {
        self.home = home
        self.progress = progress
        configuration = try home.configuration()
        let signingStore = try configuration.signingKeys.open(relativeTo: home.url, environment: environment)
        let encryptionStore = try configuration.encryptionKeys.open(relativeTo: home.url, environment: environment)
        signing = try CertifiedKey(certificate: try home.certificate("signing"),
                                   key: try signingStore.privateKey(label: ClientHome.Label.signing))
        encryption = try CertifiedKey(certificate: try home.certificate("encryption"),
                                      key: try encryptionStore.privateKey(label: ClientHome.Label.encryption))
        root = try home.certificate("root")
        intermediates = try PEM.decodeAll(try String(contentsOf: home.path("pki/chain.pem"), encoding: .utf8), label: "CERTIFICATE")
            .map { try Certificate(derEncoded: $0) }
        smiSigner = home.certificateIfPresent("smi")
        api = try MailAPIClient(host: configuration.mail.host, port: configuration.mail.port, domain: configuration.domain,
                                credential: signing, chain: intermediates, root: root, intermediates: intermediates)
        store = try ClientStore(path: home.path("store.sqlite").path,
                                protection: try Self.storeProtection(configuration, encryption, environment: environment))
    }

    public var address: String { configuration.address }

    /// How this client's local store opens: its passphrase ($SEM_STORE_PASSPHRASE, or
    /// typed at the terminal) when it was enrolled so, otherwise the encryption key.
    static func storeProtection(_ configuration: ClientConfiguration, _ encryption: CertifiedKey,
                                environment: [String: String]) throws -> ClientStore.Protection {
        guard configuration.storeUsesPassphrase else { return .encryptionKey(encryption.key, encryption.certificate) }
        if let value = environment["SEM_STORE_PASSPHRASE"], !value.isEmpty { return .passphrase(Secret(value)) }
        if let typed = TerminalSecretPrompt.ask("Enter the passphrase of the local store: ", rememberAs: "SEM_STORE_PASSPHRASE") {
            return .passphrase(typed)
        }
        throw ClientError(.notEnrolled, "The local store opens with a passphrase: set SEM_STORE_PASSPHRASE or run on a terminal.")
    }

    /// Signs as the user (with protected headers, by LetterComposer).
    var signer: CMSSigner {
        get throws { try CMSSigner(key: signing.key, certificate: signing.certificate, chain: intermediates) }
    }

    /// The current trust list from the server, checked against the pinned registry signer
    /// (fetched on the first call of the session, then reused); nil for a client outside
    /// any federation.
    func trustList() throws -> TrustList? {
        guard let smiSigner else { return nil }
        if let accepted = acceptedTrustList.withLock({ $0 }) { return accepted }
        let consumer = try TrustListConsumer(pinnedSigner: smiSigner, cacheURL: home.path("trust-list.der"))
        let list: TrustList
        if let fresh = try? api.trustList() {
            list = try consumer.accept(der: fresh, at: Date())
        } else {
            list = try consumer.current(at: Date())
        }
        acceptedTrustList.withLock { $0 = list }
        return list
    }

    /// Validates a certificate of `address`'s domain for `purpose`; throws a
    /// `ClientError(.verificationFailed)` naming the reason.
    func validate(_ certificate: Certificate, of address: String, purpose: CertificatePurpose,
                  intermediates extra: [Certificate] = [], at time: Date = Date()) throws {
        let domain = MailAddress(address).domain
        let anchor: Certificate
        if domain == configuration.domain {
            anchor = root
        } else {
            guard let list = try trustList(), let registered = list.domain(named: domain) else {
                throw ClientError(.verificationFailed, "\(domain) is not a domain of the federation's trust list.")
            }
            anchor = registered.rootCertificate
        }
        let validator = PathValidator(trustAnchors: [anchor], knownIntermediates: domain == configuration.domain ? intermediates : [],
                                      revocationChecker: OnlineRevocationChecker())
        // A user certificate of this system asserts the assurance level of its holder's
        // identity proofing as a certificate policy; one without any is not ours to trust.
        let policy = ValidationPolicy(purpose: purpose, time: time,
                                      acceptablePolicies: AssuranceLevel.allCases.map(\.policyOID))
        let verdict = validator.validate(certificate, intermediates: extra, policy: policy)
        if let failure = verdict.failure {
            throw ClientError(.verificationFailed, "certificate of \(address): \(failure)")
        }
        guard certificate.emailAddresses.map({ $0.lowercased() }).contains(address.lowercased()) else {
            throw ClientError(.verificationFailed, "the certificate does not name \(address).")
        }
    }
}
