// SEMLogging - one line per event: time, level, component, event name, key=value fields.
//
// A `Logger` is a value handed to whoever needs it; nothing in the project reads a
// global logger. Values are sanitised on the way out (control characters escaped,
// length capped) because many of them come from the network. Secrets must never be
// passed as field values at all: types that hold secrets print as "<redacted>".
public import Foundation

/// Severity ladder, lowest first. `warning` is for remote misbehaviour, `error` for
/// local failures that need an operator, `critical` for our own broken invariants.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case trace, debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }

    /// Parses the names printed by `description`.
    public init?(name: String) {
        guard let level = LogLevel.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = level
    }
}

/// One event as handed to a `LogHandler`.
public struct LogRecord: Sendable {
    public let time: Date
    public let level: LogLevel
    public let component: String
    public let event: String
    /// Fields in the order they were given; metadata of the logger comes first.
    public let fields: [(key: String, value: String)]

    /// The value of the first field named `key`, if any.
    public func field(_ key: String) -> String? { fields.first(where: { $0.key == key })?.value }

    /// The record as one log line, e.g.
    /// `2026-12-03T10:00:00.000Z level=info component=smtp event=session.open peer=127.0.0.1`.
    public var line: String {
        var parts = ["\(LogFormat.timestamp(time))", "level=\(level)", "component=\(component)", "event=\(event)"]
        for (key, value) in fields {
            parts.append("\(key)=\(LogFormat.quoteIfNeeded(value))")
        }
        return parts.joined(separator: " ")
    }
}

/// Where records go. Implementations must be safe to call from any thread.
public protocol LogHandler: Sendable {
    func write(_ record: LogRecord)
}

/// A structured logger: a component name, a minimum level, metadata fields carried on
/// every line, and a handler.
public struct Logger: Sendable {
    public let component: String
    public var minimumLevel: LogLevel
    public private(set) var metadata: [(key: String, value: String)]
    private let handler: any LogHandler

    public init(component: String, level: LogLevel = .info, handler: any LogHandler) {
        self.component = component
        self.minimumLevel = level
        self.metadata = []
        self.handler = handler
    }

    /// A logger that drops everything; for callers that have nothing to report to.
    public static let disabled = Logger(component: "none", level: .critical, handler: DiscardingLogHandler())

    /// The same handler and level under another component name.
    public func component(_ name: String) -> Logger {
        var copy = Logger(component: name, level: minimumLevel, handler: handler)
        copy.metadata = metadata
        return copy
    }

    /// A copy that adds `key=value` to every line it writes (session id, peer, queue id).
    public func with(_ key: String, _ value: some CustomStringConvertible) -> Logger {
        var copy = self
        copy.metadata.append((key, LogFormat.sanitise(value.description)))
        return copy
    }

    public func log(_ level: LogLevel, _ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible>) {
        guard level >= minimumLevel else { return }
        var all = metadata
        for (key, value) in fields {
            all.append((key, LogFormat.sanitise(value.description)))
        }
        handler.write(LogRecord(time: Date(), level: level, component: component, event: event, fields: all))
    }

    public func trace(_ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.trace, event, fields)
    }
    public func debug(_ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.debug, event, fields)
    }
    public func info(_ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.info, event, fields)
    }
    public func notice(_ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.notice, event, fields)
    }
    public func warning(_ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.warning, event, fields)
    }
    public func error(_ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.error, event, fields)
    }
    public func critical(_ event: String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.critical, event, fields)
    }
}

/// Formatting rules shared by every handler.
public enum LogFormat {
    /// Longest value written; untrusted input beyond it is cut and marked.
    public static let maximumValueLength = 512

    /// Escapes control characters and caps the length, so that a hostile peer cannot
    /// forge log lines or flood the log.
    public static func sanitise(_ text: String) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= maximumValueLength {
                out += "...(truncated)"
                break
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\x%02X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            count += 1
        }
        return out
    }

    static func quoteIfNeeded(_ value: String) -> String {
        if value.isEmpty { return "\"\"" }
        if value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return value
    }

    static func timestamp(_ date: Date) -> String {
        // ISO 8601 in UTC with milliseconds; built by hand because ISO8601DateFormatter
        // is not Sendable and a formatter per line is needlessly slow.
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }
}
