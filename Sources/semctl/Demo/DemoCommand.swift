// semctl demo: a whole federation on loopback, walked through by one scenario.
import Dispatch
import Foundation
import SEMCommandLine
import SEMCrypto

enum DemoCommand {
    static func run(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["keep", "semd", "base-port", "extra-domains"], flags: ["serve"])
        try parsed.expectPositionals(atMost: 0)
        let semd = try locateSemd(parsed.value("semd"))
        let keep = parsed.value("keep").map { URL(fileURLWithPath: $0, isDirectory: true).standardizedFileURL }
        if let keep, FileManager.default.fileExists(atPath: keep.appendingPathComponent("alpha.test").path) {
            throw UsageError("\(keep.path) already holds a demo; choose an empty directory for --keep.")
        }
        let extra = try parsed.value("extra-domains").map { text -> Int in
            guard let count = Int(text), (0...DemoScenario.extraNames.count).contains(count) else {
                throw UsageError("--extra-domains takes a number from 0 to \(DemoScenario.extraNames.count).")
            }
            return count
        } ?? 0
        let names = DemoScenario.domains(extra: extra)
        let ports = try parsed.value("base-port").map { try DemoPorts.consecutive(from: $0, domains: names) }
            ?? DemoPorts.free(domains: names)
        let root = keep ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("sem-demo-\(SecureRandom.identifier(bytes: 6))", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let signals = stopOnSignals(removing: keep == nil ? root : nil)
        defer { signals.forEach { $0.cancel() } }
        // Runs on every way out of here, a thrown error included. When an interrupt came
        // first, its handler stops everything and exits with 130; this thread waits for it.
        defer {
            if !DemoProcesses.shared.claimExit() { StopWaiter.wait() }
            DemoProcesses.shared.stopAll()
            if keep == nil { try? FileManager.default.removeItem(at: root) }
        }

        let federation = DemoFederation(root: root, passphrase: SecureRandom.identifier(bytes: 16), semd: semd, ports: ports)
        let report = DemoReport()
        print("CryptoNET SEM demo")
        do {
            try DemoScenario(federation: federation, report: report).run()
        } catch {
            report.step("demo") { throw error }
        }
        if let keep {
            report.step("write \(keep.appendingPathComponent("MANIFEST.json").path)") {
                try DemoManifest.write(federation: federation, to: keep)
                return "every certificate, key file, configuration, endpoint and stored blob; the key passphrase is in "
                    + "\(keep.appendingPathComponent("PASSPHRASE").path) (mode 0600)"
            }
        }
        if parsed.flag("serve"), report.failed.isEmpty {
            try DemoManifest.printEndpoints(of: federation)
            print("\nServing until interrupted (Ctrl-C).")
            fflush(nil)
            StopWaiter.wait()
        }
        let failed = report.failed
        if failed.isEmpty {
            print("\nEvery step had the expected outcome.")
            return 0
        }
        print("\n\(failed.count) step(s) did not have the expected outcome: \(failed.joined(separator: "; "))")
        return 1
    }

    /// The `semd` to start: `--semd PATH`, or the one built next to this semctl.
    private static func locateSemd(_ option: String?) throws -> URL {
        let semd = option.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("semd")
        guard FileManager.default.isExecutableFile(atPath: semd.path) else {
            if option != nil { throw DemoFailure("semd is missing or not executable at \(semd.path) (from --semd).") }
            throw DemoFailure("semd is not next to semctl at \(semd.path); build both with 'swift build'.")
        }
        return semd
    }

    /// On SIGINT or SIGTERM: stop every process the demo started, remove its temporary
    /// directory, and exit with 130.
    private static func stopOnSignals(removing directory: URL?) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // The demo is already finishing and stops everything itself.
                guard DemoProcesses.shared.claimExit() else { return }
                DemoProcesses.shared.stopAll()
                if let directory { try? FileManager.default.removeItem(at: directory) }
                FileHandle.standardError.write(Data("\nsemctl demo: interrupted; every process it started is stopped.\n".utf8))
                exit(130)
            }
            source.resume()
            return source
        }
    }
}

/// Blocks the main thread until the signal sources above end the process.
enum StopWaiter {
    static func wait() {
        while true { sleep(3600) }
    }
}
