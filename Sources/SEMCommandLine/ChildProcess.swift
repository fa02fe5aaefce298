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
    private let launched = Mutex(false)
    private let outputReader: FileHandle
    private let errorReader: FileHandle

    /// Prepares `executable` without starting it: `launch` starts it and `waitUntilReady`
    /// waits for its readiness line. An owner that must stop every child it has on an
    /// interrupt registers the child as it launches it, before the wait.
    public init(name: String, executable: URL, arguments: [String], environment: [String: String] = [:],
                directory: URL? = nil) throws {
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
        outputReader = outPipe.fileHandleForReading
        errorReader = errPipe.fileHandleForReading
    }

    /// Starts `executable` and waits until a line of its standard output contains
    /// `readyText`, or throws naming `name` when it exits or the timeout passes first.
    public convenience init(name: String, executable: URL, arguments: [String], environment: [String: String] = [:],
                            directory: URL? = nil, readyText: String, timeout: TimeInterval = 30) throws {
        try self.init(name: name, executable: executable, arguments: arguments, environment: environment,
                      directory: directory)
        try launch()
        try waitUntilReady(readyText, timeout: timeout)
    }

    /// Starts the program (once).
    public func launch() throws {
        guard !launched.withLock({ $0 }) else { return }
        try process.run()
        launched.withLock { $0 = true }
        output.collect(from: outputReader, thread: "stdout \(name)")
        errors.collect(from: errorReader, thread: "stderr \(name)")
    }

    /// Waits until a line of standard output contains `readyText`; throws naming the
    /// program when it exits first, or stops it and throws when `timeout` passes.
    public func waitUntilReady(_ readyText: String, timeout: TimeInterval = 30) throws {
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

    /// Sends SIGTERM, waits for the exit and returns the exit status (-1 for a program
    /// never launched). A program still
    /// running after `grace` seconds (one that ignores SIGTERM, or is stuck) gets SIGKILL,
    /// so that stopping never hangs.
    @discardableResult
    public func stop(grace: TimeInterval = 15) -> Int32 {
        guard launched.withLock({ $0 }) else { return -1 }
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(grace)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
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

    /// Reads `handle` until end of file with blocking reads on a thread of its own. Not
    /// FileHandle.readabilityHandler: on Linux its dispatch read source can crash the
    /// whole process in _dispatch_event_loop_drain when the pipe is torn down while the
    /// source is still being cancelled, which happened here under a loaded test run.
    func collect(from handle: FileHandle, thread name: String) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                append(chunk)
            }
        }
        thread.name = name
        thread.start()
    }
}
