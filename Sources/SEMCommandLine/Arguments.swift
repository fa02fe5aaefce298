// A small command-line parser shared by sem, semd and semctl: positional arguments,
// `--name value` / `--name=value` options (repeatable), and `--flag` switches. Anything
// not declared is a usage error, so a mistyped option never passes silently.
import Foundation

/// A mistake in how a command was called; programs exit with status 2 for it.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct Arguments {
    public private(set) var positionals: [String] = []
    private var values: [String: [String]] = [:]
    private var switches: Set<String> = []

    /// Parses `arguments` knowing which names take a value and which are switches.
    public init(_ arguments: some Collection<String>, options: Set<String> = [], flags: Set<String> = []) throws {
        var iterator = Array(arguments).makeIterator()
        var onlyPositionals = false
        while let argument = iterator.next() {
            if onlyPositionals || !argument.hasPrefix("--") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            var name = String(argument.dropFirst(2))
            var inline: String?
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if flags.contains(name) {
                guard inline == nil else { throw UsageError("--\(name) takes no value.") }
                switches.insert(name)
            } else if options.contains(name) {
                guard let value = inline ?? iterator.next() else { throw UsageError("--\(name) needs a value.") }
                values[name, default: []].append(value)
            } else {
                throw UsageError("Unknown option --\(name).")
            }
        }
    }

    public func value(_ name: String) -> String? { values[name]?.last }
    public func values(_ name: String) -> [String] { values[name] ?? [] }
    public func flag(_ name: String) -> Bool { switches.contains(name) }

    /// The option's value, or a usage error naming it.
    public func required(_ name: String) throws -> String {
        guard let value = value(name) else { throw UsageError("--\(name) is required.") }
        return value
    }

    /// The positional argument at `index`, or a usage error describing it.
    public func positional(_ index: Int, _ what: String) throws -> String {
        guard positionals.indices.contains(index) else { throw UsageError("Missing \(what).") }
        return positionals[index]
    }

    /// Refuses positional arguments beyond `count`.
    public func expectPositionals(atMost count: Int) throws {
        if positionals.count > count {
            throw UsageError("Unexpected argument '\(positionals[count])'.")
        }
    }
}

/// Runs a command body and turns its outcome into an exit status and one clear line on
/// standard error: 2 for usage errors, 1 for other failures, or the body's own status.
public enum CommandRunner {
    public static func run(program: String, usage: String, _ body: () throws -> Int32) -> Never {
        do {
            exit(try body())
        } catch let error as UsageError {
            printError("\(program): \(error.description)\n\(usage)")
            exit(2)
        } catch {
            printError("\(program): \(error)")
            exit(1)
        }
    }

    public static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
