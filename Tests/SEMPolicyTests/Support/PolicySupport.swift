// Shared helpers for the policy tests: engines from JSON text, requests built in a line,
// fixed instants.
import Foundation
@testable import SEMPolicy

enum PolicyFixture {
    /// Monday 2 March 2026, 10:00 UTC.
    static let mondayMorning = instant("2026-03-02T10:00:00Z")

    static func instant(_ text: String) -> Date {
        guard let date = PolicyTime.parse(text) else { fatalError("bad test instant \(text)") }
        return date
    }

    /// A document around `rules` (JSON text of the rules array's elements) and `groups`.
    static func document(rules: String, groups: String = "{}", defaults: String = "{\"effect\": \"deny\"}") -> String {
        """
        {"version": 1, "groups": \(groups), "rules": [\(rules)], "defaults": \(defaults)}
        """
    }

    static func engine(_ json: String, facts: ExternalFacts = ExternalFacts(),
                       options: PolicyEngineOptions = PolicyEngineOptions(),
                       clock: ManualPolicyClock = ManualPolicyClock(mondayMorning)) throws -> PolicyEngine {
        try PolicyEngine(json: Data(json.utf8), facts: facts, options: options, clock: clock)
    }

    static func request(_ json: String) throws -> DecisionRequest {
        try DecisionRequest.parse(Data(json.utf8))
    }

    /// A user request in one line.
    static func user(_ address: String, _ action: PolicyAction, to recipient: String? = nil,
                     assurance: AssuranceLevel? = .substantial, groups: [String] = [],
                     certificate: CertificateAttributes? = nil, size: Int? = nil,
                     attachments: [(Int, String)] = [], recipientGroups: [String] = [],
                     time: Date? = nil, clientIP: String? = nil, tls: TLSVersion? = nil) throws -> DecisionRequest {
        DecisionRequest(
            subject: try RequestSubject(kind: .user, address: address, assurance: assurance, certificate: certificate,
                                        groups: groups),
            action: action,
            resource: try RequestResource(recipient: recipient, recipientGroups: recipientGroups, size: size,
                                          attachments: try attachments.map {
                                              try RequestAttachment(size: $0.0, mediaType: $0.1)
                                          }),
            context: try RequestContext(time: time, clientIP: clientIP, tls: tls))
    }

    /// A server request in one line.
    static func server(_ name: String, domain: String, _ action: PolicyAction, to recipient: String? = nil,
                       assurance: AssuranceLevel? = .high, time: Date? = nil) throws -> DecisionRequest {
        DecisionRequest(
            subject: try RequestSubject(kind: .server, name: name, domain: domain, assurance: assurance),
            action: action,
            resource: try RequestResource(recipient: recipient),
            context: try RequestContext(time: time))
    }

    /// The error `body` throws, as a PolicyError.
    static func policyError(_ body: () throws -> Void) -> PolicyError? {
        do {
            try body()
            return nil
        } catch let error as PolicyError {
            return error
        } catch {
            return PolicyError(.invalidValue, at: "?", "unexpected error \(error)")
        }
    }
}
