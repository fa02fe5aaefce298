// A progress meter for long transfers, drawn on standard error only when it is a
// terminal: scripts and tests that read sem's output see no carriage returns.
import Foundation
import SEMClient
import Synchronization

enum TerminalProgress {
    /// A reporter for ClientSession, or nil when standard error is not a terminal.
    static func reporter() -> TransferProgress? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        let shown = Mutex<(what: String, percent: Int)>(("", -1))
        return { what, done, total in
            let percent = total > 0 ? Int(min(100, done * 100 / total)) : 100
            let changed = shown.withLock { last in
                guard last.what != what || last.percent != percent else { return false }
                last = (what, percent)
                return true
            }
            guard changed else { return }
            let line = "\r\(what): \(percent)% of \(ByteCountFormatter.string(fromByteCount: total, countStyle: .binary))"
                + (percent == 100 ? "\n" : "")
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
