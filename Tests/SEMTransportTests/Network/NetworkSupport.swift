// Shared helpers for the socket tests: running blocking work on threads, a test PKI made
// with the openssl command, a verifier that trusts the test root, the openssl process
// runner, and counting this process's sockets.
import Foundation
import SEMCrypto
import SEMLogging
import Synchronization
@testable import SEMTransport
import Testing

/// Every socket test lives under this suite, which runs its tests one at a time: the
/// descriptor counts and timing checks must not see other tests' sockets.
@Suite("Network", .serialized)
struct NetworkTests {}

/// Runs blocking work on a fresh thread (never on the cooperative pool) and awaits it.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

/// Runs `count` copies of `body` on as many threads at once and returns their results in order.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) async throws -> [T] {
    try await onThread {
        let results = Mutex<[Int: Result<T, any Error>]>([:])
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread {
                let result = Result { try body(index) }
                results.withLock { $0[index] = result }
                group.leave()
            }.start()
        }
        group.wait()
        return try results.withLock { stored in try (0..<count).map { try stored[$0]!.get() } }
    }
}

/// A logger whose lines the test can read.
func networkTestLogger() -> (Logger, InMemoryLogHandler) {
    let memory = InMemoryLogHandler()
    return (Logger(component: "net-test", level: .debug, handler: memory), memory)
}

/// Seconds elapsed since `start`, as a Double for range checks.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns its last value.
func eventually(timeout: Duration = .seconds(2), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// TCP sockets this process holds open: descriptors in /proc/self/fd whose socket inode
/// appears in /proc/net/tcp or tcp6. Unix-domain sockets are left out on purpose: other
/// suites running at the same time use socket pairs (and Foundation's Process keeps one
/// per running child), which would make the count move for reasons unrelated to the
/// code under test.
func openSocketCount() -> Int {
    var tcpInodes = Set<String>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count > 9 { tcpInodes.insert(String(fields[9])) }
        }
    }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return entries.filter { entry in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
              target.hasPrefix("socket:[") else { return false }
        return tcpInodes.contains(String(target.dropFirst("socket:[".count).dropLast()))
    }.count
}

/// Threads of this process whose system name starts with `prefix` (the kernel keeps 15
/// characters of a name). Listener threads are named "accept NAME" and "worker NAME", so a
/// test that gives its listener a short name of its own can count exactly its threads,
/// whatever other suites run at the same time.
func threadCount(namedPrefix prefix: String) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
        let name = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
        return name.hasPrefix(String(prefix.prefix(15)))
    }.count
}

/// A directory under the system temporary directory, removed by `remove()`.
final class NetworkTemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sem-network-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ text: String, to name: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Output of one openssl run.
struct OpenSSLRun: Sendable {
    let status: Int32
    let output: String
    let errors: String
}

/// Runs `openssl arguments...` in `directory` with `input` on standard input and waits.
@discardableResult
func runOpenSSL(_ arguments: [String], in directory: NetworkTemporaryDirectory,
                input: String = "") throws -> OpenSSLRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.currentDirectoryURL = directory.url
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return OpenSSLRun(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      errors: String(decoding: errors, as: UTF8.self))
}

/// Accepts a chain when its first certificate was signed by `root`. Stands in for the
/// real path validator, which is not part of the socket layer.
struct RootSignedVerifier: TLSPeerVerifier {
    let root: Certificate

    func verifyPeer(chain: [Certificate]) -> TLSPeerVerdict {
        guard let leaf = chain.first else { return .reject(reason: "No certificate was presented.") }
        return leaf.isSignature(verifiedBy: root.publicKey) ? .accept : .reject(reason: "Not issued by the test root.")
    }
}

/// Echoes every line back (with LF) until the peer closes or a read fails.
let echoLines: ConnectionHandler = { stream, _ in
    let reader = BufferedReader(stream)
    while case .line(let line, _) = try? reader.readLine(maxLength: 1024) {
        guard (try? stream.write(line + Data("\n".utf8))) != nil else { return }
    }
}

/// Starts a listener on 127.0.0.1 with an ephemeral port and an in-memory log.
func startListener(_ configuration: ListenerConfiguration = ListenerConfiguration(),
                   handler: @escaping ConnectionHandler = echoLines) throws -> (Listener, InMemoryLogHandler) {
    let (logger, memory) = networkTestLogger()
    let listener = try Listener(configuration: configuration, logger: logger, handler: handler)
    listener.start()
    return (listener, memory)
}

/// Connects to `listener` on 127.0.0.1.
func connect(to listener: Listener, timeout: Duration = .seconds(5)) throws -> SocketStream {
    try TCPClient.connect(host: "127.0.0.1", port: listener.port, timeout: timeout, ioTimeout: timeout)
}

/// Sends `text` plus LF and returns the reply line (or nil at end of stream).
func roundTrip(_ text: String, over reader: BufferedReader) throws -> String? {
    try reader.stream.write(text + "\n")
    guard case .line(let reply, _) = try reader.readLine(maxLength: 1024) else { return nil }
    return String(decoding: reply, as: UTF8.self)
}

/// Reads until end of stream or a failure; returns how the stream ended.
func readUntilClosed(_ stream: any ByteStream) -> Result<Int, NetworkError> {
    var total = 0
    while true {
        do {
            let chunk = try stream.read(maximum: 4096)
            if chunk.isEmpty { return .success(total) }
            total += chunk.count
        } catch let error as NetworkError {
            return .failure(error)
        } catch {
            return .failure(NetworkError(.ioFailed, "\(error)"))
        }
    }
}
