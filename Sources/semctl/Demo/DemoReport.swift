// The demo's output: one readable line per step with its verdict.
import Foundation
import Synchronization

final class DemoReport: Sendable {
    private let failures = Mutex<[String]>([])

    /// Runs one step, prints "ok" with its outcome or "FAIL" with the reason.
    func step(_ title: String, _ body: () throws -> String) {
        do {
            let outcome = try body()
            print("  ok    \(title): \(outcome)")
        } catch {
            print("  FAIL  \(title): \(error)")
            failures.withLock { $0.append(title) }
        }
        flush()
    }

    /// A step whose outcome must be a refusal: the refusal is the success.
    func expectRefusal(_ title: String, _ body: () throws -> String?) {
        step(title) {
            if let refusal = try body() { return "refused as expected (\(refusal))" }
            throw DemoFailure("it was accepted, but it must be refused")
        }
    }

    func section(_ title: String) {
        print("\n\(title)")
        flush()
    }

    var failed: [String] { failures.withLock { $0 } }

    private func flush() { fflush(nil) }
}

struct DemoFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
