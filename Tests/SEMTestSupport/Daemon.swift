// Running a long-lived program (a `semd` role) for a test, and finding free ports: the
// same helpers the loopback demo uses, under the names the tests read best with.
public import Foundation
public import SEMCommandLine
import SEMTransport

/// A server program started for a test and stopped with SIGTERM when released.
public typealias BackgroundProcess = ChildProcess

extension ChildProcess {
    /// Starts `executable` and waits until a line of its standard output contains `readyText`.
    public convenience init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                            in directory: URL? = nil, readyText: String, timeout: TimeInterval = 30) throws {
        try self.init(name: executable.lastPathComponent, executable: executable, arguments: arguments,
                      environment: environment, directory: directory, readyText: readyText, timeout: timeout)
    }
}

/// Ports that were free a moment ago on 127.0.0.1.
public enum FreePorts {
    public static func allocate(_ count: Int) throws -> [UInt16] { try LoopbackPorts.reserve(count) }
}
