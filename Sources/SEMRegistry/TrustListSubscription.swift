// Keeps a domain's servers on the current trust list: fetches it from the SMI every
// `refreshSeconds`, adopts it through TrustListConsumer (pinned signer, rollback and
// staleness rules, cache file) and hands each newly accepted list to the server.
//
// When the SMI is unreachable the last accepted list stays in force until it is stale
// (nextUpdate + grace period); after that `current` throws, the server is told (a nil
// update) and refuses federation traffic rather than trust an old list.
public import Foundation
public import SEMCredentials
public import SEMFederation
public import SEMLogging

/// The trust list a domain's server works with, refreshed in the background.
public final class TrustListSubscription: @unchecked Sendable {
    // @unchecked Sendable: `stopped` and `delivered` are only touched while holding `lock`;
    // the other stored properties are immutable and Sendable.
    public let consumer: TrustListConsumer
    let client: SMIClient
    let interval: TimeInterval
    let logger: Logger
    let onUpdate: @Sendable (TrustList?) -> Void
    private let lock = NSLock()
    private var stopped = false
    /// The sequence last handed over; nil before the first list and after a stale one.
    private var delivered: UInt64?

    /// Loads the cached list (handing it to `onUpdate` when it is still fresh). `onUpdate`
    /// receives each newly accepted list, and nil when the last one has gone stale.
    public init(directory: DomainDirectory, settings: FederationSettings, logger: Logger = .disabled,
                onUpdate: @escaping @Sendable (TrustList?) -> Void) throws {
        let signer = try SMIDirectory.readCertificate(directory.path(settings.smiSigner))
        consumer = try TrustListConsumer(pinnedSigner: signer, cacheURL: directory.path(settings.trustListCache),
                                         settings: .init(gracePeriod: settings.gracePeriodSeconds), logger: logger)
        client = try directory.smiClient(settings)
        interval = max(settings.refreshSeconds, 0.2)
        self.logger = logger
        self.onUpdate = onUpdate
        if let cached = try? consumer.current(at: Date()) { deliver(cached) }
    }

    /// The current list, or a `FederationError` when there is none or it is stale.
    public func current(at time: Date = Date()) throws -> TrustList { try consumer.current(at: time) }

    /// Fetches and adopts the SMI's list once; returns whether it was accepted.
    @discardableResult
    public func refresh() -> Bool {
        do {
            deliver(try consumer.accept(der: try client.trustList(), at: Date()))
            return true
        } catch {
            logger.warning("trust-list.refresh-failed", ["smi": client.url, "error": "\(error)"])
            if (try? consumer.current(at: Date())) == nil { withdraw() }
            return false
        }
    }

    /// Refreshes every interval on a new thread, until `stop()` (call `refresh()` first
    /// to have a list before serving).
    public func start() {
        let thread = Thread { [self] in
            while !lock.withLock({ stopped }) {
                Thread.sleep(forTimeInterval: interval)
                if lock.withLock({ stopped }) { break }
                refresh()
            }
        }
        thread.name = "trust-list"
        thread.start()
    }

    public func stop() { lock.withLock { stopped = true } }

    private func deliver(_ list: TrustList) {
        let isNew = lock.withLock {
            defer { delivered = list.sequence }
            return delivered != list.sequence
        }
        if isNew { onUpdate(list) }
    }

    private func withdraw() {
        let wasDelivered = lock.withLock {
            defer { delivered = nil }
            return delivered != nil
        }
        if wasDelivered {
            logger.error("trust-list.stale", ["smi": client.url])
            onUpdate(nil)
        }
    }
}
