// semctl report ... and semctl sender ...: what the administrator does with abuse reports.
// A report arrives through the mail server (sem report); the administrator reads it,
// suspends the sender (a member of the policy group suspended-senders, in the PDP's facts
// file, which the PDP reads again within seconds) and, for a sender of another domain,
// files the report with the SMI, signed as the domain's administrator.
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMMail
import SEMPolicy
import SEMRegistry

enum ReportCommands {
    /// The policy group the default policy refuses mail from.
    static let suspendedGroup = "suspended-senders"

    static func report(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first, ["list", "file"].contains(verb) else {
            throw UsageError("Expected 'report list' or 'report file ID'.")
        }
        let parsed = try Arguments(arguments.dropFirst(), options: ["domain-dir"])
        let directory = try domainDirectory(parsed)
        let reports = try mailStorage(directory).reports()
        if verb == "list" {
            try parsed.expectPositionals(atMost: 0)
            if reports.isEmpty { print("no abuse reports") }
            for report in reports {
                print("\(report.id)  \(ISO8601DateFormatter().string(from: report.filedAt))  \(report.reporter) reports "
                      + "\(report.sender)\(report.authenticated ? "" : " (unauthenticated)")  message \(report.messageId): \(report.reason)")
            }
            return 0
        }
        try parsed.expectPositionals(atMost: 1)
        let id = try parsed.positional(0, "the report id")
        guard let report = reports.first(where: { $0.id == id }) else { throw UsageError("There is no report \(id).") }
        let request = AbuseReportRequest(domain: directory.domain, sender: report.sender, messageId: report.messageId,
                                         reason: report.reason)
        guard request.senderDomain != directory.domain else {
            throw UsageError("\(report.sender) is a sender of \(directory.domain); suspend it here (semctl sender suspend), "
                             + "the SMI takes reports about other domains' senders.")
        }
        guard let settings = try directory.federationSettings() else {
            throw UsageError("The domain \(directory.domain) has not registered with an SMI (semctl smi register).")
        }
        let sequence = try directory.smiClient(settings).fileReport(signedRequest: try request.signed(by: FederationCommands.administrator(directory)))
        print("report \(id) about \(report.sender) filed with the SMI (log entry \(sequence))")
        return 0
    }

    static func sender(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first, ["suspend", "restore", "list"].contains(verb) else {
            throw UsageError("Expected 'sender suspend ADDRESS', 'sender restore ADDRESS' or 'sender list'.")
        }
        let parsed = try Arguments(arguments.dropFirst(), options: ["domain-dir"])
        let directory = try domainDirectory(parsed)
        let url = try factsURL(directory)
        var facts = FileManager.default.fileExists(atPath: url.path) ? try ExternalFacts.parse(try Data(contentsOf: url)) : ExternalFacts()
        var members = facts.groups[suspendedGroup] ?? GroupMembers()
        if verb == "list" {
            try parsed.expectPositionals(atMost: 0)
            for address in members.addresses { print(address.description) }
            return 0
        }
        try parsed.expectPositionals(atMost: 1)
        let text = try parsed.positional(0, "the sender's address").lowercased()
        let address: AddressPattern
        do { address = try AddressPattern(text) } catch { throw UsageError("\(text) is not a mail address or pattern.") }
        if verb == "suspend" {
            guard !members.addresses.contains(address) else { print("\(text) is already suspended"); return 0 }
            members.addresses.append(address)
        } else {
            guard members.addresses.contains(address) else { throw UsageError("\(text) is not suspended.") }
            members.addresses.removeAll { $0 == address }
        }
        facts.groups[suspendedGroup] = members
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(facts).write(to: url, options: .atomic)
        print(verb == "suspend"
              ? "\(text) is suspended: the policy refuses its mail (rule suspended-senders) once the PDP reads \(url.lastPathComponent)"
              : "\(text) may send again once the PDP reads \(url.lastPathComponent)")
        return 0
    }

    /// The PDP's facts file of the domain (pdp.json `facts`).
    static func factsURL(_ directory: DomainDirectory) throws -> URL {
        guard let facts = try directory.pdpConfiguration().facts else {
            throw UsageError("pdp.json of \(directory.domain) names no facts file; add \"facts\": \"facts.json\".")
        }
        return directory.path(facts)
    }

    static func mailStorage(_ directory: DomainDirectory) throws -> SQLiteMailStorage {
        let configuration = try directory.mailConfiguration()
        return try SQLiteMailStorage(databasePath: directory.path(configuration.database).path,
                                     blobDirectory: directory.path(configuration.blobs))
    }
}
