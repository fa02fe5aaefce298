import Foundation
import SEMCrypto
@testable import SEMTransport
import Testing

extension NetworkTests {
    @Suite("TCP client and socket stream")
    struct SocketStreamTests {
        @Test("a client reaches a listener on an ephemeral port and both addresses are known")
        func connectAndExchange() async throws {
            let (listener, _) = try startListener()
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            #expect(listener.port != 0)
            let reply = try await onThread { () -> [String?] in
                let stream = try connect(to: listener)
                defer { stream.close() }
                #expect(stream.peerAddress == NetworkAddress(host: "127.0.0.1", port: listener.port))
                #expect(stream.localAddress?.host == "127.0.0.1")
                let reader = BufferedReader(stream)
                return [try roundTrip("first", over: reader), try roundTrip("second", over: reader)]
            }
            #expect(reply == ["first", "second"])
        }

        @Test("connecting to a port nobody listens on fails with connect-failed")
        func connectRefused() async throws {
            let (listener, _) = try startListener()
            let port = listener.port
            _ = try await onThread { listener.shutdown(gracePeriod: .seconds(1)) }
            let error = try await onThread { () -> NetworkError? in
                do {
                    _ = try TCPClient.connect(host: "127.0.0.1", port: port, timeout: .seconds(2))
                    return nil
                } catch let error as NetworkError {
                    return error
                }
            }
            #expect(error?.code == .connectFailed)
        }

        @Test("port 0, an empty host and an unknown name are refused")
        func badArguments() async throws {
            #expect(throws: NetworkError(.invalidArgument, "")) { try TCPClient.connect(host: "127.0.0.1", port: 0) }
            #expect(throws: NetworkError(.invalidArgument, "")) { try TCPClient.connect(host: "", port: 25) }
            #expect(throws: NetworkError(.invalidArgument, "")) {
                try TCPClient.connect(host: String(repeating: "a", count: 300), port: 25)
            }
            #expect(throws: NetworkError(.resolveFailed, "")) {
                try TCPClient.connect(host: "no-such-host.invalid", port: 25)
            }
        }

        @Test("a read with nothing to read gives up after the read timeout")
        func readTimeout() async throws {
            let (listener, _) = try startListener()
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let (error, seconds) = try await onThread { () -> (NetworkError?, Double) in
                let stream = try connect(to: listener)
                defer { stream.close() }
                stream.readTimeout = .milliseconds(200)
                let start = ContinuousClock.now
                if case .failure(let error) = readUntilClosed(stream) { return (error, secondsSince(start)) }
                return (nil, secondsSince(start))
            }
            #expect(error?.code == .timedOut)
            #expect(seconds >= 0.15 && seconds < 1.5)
        }

        @Test("the lifetime deadline ends a read in progress and refuses all later I/O")
        func lifetimeDeadline() async throws {
            let (listener, _) = try startListener()
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let outcome = try await onThread { () -> (NetworkError?, Double, NetworkError?) in
                let stream = try connect(to: listener)
                defer { stream.close() }
                stream.readTimeout = .seconds(5)
                stream.limitLifetime(to: .milliseconds(250))
                let start = ContinuousClock.now
                guard case .failure(let first) = readUntilClosed(stream) else { return (nil, 0, nil) }
                let seconds = secondsSince(start)
                do {
                    try stream.write("late\n")
                    return (first, seconds, nil)
                } catch let later as NetworkError {
                    return (first, seconds, later)
                }
            }
            #expect(outcome.0?.code == .lifetimeExceeded)
            #expect(outcome.1 >= 0.2 && outcome.1 < 1.5)
            #expect(outcome.2?.code == .lifetimeExceeded)
        }

        @Test("writing to a peer that closed fails with connection-closed and raises no SIGPIPE")
        func writeAfterPeerClosed() async throws {
            let (listener, _) = try startListener(handler: { stream, _ in stream.close() })
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let error = try await onThread { () -> NetworkError? in
                let stream = try connect(to: listener)
                defer { stream.close() }
                let chunk = Data(repeating: 0x41, count: 65_536)
                // The first writes may still land in the socket buffer; the reset comes soon.
                for _ in 0..<200 {
                    do { try stream.write(chunk) } catch let error as NetworkError { return error }
                    usleep(5_000)
                }
                return nil
            }
            #expect(error?.code == .connectionClosed)
        }

        @Test("close may be called twice and a closed stream refuses reads and writes")
        func closeTwice() async throws {
            let (listener, _) = try startListener()
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            try await onThread {
                let stream = try connect(to: listener)
                stream.close()
                stream.close()
                #expect(stream.isClosed)
                #expect(throws: NetworkError(.streamClosed, "")) { try stream.read(maximum: 10) }
                #expect(throws: NetworkError(.streamClosed, "")) { try stream.write("x") }
            }
        }
    }
}
