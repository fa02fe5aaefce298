import Foundation
import SEMCrypto
import SEMLogging
@testable import SEMTransport
import Synchronization
import Testing

/// Greets with what the server saw of the TLS session, then echoes lines.
private let describeThenEcho: ConnectionHandler = { stream, info in
    let subject = info.peerCertificateSubject ?? "none"
    guard (try? stream.write("\(stream.tlsVersion ?? "plain") \(subject)\n")) != nil else { return }
    echoLines(stream, info)
}

extension NetworkTests {
    @Suite("TLS streams")
    struct TLSStreamTests {
        @Test("mutual TLS between our client and our listener: TLSv1.3 on both sides, client subject seen")
        func mutualTLS() async throws {
            let pki = try NetworkPKI.shared()
            let configuration = ListenerConfiguration(tls: try pki.serverContext())
            let (listener, memory) = try startListener(configuration, handler: describeThenEcho)
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let client = try pki.clientContext()
            let (greeting, echo, version, serverCN) = try await onThread { () -> (String?, String?, String?, String?) in
                let stream = try TCPClient.connectTLS(host: "127.0.0.1", port: listener.port, context: client,
                                                      serverName: "localhost", timeout: .seconds(5),
                                                      ioTimeout: .seconds(5))
                defer { stream.close() }
                let reader = BufferedReader(stream)
                guard case .line(let greeting, _) = try reader.readLine(maxLength: 512) else {
                    return (nil, nil, nil, nil)
                }
                return (String(decoding: greeting, as: UTF8.self), try roundTrip("over tls", over: reader),
                        stream.tlsVersion, stream.tlsPeerChain.first?.subject.commonName)
            }
            #expect(version == "TLSv1.3")
            #expect(serverCN == "localhost")
            #expect(greeting?.hasPrefix("TLSv1.3 ") == true)
            #expect(greeting?.contains("CN=\(NetworkPKI.clientSubjectCN)") == true)
            #expect(echo == "over tls")
            let open = try #require(memory.records.first { $0.event == "connection.open" })
            #expect(open.field("tls.version") == "TLSv1.3")
            #expect(open.field("tls.cipher")?.hasPrefix("TLS_") == true)
            #expect(open.field("tls.peer_subject")?.contains(NetworkPKI.clientSubjectCN) == true)
        }

        @Test("a listener that requires client certificates refuses a client without one")
        func clientCertificateRequired() async throws {
            let pki = try NetworkPKI.shared()
            let configuration = ListenerConfiguration(tls: try pki.serverContext())
            let handled = Mutex(false)
            let (listener, memory) = try startListener(configuration) { _, _ in handled.withLock { $0 = true } }
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let client = try pki.clientContext(withCertificate: false)
            let failure = try await onThread { () -> NetworkError? in
                let stream = try TCPClient.connectTLS(host: "127.0.0.1", port: listener.port, context: client,
                                                      serverName: "localhost", ioTimeout: .seconds(5))
                defer { stream.close() }
                // TLS 1.3: the client's handshake completes; the refusal arrives on the first read.
                if case .failure(let error) = readUntilClosed(stream) { return error }
                return nil
            }
            #expect(failure?.code == .tlsFailed)
            #expect(eventually { listener.statistics.tlsFailures == 1 })
            #expect(handled.withLock { $0 } == false)
            let warning = memory.records.first { $0.event == "connection.tls_failed" }
            #expect(warning?.level == .warning)
            #expect(warning?.field("reason")?.isEmpty == false)
        }

        @Test("our client refuses a server whose certificate does not match the expected name")
        func wrongServerName() async throws {
            let pki = try NetworkPKI.shared()
            let configuration = ListenerConfiguration(tls: try pki.serverContext(requireClientCertificate: false))
            let (listener, _) = try startListener(configuration, handler: describeThenEcho)
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let client = try pki.clientContext()
            let error = try await onThread { () -> NetworkError? in
                do {
                    let stream = try TCPClient.connectTLS(host: "127.0.0.1", port: listener.port, context: client,
                                                          serverName: "mail.example.org")
                    stream.close()
                    return nil
                } catch let error as NetworkError {
                    return error
                }
            }
            #expect(error?.code == .tlsPeerRejected)
            #expect(error?.reason.contains("mail.example.org") == true)
        }

        @Test("writing TLS to a peer that went away fails with an error instead of a SIGPIPE")
        func writeAfterPeerLeft() async throws {
            let pki = try NetworkPKI.shared()
            let configuration = ListenerConfiguration(tls: try pki.serverContext())
            let (listener, _) = try startListener(configuration) { stream, _ in stream.close() }
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let client = try pki.clientContext()
            let error = try await onThread { () -> NetworkError? in
                let stream = try TCPClient.connectTLS(host: "127.0.0.1", port: listener.port, context: client,
                                                      serverName: "localhost", ioTimeout: .seconds(5))
                defer { stream.close() }
                let chunk = Data(repeating: 0x42, count: 65_536)
                for _ in 0..<200 {
                    do { try stream.write(chunk) } catch let error as NetworkError { return error }
                    usleep(5_000)
                }
                return nil
            }
            #expect(error?.code == .connectionClosed || error?.code == .tlsFailed)
        }

        @Test("shutdown force-closes a TLS connection blocked in a read")
        func forcedTLSShutdown() async throws {
            let pki = try NetworkPKI.shared()
            let configuration = ListenerConfiguration(tls: try pki.serverContext(), idleTimeout: .seconds(30))
            let started = Mutex(false)
            let (listener, _) = try startListener(configuration) { stream, _ in
                started.withLock { $0 = true }
                _ = readUntilClosed(stream)
            }
            let client = try pki.clientContext()
            let report = try await onThread { () -> ShutdownReport in
                let stream = try TCPClient.connectTLS(host: "127.0.0.1", port: listener.port, context: client,
                                                      serverName: "localhost", ioTimeout: .seconds(5))
                defer { stream.close() }
                #expect(eventually { started.withLock { $0 } })
                return listener.shutdown(gracePeriod: .milliseconds(200))
            }
            #expect(report == ShutdownReport(forcedConnections: 1, remainingWorkers: 0))
        }

        @Test("a client that never starts the handshake is dropped after the handshake timeout")
        func handshakeTimeout() async throws {
            let pki = try NetworkPKI.shared()
            let context = try pki.serverContext(handshakeTimeout: .milliseconds(250))
            let (listener, memory) = try startListener(ListenerConfiguration(tls: context))
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let seconds = try await onThread { () -> Double in
                let stream = try connect(to: listener)
                defer { stream.close() }
                let start = ContinuousClock.now
                _ = readUntilClosed(stream)
                return secondsSince(start)
            }
            #expect(seconds >= 0.2 && seconds < 1.5)
            #expect(eventually { listener.statistics.tlsFailures == 1 })
            let warning = memory.records.first { $0.event == "connection.tls_failed" }
            #expect(warning?.field("reason")?.hasPrefix("net-timeout") == true)
        }

        @Test("a listener refuses a TLS context made for the client role")
        func clientContextRefused() throws {
            let pki = try NetworkPKI.shared()
            let (logger, _) = networkTestLogger()
            #expect(throws: NetworkError(.invalidArgument, "")) {
                try Listener(configuration: ListenerConfiguration(tls: try pki.clientContext()), logger: logger,
                             handler: echoLines)
            }
        }

        @Test("openssl s_client with a client certificate reaches our listener over TLSv1.3")
        func opensslClient() async throws {
            let pki = try NetworkPKI.shared()
            let directory = try NetworkTemporaryDirectory()
            defer { directory.remove() }
            try pki.writeFiles(to: directory)
            let configuration = ListenerConfiguration(tls: try pki.serverContext())
            let (listener, memory) = try startListener(configuration) { stream, _ in
                try? stream.write("hello from the listener\n")
                _ = readUntilClosed(stream)
            }
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let run = try await onThread {
                try runOpenSSL(["s_client", "-connect", "127.0.0.1:\(listener.port)", "-cert", "client.pem",
                                "-key", "client.key", "-CAfile", "ca.pem", "-servername", "localhost",
                                "-verify_return_error", "-brief"],
                               in: directory, input: "ping\n")
            }
            #expect(run.errors.contains("Protocol version: TLSv1.3"))
            #expect(run.errors.contains("Verification: OK"))
            #expect(eventually { memory.records.contains { $0.event == "connection.close" } })
            let open = memory.records.first { $0.event == "connection.open" }
            #expect(open?.field("tls.peer_subject")?.contains(NetworkPKI.clientSubjectCN) == true)
        }

        @Test("TLS 1.2 is refused by default; where configured it is offered with forward-secret AEAD suites only")
        func tls12OnlyWhereConfigured() async throws {
            let pki = try NetworkPKI.shared()
            let directory = try NetworkTemporaryDirectory()
            defer { directory.remove() }
            try pki.writeFiles(to: directory)
            func handshake(_ versions: TLSVersionPolicy, _ extra: [String]) async throws -> OpenSSLRun {
                let (listener, _) = try startListener(ListenerConfiguration(
                    tls: try pki.serverContext(requireClientCertificate: false, versions: versions))) { stream, _ in
                    try? stream.write("hello\n")
                    _ = readUntilClosed(stream)
                }
                defer { listener.shutdown(gracePeriod: .seconds(1)) }
                return try await onThread {
                    try runOpenSSL(["s_client", "-connect", "127.0.0.1:\(listener.port)", "-CAfile", "ca.pem",
                                    "-servername", "localhost", "-brief"] + extra, in: directory, input: "ping\n")
                }
            }
            let byDefault = try await handshake(.tls13Only, ["-tls1_2"])
            #expect(!byDefault.errors.contains("Protocol version: TLSv1.2"), "\(byDefault.errors)")
            #expect(byDefault.errors.contains("alert protocol version") || byDefault.errors.contains("no protocols available"),
                    "\(byDefault.errors)")

            let allowed = try await handshake(.tls12OrLater, ["-tls1_2"])
            #expect(allowed.errors.contains("Protocol version: TLSv1.2"), "\(allowed.errors)")
            #expect(allowed.errors.contains("Ciphersuite: ECDHE-"), "\(allowed.errors)")
            #expect(allowed.errors.contains("GCM") || allowed.errors.contains("CHACHA20"), "\(allowed.errors)")

            // A client that offers only a CBC suite with a SHA-1 MAC finds nothing in common.
            let weak = try await handshake(.tls12OrLater, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:AES128-SHA"])
            #expect(!weak.errors.contains("Protocol version"), "\(weak.errors)")
            #expect(weak.errors.contains("handshake failure"), "\(weak.errors)")

            // TLS 1.3 still works on a context that also allows 1.2.
            let modern = try await handshake(.tls12OrLater, [])
            #expect(modern.errors.contains("Protocol version: TLSv1.3"), "\(modern.errors)")
        }

        @Test("our TLS client talks to openssl s_server with mutual authentication")
        func opensslServer() async throws {
            let pki = try NetworkPKI.shared()
            let directory = try NetworkTemporaryDirectory()
            defer { directory.remove() }
            try pki.writeFiles(to: directory)
            let server = try OpenSSLServer(in: directory, arguments: [
                "-cert", "server.pem", "-key", "server.key", "-Verify", "1", "-CAfile", "ca.pem",
                "-verify_return_error", "-naccept", "1", "-rev"])
            defer { server.stop() }
            let client = try pki.clientContext()
            let port = try await onThread { try server.waitForPort() }
            let (reply, version) = try await onThread { () -> (String?, String?) in
                let stream = try TCPClient.connectTLS(host: "127.0.0.1", port: port, context: client,
                                                      serverName: "localhost", ioTimeout: .seconds(5))
                defer { stream.close() }
                return (try roundTrip("stressed", over: BufferedReader(stream)), stream.tlsVersion)
            }
            #expect(version == "TLSv1.3")
            #expect(reply == "desserts")
        }

        @Test("STARTTLS upgrades both ends of a plain connection and drops bytes pipelined before it")
        func startTLS() async throws {
            let pki = try NetworkPKI.shared()
            let serverContext = try pki.serverContext()
            let dropped = Mutex<Int?>(nil)
            let (listener, _) = try startListener { stream, _ in
                let reader = BufferedReader(stream)
                guard case .line(let command, _) = try? reader.readLine(maxLength: 512),
                      command == Data("STARTTLS".utf8) else { return }
                guard (try? stream.write("220 ready\r\n")) != nil,
                      let count = try? reader.startTLS(context: serverContext) else { return }
                dropped.withLock { $0 = count }
                #expect(throws: NetworkError(.streamClosed, "")) { try stream.write("plain again") }
                guard case .line(let line, _) = try? reader.readLine(maxLength: 512) else { return }
                let text = String(decoding: line, as: UTF8.self)
                try? reader.stream.write("got \(text) over \(reader.stream.tlsVersion ?? "plain")\r\n")
            }
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let client = try pki.clientContext()
            let reply = try await onThread { () -> String? in
                let plain = try connect(to: listener)
                let reader = BufferedReader(plain)
                // A command injected after STARTTLS in the same packet must never be executed.
                try plain.write("STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
                guard try reader.readLine(maxLength: 512) == .line(Data("220 ready".utf8), crlf: true) else {
                    return nil
                }
                try reader.startTLS(context: client, serverName: "localhost")
                defer { reader.stream.close() }
                #expect(plain.isClosed)
                try reader.stream.write("NOOP\r\n")
                guard case .line(let line, _) = try reader.readLine(maxLength: 512) else { return nil }
                return String(decoding: line, as: UTF8.self)
            }
            #expect(reply == "got NOOP over TLSv1.3")
            #expect(dropped.withLock { $0 } == "MAIL FROM:<injected@example.org>\r\n".utf8.count)
        }
    }
}

/// `openssl s_server` on an ephemeral port of 127.0.0.1, kept alive by an open stdin.
private final class OpenSSLServer: Sendable {
    private let process: Process
    private let input: Pipe
    private let output: Pipe

    init(in directory: NetworkTemporaryDirectory, arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:0"] + arguments
        process.currentDirectoryURL = directory.url
        input = Pipe()
        output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        self.process = process
    }

    /// Reads the "ACCEPT 127.0.0.1:PORT" line s_server prints once it listens.
    func waitForPort() throws -> UInt16 {
        var text = ""
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT ") }),
               let port = line.split(separator: ":").last.flatMap({ UInt16($0) }) {
                return port
            }
        }
        throw NetworkError(.connectFailed, "openssl s_server did not report its port", detail: text)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
