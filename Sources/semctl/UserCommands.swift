// semctl user ...
import Foundation
import SEMCommandLine
import SEMCredentials

enum UserCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first, ["add", "code"].contains(verb) else {
            throw UsageError("Expected 'user add' or 'user code'.")
        }
        let parsed = try Arguments(arguments.dropFirst(), options: ["assurance", "code-days", "domain-dir"])
        try parsed.expectPositionals(atMost: 1)
        let address = try parsed.positional(0, "the user's address").lowercased()
        let days = try parsed.value("code-days").map { value -> Int in
            guard let days = Int(value), (1...90).contains(days) else {
                throw UsageError("--code-days must be a whole number from 1 to 90.")
            }
            return days
        } ?? 7
        let ca = try openCertificateAuthority(try domainDirectory(parsed))
        let code: String
        if verb == "add" {
            let name = parsed.value("assurance") ?? "substantial"
            guard let assurance = AssuranceLevel(rawValue: name) else {
                throw UsageError("--assurance must be low, substantial or high.")
            }
            code = try ca.addUser(address, assurance: assurance, codeLifetime: TimeInterval(days) * 86400)
        } else {
            code = try ca.newEnrolmentCode(for: address, lifetime: TimeInterval(days) * 86400)
        }
        print("enrolment code for \(address): \(code) (valid \(days) days, usable once per certificate)")
        return 0
    }
}
