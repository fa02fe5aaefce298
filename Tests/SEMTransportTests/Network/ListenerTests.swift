import Foundation
import SEMLogging
@testable import SEMTransport
import Synchronization
import Testing

/// Counts handlers running at once and remembers the highest count.
private final class ConcurrencyGauge: Sendable {
    private let counts = Mutex<(current: Int, peak: Int)>((0, 0))

    func enter() { counts.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) } }
    func leave() { counts.withLock { $0.current -= 1 } }
    var peak: Int { counts.withLock { $0.peak } }
}

/// A flag one thread raises and another waits for.
private final class Signal: Sendable {
    private let raised = Mutex(false)
    func raise() { raised.withLock { $0 = true } }
    func wait(timeout: Duration = .seconds(2)) -> Bool { eventually(timeout: timeout) { raised.withLock { $0 } } }
}

extension NetworkTests {
    @Suite("Listener")
    struct ListenerTests {
        @Test("fifty concurrent clients are all answered while at most eight are served at once")
        func boundedPool() async throws {
            let gauge = ConcurrencyGauge()
            let configuration = ListenerConfiguration(backlog: 128, maximumConnections: 8)
            let (listener, _) = try startListener(configuration) { stream, info in
                gauge.enter()
                defer { gauge.leave() }
                usleep(20_000)
                echoLines(stream, info)
            }
            defer { listener.shutdown(gracePeriod: .seconds(1)) }

            let replies = try await onThreads(50) { index -> String? in
                let stream = try connect(to: listener, timeout: .seconds(10))
                defer { stream.close() }
                return try roundTrip("client \(index)", over: BufferedReader(stream))
            }
            #expect(replies == (0..<50).map { "client \($0)" })
            #expect(gauge.peak <= 8)
            #expect(gauge.peak >= 2)
            #expect(listener.statistics.peak <= 8)
            #expect(listener.statistics.accepted == 50)
            #expect(eventually { listener.activeConnections == 0 })
        }

        @Test("when full with the reject policy, the busy callback answers and the connection is closed")
        func rejectWhenFull() async throws {
            let configuration = ListenerConfiguration(
                maximumConnections: 1, overloadPolicy: .reject(busy: { stream in try? stream.write("busy\n") }))
            let (listener, memory) = try startListener(configuration)
            defer { listener.shutdown(gracePeriod: .seconds(1)) }

            let (first, second) = try await onThread { () -> (String?, String?) in
                let holder = try connect(to: listener)
                defer { holder.close() }
                let firstReply = try roundTrip("hold", over: BufferedReader(holder))
                let turnedAway = try connect(to: listener)
                defer { turnedAway.close() }
                let reader = BufferedReader(turnedAway)
                guard case .line(let busy, _) = try reader.readLine(maxLength: 64) else { return (firstReply, nil) }
                #expect(try reader.readLine(maxLength: 64) == .endOfStream(unterminated: Data()))
                return (firstReply, String(decoding: busy, as: UTF8.self))
            }
            #expect(first == "hold")
            #expect(second == "busy")
            #expect(listener.statistics.rejected == 1)
            #expect(memory.records.contains { $0.event == "connection.busy" })
        }

        @Test("a silent client is closed after the idle timeout")
        func idleTimeout() async throws {
            let configuration = ListenerConfiguration(idleTimeout: .milliseconds(300), maximumLifetime: nil)
            let (listener, memory) = try startListener(configuration)
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let (ended, seconds) = try await onThread { () -> (Bool, Double) in
                let stream = try connect(to: listener)
                defer { stream.close() }
                let start = ContinuousClock.now
                stream.readTimeout = .seconds(3)
                // The server's close shows as end of stream, or as a reset when it had unread data.
                let closedByServer = switch readUntilClosed(stream) {
                case .success(let count): count == 0
                case .failure(let error): error.code == .connectionClosed
                }
                return (closedByServer, secondsSince(start))
            }
            #expect(ended)
            #expect(seconds >= 0.25 && seconds < 1.5)
            #expect(eventually { memory.records.contains { $0.event == "connection.close" } })
        }

        @Test("a chatty client is closed when its lifetime runs out")
        func lifetimeLimit() async throws {
            let configuration = ListenerConfiguration(idleTimeout: .seconds(2), maximumLifetime: .milliseconds(600))
            let (listener, _) = try startListener(configuration)
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let (answered, seconds) = try await onThread { () -> (Int, Double) in
                let stream = try connect(to: listener)
                defer { stream.close() }
                let reader = BufferedReader(stream)
                let start = ContinuousClock.now
                var answered = 0
                while secondsSince(start) < 3 {
                    guard let reply = try? roundTrip("ping", over: reader), reply == "ping" else { break }
                    answered += 1
                    usleep(50_000)
                }
                return (answered, secondsSince(start))
            }
            #expect(answered >= 4)
            #expect(seconds >= 0.5 && seconds < 1.5)
        }

        @Test("a client sending one byte every 100 ms is served under a 300 ms idle timeout")
        func tricklingClient() async throws {
            let configuration = ListenerConfiguration(idleTimeout: .milliseconds(300), maximumLifetime: nil)
            let (listener, _) = try startListener(configuration)
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let reply = try await onThread { () -> String? in
                let stream = try connect(to: listener)
                defer { stream.close() }
                for byte in "slowly\n".utf8 {
                    try stream.write(Data([byte]))
                    usleep(100_000)
                }
                guard case .line(let line, _) = try BufferedReader(stream).readLine(maxLength: 64) else { return nil }
                return String(decoding: line, as: UTF8.self)
            }
            #expect(reply == "slowly")
        }

        @Test("shutdown lets a request in flight finish before the deadline and then refuses connections")
        func gracefulShutdown() async throws {
            let received = Signal()
            let (listener, _) = try startListener { stream, _ in
                let reader = BufferedReader(stream)
                guard case .line(let line, _) = try? reader.readLine(maxLength: 64) else { return }
                received.raise()
                usleep(300_000)
                try? stream.write(line + Data(" done\n".utf8))
            }
            let port = listener.port
            let outcome = try await onThread { () -> (String?, ShutdownReport, Double) in
                let stream = try connect(to: listener)
                defer { stream.close() }
                try stream.write("work\n")
                #expect(received.wait())
                let start = ContinuousClock.now
                let report = listener.shutdown(gracePeriod: .seconds(3))
                let seconds = secondsSince(start)
                guard case .line(let reply, _) = try BufferedReader(stream).readLine(maxLength: 64) else {
                    return (nil, report, seconds)
                }
                return (String(decoding: reply, as: UTF8.self), report, seconds)
            }
            #expect(outcome.0 == "work done")
            #expect(outcome.1 == ShutdownReport(forcedConnections: 0, remainingWorkers: 0))
            #expect(outcome.2 >= 0.1 && outcome.2 < 2)
            #expect(throws: NetworkError(.connectFailed, "")) {
                try TCPClient.connect(host: "127.0.0.1", port: port, timeout: .seconds(1))
            }
        }

        @Test("a handler stuck in a read is force-closed at the deadline and its worker exits")
        func forcedShutdown() async throws {
            let started = Signal()
            let ended = Signal()
            let configuration = ListenerConfiguration(idleTimeout: .seconds(30), maximumLifetime: nil)
            let (listener, memory) = try startListener(configuration) { stream, _ in
                started.raise()
                _ = readUntilClosed(stream)
                ended.raise()
            }
            let (report, seconds) = try await onThread { () -> (ShutdownReport, Double) in
                let stream = try connect(to: listener)
                defer { stream.close() }
                #expect(started.wait())
                let start = ContinuousClock.now
                let report = listener.shutdown(gracePeriod: .milliseconds(300))
                return (report, secondsSince(start))
            }
            #expect(report == ShutdownReport(forcedConnections: 1, remainingWorkers: 0))
            #expect(seconds >= 0.25 && seconds < 2)
            #expect(ended.wait(timeout: .zero))
            #expect(listener.statistics.forced == 1)
            #expect(listener.state.withLock { $0.workers } == 0)
            let close = memory.records.first { $0.event == "connection.close" }
            #expect(close?.field("forced") == "true")
        }

        @Test("one log line at open and one at close, with the peer address")
        func logLines() async throws {
            let (listener, memory) = try startListener()
            let local = try await onThread { () -> String in
                let stream = try connect(to: listener)
                defer { stream.close() }
                _ = try roundTrip("hi", over: BufferedReader(stream))
                return stream.localAddress?.description ?? ""
            }
            _ = try await onThread { listener.shutdown(gracePeriod: .seconds(1)) }
            let connectionLines = memory.records.filter { $0.event.hasPrefix("connection.") }
            #expect(connectionLines.map(\.event) == ["connection.open", "connection.close"])
            #expect(connectionLines.allSatisfy { $0.field("peer") == local && $0.field("conn") == "1" })
            #expect(memory.records.contains { $0.event == "listener.stop" })
        }

        @Test("descriptors of many connections are all closed after shutdown")
        func noDescriptorLeak() async throws {
            let before = openSocketCount()
            let (listener, _) = try startListener(ListenerConfiguration(maximumConnections: 4))
            let replies = try await onThreads(20) { index -> String? in
                let stream = try connect(to: listener)
                defer { stream.close() }
                return try roundTrip("n\(index)", over: BufferedReader(stream))
            }
            #expect(replies.compactMap { $0 }.count == 20)
            let report = try await onThread { listener.shutdown(gracePeriod: .seconds(1)) }
            #expect(report.remainingWorkers == 0)
            #expect(eventually(timeout: .seconds(1)) { openSocketCount() == before })
        }

        @Test("invalid limits are refused before binding")
        func invalidConfiguration() throws {
            let (logger, _) = networkTestLogger()
            #expect(throws: NetworkError(.invalidArgument, "")) {
                try Listener(configuration: ListenerConfiguration(maximumConnections: 0), logger: logger,
                             handler: echoLines)
            }
            #expect(throws: NetworkError(.invalidArgument, "")) {
                try Listener(configuration: ListenerConfiguration(idleTimeout: .zero), logger: logger,
                             handler: echoLines)
            }
        }
    }
}
