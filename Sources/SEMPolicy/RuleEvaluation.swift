// Evaluating one rule against one request. Targets are checked first, in a fixed
// order, then limits; the first failing clause is reported (docs/POLICY.md lists the
// order). Sentences are built only when someone reads them, so a decision that
// looks at fifty rules formats at most one or two.
import Foundation

/// Everything about a request that rules look at, prepared once.
struct EvaluationInput {
    let request: DecisionRequest
    /// The instant the decision is for.
    let time: UTCTime
    /// The engine's clock; rate-limit windows always follow it.
    let now: Date
    let subject: Principal
    let recipient: Principal?
    /// The originator: a user subject, or the `resource.sender` a server subject names.
    let sender: Principal?
    let table: GroupTable
}

/// How rate limits are consulted: counted (decisions) or only looked at (explanations).
struct RateProbe {
    let limiter: RateLimiter
    let charges: Bool
    /// Set when any rate limit was consulted; such a decision must not be cached.
    var consulted = false

    mutating func exceeds(_ limit: RateLimit, rule: Int, subject: String, now: Date) -> Bool {
        consulted = true
        return limiter.exceeds(limit, rule: rule, subject: subject, now: now, charge: charges)
    }
}

/// A target that did not hold: the rule does not speak about this request.
enum Miss {
    case action, subjects, kind(SubjectKind), issuer, certificateSubject, certificatePolicies, recipients, senders, time, network

    var clause: String {
        switch self {
        case .action: "actions"
        case .subjects: "subjects"
        case .kind: "subjects.kind"
        case .issuer: "subjects.certificate.issuer"
        case .certificateSubject: "subjects.certificate.subject"
        case .certificatePolicies: "subjects.certificate.policies"
        case .recipients: "resources.recipients"
        case .senders: "resources.senders"
        case .time: "conditions.time"
        case .network: "conditions.clientNetworks"
        }
    }

    func sentence(_ request: DecisionRequest) -> String {
        switch self {
        case .action: return "the rule does not cover the action \(request.action.rawValue)"
        case .subjects: return "\(request.subject.displayName) is not among the rule's subjects"
        case .kind(let wanted):
            return "the subject is a \(request.subject.kind.rawValue); the rule applies to \(wanted.rawValue)s"
        case .issuer: return "the certificate issuer is not the one the rule names"
        case .certificateSubject: return "the certificate subject is not the one the rule names"
        case .certificatePolicies: return "the certificate carries none of the rule's policies"
        case .recipients:
            guard let recipient = request.resource.recipient ?? request.resource.recipientDomain else {
                return "the request names no recipient"
            }
            return "the recipient \(recipient) is not among the rule's recipients"
        case .senders:
            guard let sender = request.subject.kind == .user ? request.subject.address : request.resource.sender else {
                return "the request names no sender"
            }
            return "the sender \(sender) is not among the rule's senders"
        case .time:
            let time = request.context.time.map(PolicyTime.format) ?? "of the decision"
            return "the time \(time) is outside the rule's time window"
        case .network:
            guard let ip = request.context.clientIP else { return "the request names no client address" }
            return "the client address \(ip) is outside the rule's networks"
        }
    }
}

/// A limit that was broken.
enum Violation {
    case assurance(required: AssuranceLevel)
    case messageSize(limit: Int)
    case attachmentCount(limit: Int)
    case attachmentSize(index: Int, limit: Int)
    case forbiddenType(index: Int)
    case typeNotAllowed(index: Int)
    case totalSize(limit: Int)
    case tls(required: TLSVersion)
    case agreement
    case rate(RateLimit)

    var clause: String {
        switch self {
        case .assurance: "subjects.minAssurance"
        case .messageSize: "resources.maxMessageSize"
        case .attachmentCount: "resources.attachments.maxCount"
        case .attachmentSize: "resources.attachments.maxSize"
        case .forbiddenType: "resources.attachments.forbiddenTypes"
        case .typeNotAllowed: "resources.attachments.allowedTypes"
        case .totalSize: "conditions.maxSize"
        case .tls: "conditions.minimumTLS"
        case .agreement: "conditions.requireAgreement"
        case .rate: "conditions.rateLimit"
        }
    }

    func sentence(_ request: DecisionRequest) -> String {
        let resource = request.resource
        switch self {
        case .assurance(let required):
            guard let actual = request.subject.assurance else {
                return "the subject's assurance is unknown; \(required.rawValue) is required"
            }
            return "assurance \(actual.rawValue) is below the required \(required.rawValue)"
        case .messageSize(let limit):
            return "the message of \(resource.size ?? 0) bytes exceeds the limit of \(limit) bytes"
        case .attachmentCount(let limit):
            return "\(resource.attachments.count) attachments exceed the limit of \(limit)"
        case .attachmentSize(let index, let limit):
            return "an attachment of \(resource.attachments[index].size) bytes exceeds the limit of \(limit) bytes"
        case .forbiddenType(let index):
            return "attachment media type \(resource.attachments[index].mediaType) is forbidden"
        case .typeNotAllowed(let index):
            return "attachment media type \(resource.attachments[index].mediaType) is not among the allowed types"
        case .totalSize(let limit):
            return "the request of \(resource.totalSize) bytes in all exceeds the limit of \(limit) bytes"
        case .tls(let required):
            guard let actual = request.context.tls else {
                return "the connection does not use TLS; \(required.rawValue) is required"
            }
            return "TLS version \(actual.rawValue) is below the required \(required.rawValue)"
        case .agreement:
            let subjectDomain = request.subject.domain
            let partner = resource.recipientDomain.map { "\(subjectDomain) or \($0)" } ?? subjectDomain
            return "no agreement in force covers \(request.action.rawValue) with \(partner)"
        case .rate(let limit):
            let requests = limit.requests == 1 ? "1 request" : "\(limit.requests) requests"
            return "\(request.subject.displayName) made more than \(requests) in \(limit.windowSeconds) seconds"
        }
    }
}

/// What one rule says about one request.
enum RuleOutcome {
    /// A target failed: the rule is silent.
    case missed(Miss)
    /// A permit rule applies.
    case permits
    /// A deny rule applies, because a limit was broken or because it has none.
    case fires(Violation?)
    /// A permit rule's targets hold but a limit is broken, so it does not permit.
    case exceeded(Violation)
    /// A deny rule's targets hold but every limit holds, so it does not fire.
    case withinLimits

    var matched: Bool {
        switch self {
        case .permits, .fires: true
        default: false
        }
    }
}

extension CompiledRule {
    func evaluate(_ input: EvaluationInput, rates: inout RateProbe) -> RuleOutcome {
        if let miss = firstMiss(input) { return .missed(miss) }
        let violation = firstViolation(input)
        switch effect {
        case .permit:
            if let violation { return .exceeded(violation) }
            if let rateLimit,
               rates.exceeds(rateLimit, rule: position, subject: input.request.subject.identity, now: input.now) {
                return .exceeded(.rate(rateLimit))
            }
            return .permits
        case .deny:
            // A deny rule's counter counts every request in its target, so it is charged
            // even when another limit has already decided that the rule fires.
            var broken = violation
            if let rateLimit,
               rates.exceeds(rateLimit, rule: position, subject: input.request.subject.identity, now: input.now),
               broken == nil {
                broken = .rate(rateLimit)
            }
            if !hasLimits { return .fires(nil) }
            return broken.map { .fires($0) } ?? .withinLimits
        }
    }

    /// Targets in evaluation order.
    private func firstMiss(_ input: EvaluationInput) -> Miss? {
        let request = input.request
        if !actions.contains(request.action) { return .action }
        if let subjects, !subjects.matches(input.subject, table: input.table, at: input.time.date) { return .subjects }
        if let kind, request.subject.kind != kind { return .kind(kind) }
        if issuer != nil || certificateSubject != nil || certificatePolicies != nil {
            let certificate = request.subject.certificate
            if let issuer, certificate?.issuer != issuer { return .issuer }
            if let certificateSubject, certificate?.subject != certificateSubject { return .certificateSubject }
            if let certificatePolicies {
                let held = certificate?.policies ?? []
                if !certificatePolicies.contains(where: held.contains) { return .certificatePolicies }
            }
        }
        if let recipients {
            guard let recipient = input.recipient,
                  recipients.matches(recipient, table: input.table, at: input.time.date)
            else { return .recipients }
        }
        if let senders {
            guard let sender = input.sender, senders.matches(sender, table: input.table, at: input.time.date)
            else { return .senders }
        }
        if let time, !time.contains(input.time) { return .time }
        if let networks {
            guard let client = request.context.client?.address, networks.contains(where: { $0.contains(client) })
            else { return .network }
        }
        return nil
    }

    /// Limits other than the rate limit, in evaluation order. A request without a size
    /// counts as size 0.
    private func firstViolation(_ input: EvaluationInput) -> Violation? {
        guard hasLimits else { return nil }
        let request = input.request
        let attachments = request.resource.attachments
        if let minAssurance {
            guard let actual = request.subject.assurance, actual >= minAssurance else {
                return .assurance(required: minAssurance)
            }
        }
        if let maxMessageSize, (request.resource.size ?? 0) > maxMessageSize {
            return .messageSize(limit: maxMessageSize)
        }
        if let maxAttachmentCount, attachments.count > maxAttachmentCount {
            return .attachmentCount(limit: maxAttachmentCount)
        }
        if let maxAttachmentSize, let index = attachments.firstIndex(where: { $0.size > maxAttachmentSize }) {
            return .attachmentSize(index: index, limit: maxAttachmentSize)
        }
        if let forbiddenTypes,
           let index = attachments.firstIndex(where: { file in forbiddenTypes.contains { $0.matches(file.parsed) } }) {
            return .forbiddenType(index: index)
        }
        if let allowedTypes,
           let index = attachments.firstIndex(where: { file in !allowedTypes.contains { $0.matches(file.parsed) } }) {
            return .typeNotAllowed(index: index)
        }
        if let maxSize, request.resource.totalSize > maxSize { return .totalSize(limit: maxSize) }
        if let minimumTLS {
            guard let actual = request.context.tls, actual >= minimumTLS else { return .tls(required: minimumTLS) }
        }
        if requireAgreement && !isCoveredByAgreement(input) { return .agreement }
        return nil
    }

    private func isCoveredByAgreement(_ input: EvaluationInput) -> Bool {
        let request = input.request
        return input.table.agreements.contains { agreement in
            guard agreement.actions.contains(request.action), agreement.isInForce(at: input.time.date) else {
                return false
            }
            if agreement.includes(domain: request.subject.domain) { return true }
            return request.resource.recipientDomain.map(agreement.includes(domain:)) ?? false
        }
    }
}
