// Log handlers: standard error for programs, memory for tests, nothing for silence.
import Foundation
import Synchronization

/// Writes each record as one line to standard error with a single `write(2)`, so
/// lines from different threads never interleave.
public struct StandardErrorLogHandler: LogHandler {
    public init() {}

    public func write(_ record: LogRecord) {
        let bytes = Array((record.line + "\n").utf8)
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// Keeps every record in memory so tests can assert on what was logged.
public final class InMemoryLogHandler: LogHandler {
    private let storage = Mutex<[LogRecord]>([])

    public init() {}

    public func write(_ record: LogRecord) {
        storage.withLock { $0.append(record) }
    }

    /// Every record written so far, oldest first.
    public var records: [LogRecord] { storage.withLock { $0 } }

    /// Every record rendered as a line.
    public var lines: [String] { records.map(\.line) }

    public func removeAll() { storage.withLock { $0.removeAll() } }
}

/// Drops every record.
public struct DiscardingLogHandler: LogHandler {
    public init() {}
    public func write(_ record: LogRecord) {}
}
