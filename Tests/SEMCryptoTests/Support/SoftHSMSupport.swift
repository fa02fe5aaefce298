// A SoftHSM2 fixture for token tests.
//
// SoftHSM reads SOFTHSM2_CONF and scans its token directory once, when the module is
// first initialised in the process; tokens that softhsm2-util creates afterwards stay
// invisible to that process. SEMCrypto also keeps a loaded module until the process
// exits. So there is exactly one fixture per test process: one temporary directory with
// its own softhsm2.conf, set in SOFTHSM2_CONF, and a pool of tokens initialised before
// any test touches the module. Tests stay independent by each taking a token of its own
// from the pool (tokens are addressed by label; SoftHSM gives slots random numbers).
// Every test that uses SoftHSM, in any file, must go through `SoftHSMFixture.shared`
// rather than set SOFTHSM2_CONF itself; raise `poolSize` when the tests need more
// tokens. The directory is removed when the test process exits.
import Foundation
import Synchronization

/// The process-wide SoftHSM configuration for tests.
final class SoftHSMFixture: Sendable {
    static let modulePath = "/usr/lib/softhsm/libsofthsm2.so"

    /// Created on first use; a failure (SoftHSM not installed) is reported by each test.
    static let shared = Result { try SoftHSMFixture() }

    struct Token: Sendable {
        let label: String
        let pin: String
        let soPin: String
    }

    /// Tokens initialised up front; every `takeToken()` uses one.
    static let poolSize = 48

    let directory: URL
    let configPath: String
    private let pool: Mutex<[Token]>

    private init() throws {
        directory = try KeyStoreTestSupport.makeTemporaryDirectory("sem-softhsm")
        let tokenDirectory = directory.appendingPathComponent("tokens", isDirectory: true)
        try FileManager.default.createDirectory(at: tokenDirectory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("softhsm2.conf").path
        let config = """
            directories.tokendir = \(tokenDirectory.path)
            objectstore.backend = file
            log.level = ERROR
            slots.removable = false

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", configPath, 1)
        softHSMFixtureDirectory = directory.path
        atexit {
            if let path = softHSMFixtureDirectory { try? FileManager.default.removeItem(atPath: path) }
        }
        var tokens: [Token] = []
        for index in 0..<Self.poolSize {
            // The first token's label needs percent-encoding in a PKCS#11 URI (RFC 7512).
            let label = index == 0 ? "SEM test #0 (50% full)" : String(format: "sem-test-%02d", index)
            let token = Token(label: label, pin: "pin-\(UUID().uuidString.prefix(8))",
                              soPin: "so-\(UUID().uuidString.prefix(8))")
            let result = try KeyStoreTestSupport.run(
                "softhsm2-util", ["--init-token", "--free", "--label", token.label, "--so-pin", token.soPin,
                                  "--pin", token.pin], environment: ["SOFTHSM2_CONF": configPath])
            guard result.status == 0 else {
                throw FixtureError("softhsm2-util --init-token failed: \(result.errors)\(result.output)")
            }
            tokens.append(token)
        }
        specialToken = tokens.removeFirst()
        pool = Mutex(tokens.reversed())
    }

    /// The token whose label has spaces and URI delimiters; reserved for one test.
    let specialToken: Token

    /// Environment for tools run as separate processes.
    var environment: [String: String] { ["SOFTHSM2_CONF": configPath] }

    /// A token no other test uses: initialised, with no objects on it.
    func takeToken() throws -> Token {
        guard let token = pool.withLock({ $0.popLast() }) else {
            throw FixtureError("All \(Self.poolSize) SoftHSM test tokens are in use; raise SoftHSMFixture.poolSize.")
        }
        return token
    }

    /// Runs pkcs11-tool against the fixture's module and token, logged in with `token.pin`.
    func pkcs11Tool(_ token: Token, _ arguments: [String]) throws -> KeyStoreTestSupport.ToolResult {
        try KeyStoreTestSupport.run(
            "pkcs11-tool", ["--module", Self.modulePath, "--token-label", token.label, "--login", "--pin", token.pin]
                + arguments, environment: environment)
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// The fixture directory to remove at exit (atexit handlers cannot capture values).
nonisolated(unsafe) private var softHSMFixtureDirectory: String?
