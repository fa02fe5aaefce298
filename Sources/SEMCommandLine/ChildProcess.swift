// A server program started by another program (the loopback demo): started with its
// output captured, waited for until it prints its readiness line, stopped with SIGTERM.
public import Foundation
import Synchronization

public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is driven by the owner only; output goes through a Mutex.
    public let name: String
    private let process = Process()
    private let output = CapturedOutput()
    private let errors = CapturedOutput()

    /// Starts `executable` and waits until a line of its standard output contains
    /// `readyText`, or throws naming `name` when it exits or the timeout passes first.
    public init(name: String, executable: URL, arguments: [String], environment: [String: String] = [:],
                directory: URL? = nil, readyText: String, timeout: TimeInterval = 30) throws {
        self.name = name
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw UsageError("\(executable.path) is missing or not executable; build it with 'swift build'.")
        }
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = directory }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        outPipe.fileHandleForReading.readabilityHandler = { [output] in output.append($0.availableData) }
        errPipe.fileHandleForReading.readabilityHandler = { [errors] in errors.append($0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while !output.text.contains(readyText) {
            if !process.isRunning {
                throw ChildProcessError("\(name) exited before it was ready: \(Self.lastLines(errors.text))")
            }
            if Date() > deadline {
                stop()
                throw ChildProcessError("\(name) was not ready within \(Int(timeout)) s: \(Self.lastLines(errors.text))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    public var isRunning: Bool { process.isRunning }
    public var processIdentifier: Int32 { process.processIdentifier }
    public var standardOutput: String { output.text }
    public var standardError: String { errors.text }

    /// Sends SIGTERM, waits for the exit and returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { stop() }

    private static func lastLines(_ text: String) -> String {
        let lines = text.split(separator: "\n").suffix(3).joined(separator: " | ")
        return lines.isEmpty ? "(no output)" : lines
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Output a reader thread appends while the owner reads it.
private final class CapturedOutput: Sendable {
    private let data = Mutex(Data())
    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}
