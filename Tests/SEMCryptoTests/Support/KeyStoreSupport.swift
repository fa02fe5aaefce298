// Shared utilities for the key store tests: temporary directories and running command-line
// tools (openssl, softhsm2-util, pkcs11-tool) as independent checks.
import Foundation
import SEMTestSupport

enum KeyStoreTestSupport {
    typealias ToolResult = SEMTestSupport.ToolResult

    /// Runs `tool` (looked up on PATH) with `arguments`; `input` goes to standard input.
    static func run(_ tool: String, _ arguments: [String], input: Data? = nil,
                    environment: [String: String] = [:]) throws -> ToolResult {
        try ExternalTool.run(tool, arguments, input: input, environment: environment)
    }

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
