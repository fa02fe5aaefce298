// A rule turned into the form evaluation needs: group names resolved to indices,
// patterns split into set lookups and suffixes, limits gathered together.
import Foundation

/// Identity patterns of a subjects or recipients clause (one of them must match).
struct PrincipalMatcher: Sendable {
    var leaves = LeafSet()
    var groups: [Int] = []

    func matches(_ principal: Principal, table: GroupTable, at time: Date) -> Bool {
        if leaves.matches(principal) { return true }
        return groups.contains { table.contains($0, principal, at: time) }
    }
}

/// Time window with its parts precomputed.
struct CompiledTimeWindow: Sendable {
    /// Bit n set: weekday n (0 = Monday) is in the window.
    let dayMask: UInt8?
    let hours: HourRange?
    let notBefore: Date?
    let notAfter: Date?

    init(_ window: TimeWindow) {
        dayMask = window.days.map { days in days.reduce(UInt8(0)) { $0 | (1 << UInt8($1.number)) } }
        hours = window.hours
        notBefore = window.notBefore
        notAfter = window.notAfter
    }

    func contains(_ time: UTCTime) -> Bool {
        if let dayMask, dayMask & (1 << UInt8(time.weekday)) == 0 { return false }
        if let hours, !hours.contains(hour: time.hour) { return false }
        if let notBefore, time.date < notBefore { return false }
        if let notAfter, time.date >= notAfter { return false }
        return true
    }

    /// True when the answer can change at an hour boundary.
    var isHourly: Bool { dayMask != nil || hours != nil }
}

/// An instant with its UTC weekday and hour, computed once per request.
struct UTCTime {
    let date: Date
    /// 0 = Monday ... 6 = Sunday.
    let weekday: Int
    let hour: Int

    init(_ date: Date) {
        self.date = date
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // 1 January 1970 was a Thursday (weekday 3 counting from Monday = 0).
        weekday = Int(((days + 3) % 7 + 7) % 7)
        hour = Int((seconds - days * 86_400) / 3600)
    }

    /// The next full hour after `date`.
    static func nextHour(after date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3600)
    }
}

/// A class rather than a struct: evaluation hands rules around by reference instead of
/// copying some thirty fields each time.
final class CompiledRule: Sendable {
    let position: Int
    let id: String
    let effect: PolicyEffect
    let description: String
    let actions: [PolicyAction]

    // Targets.
    let subjects: PrincipalMatcher?
    let kind: SubjectKind?
    let issuer: String?
    let certificateSubject: String?
    let certificatePolicies: [PolicyOID]?
    let recipients: PrincipalMatcher?
    let senders: PrincipalMatcher?
    let time: CompiledTimeWindow?
    let networks: [NetworkPattern]?

    // Limits.
    let minAssurance: AssuranceLevel?
    let maxMessageSize: Int?
    let maxAttachmentCount: Int?
    let maxAttachmentSize: Int?
    let forbiddenTypes: [MediaTypePattern]?
    let allowedTypes: [MediaTypePattern]?
    let maxSize: Int?
    let minimumTLS: TLSVersion?
    let requireAgreement: Bool
    let rateLimit: RateLimit?
    let hasLimits: Bool

    let obligations: [Obligation]

    init(_ rule: PolicyRule, position: Int, groupIndex: [String: Int]) {
        self.position = position
        id = rule.id
        effect = rule.effect
        description = rule.description
        actions = rule.actions

        let subject = rule.subjects
        if subject?.addresses != nil || subject?.domains != nil || subject?.servers != nil || subject?.groups != nil {
            var matcher = PrincipalMatcher()
            matcher.leaves.add(addresses: subject?.addresses ?? [])
            matcher.leaves.add(domains: subject?.domains ?? [])
            matcher.leaves.add(servers: subject?.servers ?? [])
            matcher.groups = (subject?.groups ?? []).map { groupIndex[$0]! }
            subjects = matcher
        } else {
            subjects = nil
        }
        kind = subject?.kind
        issuer = subject?.certificate?.issuer
        certificateSubject = subject?.certificate?.subject
        certificatePolicies = subject?.certificate?.policies
        func matcher(_ match: RecipientMatch?) -> PrincipalMatcher? {
            guard let match else { return nil }
            var matcher = PrincipalMatcher()
            matcher.leaves.add(addresses: match.addresses ?? [])
            matcher.leaves.add(domains: match.domains ?? [])
            matcher.groups = (match.groups ?? []).map { groupIndex[$0]! }
            return matcher
        }
        recipients = matcher(rule.resources?.recipients)
        senders = matcher(rule.resources?.senders)
        time = rule.conditions?.time.map(CompiledTimeWindow.init)
        networks = rule.conditions?.clientNetworks

        minAssurance = subject?.minAssurance
        maxMessageSize = rule.resources?.maxMessageSize
        maxAttachmentCount = rule.resources?.attachments?.maxCount
        maxAttachmentSize = rule.resources?.attachments?.maxSize
        forbiddenTypes = rule.resources?.attachments?.forbiddenTypes
        allowedTypes = rule.resources?.attachments?.allowedTypes
        maxSize = rule.conditions?.maxSize
        minimumTLS = rule.conditions?.minimumTLS
        requireAgreement = rule.conditions?.requireAgreement ?? false
        rateLimit = rule.conditions?.rateLimit
        hasLimits = minAssurance != nil || maxMessageSize != nil || maxAttachmentCount != nil
            || maxAttachmentSize != nil || forbiddenTypes != nil || allowedTypes != nil || maxSize != nil
            || minimumTLS != nil || requireAgreement || rateLimit != nil

        obligations = rule.obligations
    }
}
