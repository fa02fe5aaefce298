// semctl user ...
import Foundation
import SEMCommandLine
import SEMCredentials

enum UserCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first, ["add", "code"].contains(verb) else {
            throw UsageError("Expected 'user add' or 'user code'.")
        }
        let parsed = try Arguments(arguments.dropFirst(), options: ["assurance", "code-days", "code-lifetime", "domain-dir"])
        try parsed.expectPositionals(atMost: 1)
        let address = try parsed.positional(0, "the user's address").lowercased()
        let (lifetime, validity) = try codeLifetime(parsed)
        let ca = try openCertificateAuthority(try domainDirectory(parsed))
        let code: String
        if verb == "add" {
            let name = parsed.value("assurance") ?? "substantial"
            guard let assurance = AssuranceLevel(rawValue: name) else {
                throw UsageError("--assurance must be low, substantial or high.")
            }
            code = try ca.addUser(address, assurance: assurance, codeLifetime: lifetime)
        } else {
            code = try ca.newEnrolmentCode(for: address, lifetime: lifetime)
        }
        print("enrolment code for \(address): \(code) (valid \(validity), usable once per certificate)")
        return 0
    }

    /// How long a new code stays valid: `--code-days N` (1 to 90, default 7), or
    /// `--code-lifetime SECONDS` for a code handed over in person that should not outlive
    /// the appointment. Returns the lifetime and how to word it.
    static func codeLifetime(_ parsed: Arguments) throws -> (TimeInterval, String) {
        let maximum = 90 * 86400
        switch (parsed.value("code-days"), parsed.value("code-lifetime")) {
        case (.some, .some):
            throw UsageError("Give --code-days or --code-lifetime, not both.")
        case (let days?, nil):
            guard let days = Int(days), (1...90).contains(days) else {
                throw UsageError("--code-days must be a whole number from 1 to 90.")
            }
            return (TimeInterval(days) * 86400, days == 1 ? "1 day" : "\(days) days")
        case (nil, let seconds?):
            guard let seconds = Int(seconds), (1...maximum).contains(seconds) else {
                throw UsageError("--code-lifetime must be a whole number of seconds from 1 to \(maximum) (90 days).")
            }
            return (TimeInterval(seconds), seconds == 1 ? "1 second" : "\(seconds) seconds")
        case (nil, nil):
            return (7 * 86400, "7 days")
        }
    }
}
