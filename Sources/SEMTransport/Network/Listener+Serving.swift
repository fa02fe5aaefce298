// The listener's threads: the accept loop, the worker pool, and serving one connection
// (TLS handshake, handler, close) with one log line at open and one at close.
import Foundation
import SEMLogging
#if canImport(Glibc)
import Glibc
#endif

/// Everything the listener's threads share; guarded by `Listener.state`.
struct ListenerState {
    enum Phase { case created, running, stopping, stopped }

    var phase = Phase.created
    var acceptThreadRunning = false
    /// Connections accepted and not finished, by id; their sockets are shut down if
    /// still here at the shutdown deadline.
    var active: [UInt64: SocketDescriptor] = [:]
    /// Accepted connections waiting for a worker, oldest first.
    var queue: [AcceptedConnection] = []
    /// Live worker threads.
    var workers = 0
    var nextID: UInt64 = 1
    /// Set at the shutdown deadline: queued connections are closed unserved.
    var forcing = false
    var forcedIDs: Set<UInt64> = []
    var statistics = ListenerStatistics()
    var report = ShutdownReport(forcedConnections: 0, remainingWorkers: 0)
}

/// A connection between accept and its worker.
struct AcceptedConnection: Sendable {
    let id: UInt64
    let descriptor: SocketDescriptor
    let acceptedAt: ContinuousClock.Instant
    let openedAt: Date
}

extension Listener {
    // MARK: - Accepting

    func acceptLoop() {
        defer { state.withLock { $0.acceptThreadRunning = false } }
        let waitsForSlot = if case .waitInBacklog = configuration.overloadPolicy { true } else { false }
        let maximum = configuration.maximumConnections
        while true {
            // With .waitInBacklog, accept only when a worker slot is free.
            let running = state.withLock(when: { $0.phase != .running || !waitsForSlot || $0.active.count < maximum }) {
                state, _ in state.phase == .running
            }
            guard running, let listenNumber = listening.rawValue, let wakeNumber = wakeReader.rawValue else { return }

            var entries = [pollfd(fd: listenNumber, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: wakeNumber, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&entries, 2, -1)
            if ready < 0 {
                if errno != EINTR { pauseAfterFailure("poll", errno) }
                continue
            }
            if entries[1].revents != 0 { return }
            guard entries[0].revents != 0 else { continue }

            // accept4(2) is not visible to Swift; the flags follow right after. A process
            // spawned in that instant could inherit the socket: a known, small window.
            let number = accept(listenNumber, nil, nil)
            guard number >= 0 else {
                switch errno {
                case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO: continue
                case let code: pauseAfterFailure("accept", code)
                }
                continue
            }
            SocketOptions.setCloseOnExec(number)
            SocketOptions.setNonBlocking(number)
            SocketOptions.setNoDelay(number)
            admit(SocketDescriptor(number))
        }
    }

    /// Out of descriptors or memory: log, then pause so the loop does not spin.
    private func pauseAfterFailure(_ call: String, _ code: Int32) {
        logger.error("accept.failed", ["call": call, "error": SystemError.text(code)])
        usleep(100_000)
    }

    /// Queues an accepted connection for a worker, starting one if needed, or turns it
    /// away when the listener is full or stopping.
    private func admit(_ descriptor: SocketDescriptor) {
        enum Decision { case queued(startWorker: Bool), busy, stopping }
        let maximum = configuration.maximumConnections
        let decision = state.withLock { state -> Decision in
            guard state.phase == .running else { return .stopping }
            guard state.active.count < maximum else {
                state.statistics.rejected += 1
                return .busy
            }
            let id = state.nextID
            state.nextID += 1
            state.active[id] = descriptor
            state.queue.append(AcceptedConnection(id: id, descriptor: descriptor, acceptedAt: .now, openedAt: Date()))
            state.statistics.accepted += 1
            state.statistics.peak = max(state.statistics.peak, state.active.count)
            // One worker per connection in flight; workers stay until shutdown.
            guard state.workers < state.active.count else { return .queued(startWorker: false) }
            state.workers += 1
            return .queued(startWorker: true)
        }
        switch decision {
        case .queued(let startWorker):
            if startWorker { ThreadNaming.start("worker \(configuration.name)") { [self] in workerLoop() } }
        case .stopping:
            descriptor.close()
        case .busy:
            turnAway(descriptor)
        }
    }

    private func turnAway(_ descriptor: SocketDescriptor) {
        let stream = SocketStream(descriptor: descriptor, timeout: .seconds(1))
        logger.notice("connection.busy", ["peer": stream.peerAddress?.description ?? "unknown"])
        if case .reject(let busy?) = configuration.overloadPolicy {
            stream.limitLifetime(to: .seconds(1))
            busy(stream)
        }
        stream.close()
    }

    // MARK: - Workers

    private func workerLoop() {
        while true {
            let next = state.withLock(when: { !$0.queue.isEmpty || $0.phase != .running }) {
                state, _ -> (AcceptedConnection, Bool)? in
                guard !state.queue.isEmpty else {
                    state.workers -= 1
                    return nil
                }
                return (state.queue.removeFirst(), state.forcing)
            }
            guard let (connection, forcing) = next else { return }
            if forcing {
                connection.descriptor.close()
            } else {
                serve(connection)
            }
            state.withLock { state in
                state.active[connection.id] = nil
            }
        }
    }

    /// Runs the TLS handshake (if any) and the handler for one connection, then closes it.
    private func serve(_ connection: AcceptedConnection) {
        let plain = SocketStream(descriptor: connection.descriptor, timeout: configuration.idleTimeout)
        plain.lifetimeDeadline = configuration.maximumLifetime.map { connection.acceptedAt + $0 }
        let peer = plain.peerAddress?.description ?? "unknown"
        let log = logger.with("conn", connection.id).with("peer", peer)

        var stream: any ByteStream = plain
        if let context = configuration.tls {
            do {
                stream = try plain.startTLS(context: context)
            } catch {
                // The line is written before the count moves, so whoever sees the count
                // also finds the line.
                log.warning("connection.tls_failed", ["reason": Self.reason(error)])
                state.withLock { $0.statistics.tlsFailures += 1 }
                connection.descriptor.close()
                return
            }
        }

        let info = ConnectionInfo(id: connection.id, peer: plain.peerAddress, local: plain.localAddress,
                                  openedAt: connection.openedAt, tlsVersion: stream.tlsVersion,
                                  tlsCipher: stream.tlsCipher, peerCertificateChain: stream.tlsPeerChain)
        if let version = info.tlsVersion {
            log.info("connection.open", ["tls.version": version, "tls.cipher": info.tlsCipher ?? "",
                                         "tls.peer_subject": info.peerCertificateSubject ?? "none"])
        } else {
            log.info("connection.open")
        }

        handler(stream, info)
        stream.close()
        connection.descriptor.close()

        let forced = state.withLock { $0.forcedIDs.contains(connection.id) }
        let elapsed = ContinuousClock.now - connection.acceptedAt
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        log.info("connection.close", ["duration_ms": milliseconds, "forced": forced])
    }

    /// The sentence of a failure, for log lines.
    static func reason(_ error: any Error) -> String {
        if let error = error as? NetworkError { return error.description }
        return String(describing: error)
    }
}
