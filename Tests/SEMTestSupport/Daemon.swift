// Running a long-lived program (a `semd` role, an independent server) for a test: start it,
// wait for its readiness line, stop it with SIGTERM at the end.
public import Foundation
import Synchronization

public final class BackgroundProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched by the owning test; output goes through a Mutex.
    private let process = Process()
    private let output = OutputBuffer()
    private let errors = OutputBuffer()

    /// Starts `executable` and waits until a line of its standard output contains `readyText`.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                in directory: URL? = nil, readyText: String, timeout: TimeInterval = 20) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = directory }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        outPipe.fileHandleForReading.readabilityHandler = { [output] handle in
            let chunk = handle.availableData
            output.append(chunk)
        }
        errPipe.fileHandleForReading.readabilityHandler = { [errors] handle in
            let chunk = handle.availableData
            errors.append(chunk)
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while !standardOutput.contains(readyText) {
            guard process.isRunning else {
                throw ScratchError("\(executable.lastPathComponent) exited early: \(standardError)")
            }
            guard Date() < deadline else {
                stop()
                throw ScratchError("\(executable.lastPathComponent) was not ready in time: \(standardError)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    public var standardOutput: String { output.text }
    public var standardError: String { errors.text }

    /// Sends SIGTERM and waits for the exit; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { stop() }
}

/// Bytes a reader thread appends while the test reads them.
private final class OutputBuffer: Sendable {
    private let data = Mutex(Data())

    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}

/// Ports that were free a moment ago: bound to port 0 on 127.0.0.1, read back, closed.
public enum FreePorts {
    public static func allocate(_ count: Int) throws -> [UInt16] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [UInt16] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ScratchError("socket() failed") }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw ScratchError("bind() failed") }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return ports
    }
}
