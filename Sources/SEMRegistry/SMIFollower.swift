// A follower SMI server's replication: it pulls the leader's log by sequence number,
// imports it with the same checks the leader applies (RegistryLog.importEntries: canonical
// form, sequence, hash link, pinned signer, signature, state rules), then mirrors the
// leader's signed trust list once its own log supports exactly that list.
//
// A refused entry or list is logged with its sequence and reason and kept (shown by
// GET /v1/status). The refused entry's digest is remembered so that the same
// bytes are neither imported nor reported again on every pull; the follower keeps asking,
// and reports again only when different bytes arrive. Entries before a refused one stay
// imported. A list that does not match the follower's log is usually a race (the leader
// appended between the two requests) and is retried on the next round.
public import Foundation
public import SEMCrypto
public import SEMLogging
import SEMFederation
import SEMTransport

/// Pulls from the leader on a background thread.
public final class SMIFollower: @unchecked Sendable {
    // @unchecked Sendable: `stopped`, `refusedDigest` and `refusal` are only touched while
    // holding `lock`; the other stored properties are immutable and Sendable.
    let log: RegistryLog
    let leader: SMIClient
    let pinnedSigner: Certificate
    let interval: TimeInterval
    let logger: Logger
    private let lock = NSLock()
    private var stopped = false
    /// Digests of the last refused entry bytes and the last refused list reason, and what
    /// was said about each.
    private var refusedEntry: String?
    private var refusedList: String?
    private var entryRefusal: String?
    private var listRefusal: String?

    public init(log: RegistryLog, leader: SMIClient, pinnedSigner: Certificate, interval: TimeInterval = 5,
                logger: Logger = .disabled) {
        self.log = log
        self.leader = leader
        self.pinnedSigner = pinnedSigner
        self.interval = interval
        self.logger = logger
    }

    /// The last refused entry, "entry N: code: reason"; nil when none.
    public var lastEntryRefusal: String? { lock.withLock { entryRefusal } }
    /// The last refused trust list, with the reason; nil when none.
    public var lastTrustListRefusal: String? { lock.withLock { listRefusal } }

    /// Pulls on a new thread every `interval` seconds until `stop()`.
    public func start() {
        let thread = Thread { [self] in
            while !lock.withLock({ stopped }) {
                pullOnce()
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "smi-follower"
        thread.start()
    }

    public func stop() { lock.withLock { stopped = true } }

    /// One round: the log entries after the local head, then the trust list.
    /// - Returns: the number of entries imported.
    @discardableResult
    public func pullOnce() -> Int {
        let imported: Int
        do {
            imported = try pullEntries()
        } catch {
            logger.warning("smi.follower.pull-failed", ["leader": leader.url, "error": "\(error)"])
            return 0
        }
        do {
            try log.mirror(try leader.trustList(), pinnedSigner: pinnedSigner)
        } catch let error as RegistryError where error.code == .trustListRefused {
            // Usually the leader moved on between the two requests; the next round catches up.
            report("trust list", error.reason, digest: error.reason, slot: \.refusedList, said: \.listRefusal)
        } catch {
            logger.warning("smi.follower.trust-list-failed", ["leader": leader.url, "error": "\(error)"])
        }
        return imported
    }

    private func pullEntries() throws -> Int {
        let head = try log.head().sequence
        let received = try leader.logEntries(after: head)
        guard let first = received.first else { return 0 }
        let digest = Digest.sha256(first).hexString
        if lock.withLock({ refusedEntry == digest }) { return 0 }
        do {
            let stored = try log.importEntries(received, trustedSigners: [pinnedSigner])
            logger.info("smi.follower.imported", ["entries": stored, "head": head + UInt64(stored)])
            return stored
        } catch let error as RegistryError where error.code != .storage {
            let newHead = try log.head().sequence
            let index = Int(newHead - head)
            let refusedBytes = index < received.count ? received[index] : first
            report("entry \(error.sequence ?? newHead + 1)", "\(error.code.rawValue): \(error.reason)",
                   digest: Digest.sha256(refusedBytes).hexString, slot: \.refusedEntry,
                   said: \.entryRefusal)
            return index
        }
    }

    private func report(_ subject: String, _ reason: String, digest: String,
                        slot: ReferenceWritableKeyPath<SMIFollower, String?>,
                        said: ReferenceWritableKeyPath<SMIFollower, String?>) {
        let isNew = lock.withLock {
            defer {
                self[keyPath: slot] = digest
                self[keyPath: said] = "\(subject): \(reason)"
            }
            return self[keyPath: slot] != digest
        }
        if isNew { logger.error("smi.follower.refused", ["subject": subject, "reason": reason]) }
    }
}
