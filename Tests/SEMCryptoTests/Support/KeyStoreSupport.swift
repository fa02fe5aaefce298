// Shared utilities for the key store tests: temporary directories and running command-line
// tools (openssl, softhsm2-util, pkcs11-tool) as independent checks.
import Foundation

enum KeyStoreTestSupport {
    struct ToolResult {
        let status: Int32
        let output: String
        let errors: String
    }

    /// Runs `tool` (looked up on PATH) with `arguments`; `input` goes to standard input.
    static func run(_ tool: String, _ arguments: [String], input: Data? = nil,
                    environment: [String: String] = [:]) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe(), errors = Pipe(), standardInput = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = standardInput
        try process.run()
        if let input { standardInput.fileHandleForWriting.write(input) }
        try standardInput.fileHandleForWriting.close()
        // Drain standard error on another thread while reading standard output here, so
        // a chatty tool cannot block on a full pipe.
        let errorBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorBox.data = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                          errors: String(decoding: errorBox.data, as: UTF8.self))
    }

    /// Written by one reader thread before `group.leave()`, read only after `group.wait()`.
    private final class DataBox: @unchecked Sendable { var data = Data() }

    /// A fresh directory under the system temporary directory; remove it with `removeDirectory`.
    static func makeTemporaryDirectory(_ prefix: String = "sem-keystore") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `body` with a fresh temporary directory that is removed afterwards.
    static func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
        let url = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }

    /// Permission bits of a file or directory.
    static func mode(of url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
