// Test support shared by every test target: scratch directories and a runner for the
// independent command-line peers (openssl, softhsm2-util, pkcs11-tool, curl, swaks, ...).
public import Foundation

/// What one run of an external tool printed.
public struct ToolResult: Sendable {
    public let status: Int32
    public let outputData: Data
    public let errors: String

    public var output: String { String(decoding: outputData, as: UTF8.self) }
    /// Standard output and standard error together, for messages that move between
    /// them across tool versions.
    public var all: String { output + errors }
}

public enum ExternalTool {
    /// Runs `tool` (looked up on PATH) with `arguments`. Output is captured in files rather
    /// than pipes, so a chatty tool can never stall on a full pipe.
    public static func run(_ tool: String, _ arguments: [String], input: Data? = nil,
                           environment: [String: String] = [:], in directory: URL? = nil) throws -> ToolResult {
        let scratch = try ScratchDirectory(prefix: "sem-tool")
        let outURL = scratch.url.appendingPathComponent("stdout")
        let errURL = scratch.url.appendingPathComponent("stderr")
        let inURL = scratch.url.appendingPathComponent("stdin")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        try (input ?? Data()).write(to: inURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let stdin = try FileHandle(forReadingFrom: inURL)
        defer {
            try? out.close()
            try? err.close()
            try? stdin.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, outputData: try Data(contentsOf: outURL),
                          errors: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

/// A fresh private directory (mode 0700) under the system temporary directory, removed
/// when the value is released.
public final class ScratchDirectory: @unchecked Sendable {
    // @unchecked: `url` is immutable; the directory's contents are the tests' business.
    public let url: URL

    public init(prefix: String = "sem-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes a file; `secret` files (private keys) are created with mode 0600.
    public func write(_ name: String, _ data: Data, secret: Bool = false) throws {
        let created = FileManager.default.createFile(atPath: path(name), contents: data,
                                                     attributes: [.posixPermissions: secret ? 0o600 : 0o644])
        if !created { throw ScratchError("could not write \(path(name))") }
    }

    public func write(_ name: String, _ text: String, secret: Bool = false) throws {
        try write(name, Data(text.utf8), secret: secret)
    }

    public func read(_ name: String) throws -> Data { try Data(contentsOf: url.appendingPathComponent(name)) }

    /// Runs `openssl` with `arguments` in this directory.
    @discardableResult
    public func openssl(_ arguments: [String], input: Data? = nil) throws -> ToolResult {
        try ExternalTool.run("openssl", arguments, input: input, in: url)
    }

    /// Runs any tool in this directory.
    @discardableResult
    public func run(_ tool: String, _ arguments: [String], input: Data? = nil,
                    environment: [String: String] = [:]) throws -> ToolResult {
        try ExternalTool.run(tool, arguments, input: input, environment: environment, in: url)
    }
}

public struct ScratchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
