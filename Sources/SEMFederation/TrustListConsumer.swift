// The relying party's side of the trust list: a client or server pins the SMI signer's
// certificate, accepts new signed lists, and keeps the last accepted one on disk so that
// neither a restart nor an attacker replaying an old list can take it backwards.
//
// Rules on `accept(der:at:)`, in order:
//   1. signature by the pinned SMI certificate          → trust-list-signature
//   2. canonical, well-formed content, agreements verify → trust-list-malformed
//   3. sequence not lower than the last accepted; an equal sequence must carry the same
//      bytes (re-delivery of the same list is fine)     → trust-list-rollback
//   4. issuedAt not later than now + clock skew         → trust-list-not-yet-valid
//   5. now not later than nextUpdate + grace period     → trust-list-stale
//
// The cache file holds the signed DER itself, so it is re-verified on load and cannot be
// edited in place; it is public data, written 0644 via temp file + fsync + rename.
public import Foundation
public import SEMCrypto
public import SEMLogging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Holds the pinned SMI certificate and the last accepted trust list.
public final class TrustListConsumer: Sendable {
    /// What the consumer checks times against.
    public struct Settings: Sendable {
        /// How long after `nextUpdate` a list is still used. Default 24 hours.
        public var gracePeriod: TimeInterval
        /// How far in the future `issuedAt` may lie (clocks differ). Default 5 minutes.
        public var clockSkew: TimeInterval

        public init(gracePeriod: TimeInterval = 24 * 3600, clockSkew: TimeInterval = 300) {
            self.gracePeriod = gracePeriod
            self.clockSkew = clockSkew
        }
    }

    private struct Accepted {
        let list: TrustList
        let content: Data
    }

    public let pinnedSigner: Certificate
    public let settings: Settings
    /// Where the last accepted list is kept; nil keeps it in memory only.
    public let cacheURL: URL?
    private let logger: Logger
    private let state: Mutex<Accepted?>

    /// Creates the consumer and loads a cached list from `cacheURL` when there is one. A
    /// cached list is re-verified against `pinnedSigner` (but not for staleness: an old
    /// list still anchors rollback protection). Throws when the cache exists but does not verify.
    public init(pinnedSigner: Certificate, cacheURL: URL?, settings: Settings = Settings(),
                logger: Logger = .disabled) throws {
        self.pinnedSigner = pinnedSigner
        self.cacheURL = cacheURL
        self.settings = settings
        self.logger = logger.component("trust-list")
        var loaded: Accepted?
        if let cacheURL, FileManager.default.fileExists(atPath: cacheURL.path) {
            let der: Data
            do { der = try Data(contentsOf: cacheURL) } catch {
                throw FederationError(.storage, "The cached trust list at \(cacheURL.path) cannot be read.")
            }
            let verified = try TrustList.verify(der, pinnedSigner: pinnedSigner, at: Date())
            loaded = Accepted(list: verified.list, content: verified.content)
            self.logger.info("trust-list.loaded", ["sequence": verified.list.sequence])
        }
        state = Mutex(loaded)
    }

    /// The sequence number of the last accepted list, if any.
    public var lastSequence: UInt64? { state.withLock { $0?.list.sequence } }

    /// Verifies and adopts a signed list (rules in the file header); returns it.
    @discardableResult
    public func accept(der: Data, at time: Date) throws -> TrustList {
        let verified = try TrustList.verify(der, pinnedSigner: pinnedSigner, at: time)
        let list = verified.list
        try list.verifyAgreements(at: time)
        return try state.withLock { current -> TrustList in
            if let current {
                if list.sequence < current.list.sequence {
                    throw FederationError(.trustListRollback, "The trust list has sequence \(list.sequence), lower than "
                                          + "\(current.list.sequence) already accepted.")
                }
                if list.sequence == current.list.sequence {
                    guard verified.content == current.content else {
                        throw FederationError(.trustListRollback, "The trust list reuses sequence \(list.sequence) "
                                              + "with different content.")
                    }
                }
            }
            try check(list, at: time)
            if current?.content != verified.content, let cacheURL {
                try Self.writeAtomically(der, to: cacheURL)
            }
            current = Accepted(list: list, content: verified.content)
            logger.info("trust-list.accepted", ["sequence": list.sequence, "domains": list.domains.count])
            return list
        }
    }

    /// The accepted list, as long as it is not past nextUpdate + grace period.
    /// Throws `.trustListMissing` or `.trustListStale`.
    public func current(at time: Date) throws -> TrustList {
        guard let list = state.withLock({ $0?.list }) else {
            throw FederationError(.trustListMissing, "No trust list has been accepted yet.")
        }
        try checkFreshness(list, at: time)
        return list
    }

    private func check(_ list: TrustList, at time: Date) throws {
        guard list.issuedAt <= time.addingTimeInterval(settings.clockSkew) else {
            throw FederationError(.trustListNotYetValid, "The trust list was issued at \(RFC3339.string(from: list.issuedAt)), "
                                  + "later than now (\(RFC3339.string(from: time))) beyond the allowed clock skew.")
        }
        try checkFreshness(list, at: time)
    }

    private func checkFreshness(_ list: TrustList, at time: Date) throws {
        let deadline = list.nextUpdate.addingTimeInterval(settings.gracePeriod)
        guard time <= deadline else {
            throw FederationError(.trustListStale, "The trust list \(list.sequence) was due for update at "
                                  + "\(RFC3339.string(from: list.nextUpdate)) and its grace period ended at "
                                  + "\(RFC3339.string(from: deadline)).")
        }
    }

    /// Writes `data` to `url` so that readers see the old file or the new one, never a mix:
    /// a temporary file in the same directory, fsync, rename over, fsync of the directory.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent().path
        let temporary = url.path + ".tmp-\(getpid())"
        func fail(_ what: String) -> FederationError {
            FederationError(.storage, "The trust list could not be saved to \(url.path): \(what) failed (errno \(errno)).")
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fail("creating the temporary file") }
        var closed = false
        defer {
            if !closed { close(descriptor) }
        }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 { if errno == EINTR { continue }; return false }
                offset += count
            }
            return true
        }
        guard written else { unlink(temporary); throw fail("writing") }
        guard fchmod(descriptor, 0o644) == 0, fsync(descriptor) == 0 else { unlink(temporary); throw fail("fsync") }
        closed = true
        guard close(descriptor) == 0 else { unlink(temporary); throw fail("close") }
        guard rename(temporary, url.path) == 0 else { unlink(temporary); throw fail("rename") }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
