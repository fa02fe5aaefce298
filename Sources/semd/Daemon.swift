// What every role shares: options, the logger, and waiting for a stop signal.
import Dispatch
import Foundation
import SEMCommandLine
import SEMLogging

struct DaemonOptions {
    let configuration: URL
    let logLevel: LogLevel

    init(_ parsed: Arguments) throws {
        configuration = URL(fileURLWithPath: try parsed.required("config")).standardizedFileURL
        let name = parsed.value("log-level") ?? "info"
        guard let level = LogLevel(name: name) else { throw UsageError("Unknown log level '\(name)'.") }
        logLevel = level
    }

    /// The domain directory: the folder holding the configuration file.
    var domainDirectory: URL { configuration.deletingLastPathComponent() }

    func logger(_ component: String) -> Logger {
        Logger(component: component, level: logLevel, handler: StandardErrorLogHandler())
    }
}

enum StopSignal {
    /// Blocks until SIGTERM or SIGINT arrives.
    static func wait() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let stopped = DispatchSemaphore(value: 0)
        let sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stopped.signal() }
            source.resume()
            return source
        }
        stopped.wait()
        sources.forEach { $0.cancel() }
    }
}

/// Prints the readiness line that scripts and `semctl demo` wait for.
/// Written with one write(2) so that a reader on a pipe sees it at once.
func announceReady(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
