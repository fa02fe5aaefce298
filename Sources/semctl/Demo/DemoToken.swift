// A SoftHSM2 token for alice's signing key, made in the demo's own directory when SoftHSM2
// is installed, so the demo shows a key that never leaves a token (architecture R4).
import Foundation
import SEMCredentials
import SEMCrypto

enum DemoToken {
    /// Where Debian and Ubuntu install the module (the path `semctl domain init` and
    /// `sem enroll` default to as well).
    static let module = "/usr/lib/softhsm/libsofthsm2.so"

    /// A new token labelled `label` under `directory`/tokens with a random PIN, opened as
    /// a key store; nil when `softhsm2-util` or the module is not installed.
    ///
    /// SoftHSM reads SOFTHSM2_CONF once, when the module is first loaded into a process,
    /// so the demo points this process's environment at its own configuration before the
    /// first token operation; the demo's `semd` servers inherit it and never use it.
    /// Known shortcoming: softhsm2-util takes the PINs as arguments, so they are visible
    /// in the process list for the moment it runs. They guard a throwaway token in a
    /// 0700 directory that goes with the demo, and they are never printed or stored.
    static func create(_ label: String, in directory: URL) throws -> (any KeyStore)? {
        guard FileManager.default.fileExists(atPath: module), let tool = executable("softhsm2-util") else { return nil }
        let tokens = directory.appendingPathComponent("tokens", isDirectory: true)
        let objects = tokens.appendingPathComponent("objects", isDirectory: true)
        try FileManager.default.createDirectory(at: objects, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let configuration = tokens.appendingPathComponent("softhsm2.conf")
        try Data("directories.tokendir = \(objects.path)\nobjectstore.backend = file\nlog.level = ERROR\n".utf8)
            .write(to: configuration, options: .atomic)
        setenv("SOFTHSM2_CONF", configuration.path, 1)

        let pin = SecureRandom.identifier(bytes: 12), officerPIN = SecureRandom.identifier(bytes: 12)
        let process = Process()
        process.executableURL = tool
        process.arguments = ["--init-token", "--free", "--label", label, "--so-pin", officerPIN, "--pin", pin]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let said = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw DemoFailure("softhsm2-util could not make token \(label): \(text)")
        }
        return try KeyStoreConfiguration.pkcs11(module: module, token: label)
            .open(relativeTo: directory, environment: ["SEM_TOKEN_PIN": pin])
    }

    /// `name` found on PATH, as a shell would find it.
    private static func executable(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
