// A real clamd for the tests, with a signature database made on the spot (no download):
// one MD5 signature for the EICAR anti-malware test file, whose 68 octets every
// scanner is meant to detect and which harms nothing.
public import Foundation
public import SEMCommandLine

public final class RunningClamd: @unchecked Sendable {
    // @unchecked Sendable: set once in init; ChildProcess guards its own state.
    public let process: ChildProcess
    public let port: UInt16
    public var endpoint: String { "127.0.0.1:\(port)" }

    /// The EICAR test file (built from two halves so that no scanner flags this source).
    public static let eicar = Data(("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-" + "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").utf8)
    public static let signatureName = "SEM-Test.EICAR"

    public init(in scratch: ScratchDirectory) throws {
        let directory = scratch.path("clamd")
        try FileManager.default.createDirectory(atPath: "\(directory)/db", withIntermediateDirectories: true)
        // ClamAV's hash signature format: MD5:size:name, one per line (.hdb).
        let md5 = try ExternalTool.run("openssl", ["dgst", "-md5", "-r"], input: Self.eicar)
        guard md5.status == 0, let digest = md5.output.split(separator: " ").first else {
            throw ScratchError("openssl could not hash the test file: \(md5.errors)")
        }
        try Data("\(digest):\(Self.eicar.count):\(Self.signatureName)\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/db/test.hdb"))
        port = try FreePorts.allocate(1)[0]
        let configuration = """
            DatabaseDirectory \(directory)/db
            TCPSocket \(port)
            TCPAddr 127.0.0.1
            Foreground yes
            LogTime no
            PidFile \(directory)/clamd.pid
            StreamMaxLength 64M

            """
        try Data(configuration.utf8).write(to: URL(fileURLWithPath: "\(directory)/clamd.conf"))
        process = try ChildProcess(name: "clamd", executable: URL(fileURLWithPath: "/usr/sbin/clamd"),
                                   arguments: ["-c", "\(directory)/clamd.conf"],
                                   readyText: "Self checking every", timeout: 60)
    }

    public func stop() { process.stop() }
}
