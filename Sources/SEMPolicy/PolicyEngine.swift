// The Policy Decision Point engine: compiles a document once (rules indexed by action,
// groups flattened) and answers decision requests with deny-overrides combining:
//   1. any matching deny rule denies;
//   2. otherwise any matching permit rule permits, with the merged obligations of all
//      matching permit rules;
//   3. otherwise the document's default effect (deny unless it says otherwise).
// Every rule indexed under the action is evaluated, so the matched rule ids are
// complete and rate-limit counters do not depend on the order of evaluation.
// Shortcoming: within an action the rules are not indexed by subject or recipient, so a
// decision costs time linear in the rules of its action (about 1 ms at 100,000 rules,
// BENCHMARKS.md); the decision cache hides this only for repeated requests.
public import Foundation
public import SEMLogging
import Synchronization

/// Tuning of a `PolicyEngine`.
public struct PolicyEngineOptions: Sendable, Equatable {
    /// How long a decision may be served from the cache; nil turns the cache off.
    public var cacheTimeToLive: TimeInterval?
    /// Most cached decisions.
    public var cacheCapacity: Int
    /// Most rate-limit counters (one per rule and subject).
    public var rateCounterCapacity: Int
    /// The bounds the document must keep (rules, groups, nesting).
    public var limits: PolicyLimits

    public init(cacheTimeToLive: TimeInterval? = nil, cacheCapacity: Int = 50_000, rateCounterCapacity: Int = 200_000,
                limits: PolicyLimits = .standard) {
        self.cacheTimeToLive = cacheTimeToLive
        self.cacheCapacity = cacheCapacity
        self.rateCounterCapacity = rateCounterCapacity
        self.limits = limits
    }
}

/// Answers decision requests for one policy document. Safe to share between threads.
public final class PolicyEngine: Sendable {
    public let document: PolicyDocument
    /// The decision cache, when the options turn it on.
    public let cache: DecisionCache?
    let rules: [CompiledRule]
    /// Rule positions per action (indexed by `PolicyAction.index`), in document order.
    private let byAction: [[Int]]
    /// Per action: whether a rule's time window can change at an hour boundary, and
    /// the instants (notBefore/notAfter) where one can change otherwise.
    private let hourlyByAction: [Bool]
    private let instantsByAction: [[Date]]
    private let table: Mutex<GroupTable>
    let limiter: RateLimiter
    let clock: any PolicyClock
    private let logger: Logger

    /// Compiles `document` (checking it first). Throws `PolicyError`.
    public init(document: PolicyDocument, facts: ExternalFacts = ExternalFacts(),
                options: PolicyEngineOptions = PolicyEngineOptions(),
                clock: any PolicyClock = SystemPolicyClock(), logger: Logger = .disabled) throws {
        try document.validate(limits: options.limits)
        let groupTable = GroupTable(document: document, facts: facts)
        let rules = document.rules.enumerated().map { position, rule in
            CompiledRule(rule, position: position, groupIndex: groupTable.index)
        }
        var byAction = [[Int]](repeating: [], count: PolicyAction.allCases.count)
        var hourly = [Bool](repeating: false, count: PolicyAction.allCases.count)
        var instants = [[Date]](repeating: [], count: PolicyAction.allCases.count)
        for rule in rules {
            for action in rule.actions {
                byAction[action.index].append(rule.position)
                if let time = rule.time {
                    hourly[action.index] = hourly[action.index] || time.isHourly
                    instants[action.index] += [time.notBefore, time.notAfter].compactMap { $0 }
                }
            }
        }
        self.document = document
        self.rules = rules
        self.byAction = byAction
        self.hourlyByAction = hourly
        self.instantsByAction = instants.map { $0.sorted() }
        self.table = Mutex(groupTable)
        self.limiter = RateLimiter(capacity: options.rateCounterCapacity)
        self.clock = clock
        self.logger = logger
        self.cache = options.cacheTimeToLive.map {
            DecisionCache(timeToLive: $0, capacity: options.cacheCapacity, clock: clock)
        }
        logger.info("policy.loaded", ["rules": rules.count, "groups": groupTable.names.count,
                                      "agreements": facts.agreements.count])
        Self.reportUnknownGroups(groupTable, logger)
    }

    /// Reads, checks and compiles a policy document.
    public convenience init(json: Data, facts: ExternalFacts = ExternalFacts(),
                            options: PolicyEngineOptions = PolicyEngineOptions(),
                            clock: any PolicyClock = SystemPolicyClock(), logger: Logger = .disabled) throws {
        try self.init(document: try PolicyDocument.parse(json), facts: facts, options: options, clock: clock,
                      logger: logger)
    }

    /// Replaces the external facts (group members, agreements) and empties the cache.
    /// Returns the group names the facts mention that the policy does not declare;
    /// those members are ignored.
    @discardableResult
    public func updateFacts(_ facts: ExternalFacts) -> [String] {
        let rebuilt = GroupTable(document: document, facts: facts)
        table.withLock { $0 = rebuilt }
        cache?.removeAll()
        logger.info("policy.facts", ["groups": facts.groups.count, "agreements": facts.agreements.count])
        Self.reportUnknownGroups(rebuilt, logger)
        return rebuilt.unknownExternalGroups
    }

    /// Decides a request given as JSON; throws `PolicyError` when the request is refused.
    public func decide(json: Data) throws -> DecisionResponse {
        decide(try DecisionRequest.parse(json))
    }

    /// Decides a request.
    public func decide(_ request: DecisionRequest) -> DecisionResponse {
        let cacheable = cache != nil && request.context.time == nil
        var generation: UInt64 = 0
        if cacheable, let cache {
            let found = cache.lookup(request)
            if let response = found.response { return response }
            generation = found.generation
        }
        let now = clock.now
        let input = prepare(request, now: now)
        var probe = RateProbe(limiter: limiter, charges: true)
        let positions = byAction[request.action.index]
        var results: [(rule: CompiledRule, outcome: RuleOutcome)] = []
        results.reserveCapacity(positions.count)
        for position in positions {
            let rule = rules[position]
            results.append((rule, rule.evaluate(input, rates: &probe)))
        }
        let response = Self.applyAgreementTerms(
            Self.combine(results, request: request, defaultEffect: document.defaults.effect), input)
        if cacheable, !probe.consulted, let cache {
            let notAfter = nextChange(for: request.action, after: now, table: input.table)
            cache.store(response, for: request, notAfter: notAfter, generation: generation)
        }
        if logger.minimumLevel <= .debug {
            logger.debug("policy.decision", ["action": request.action.rawValue, "subject": request.subject.displayName,
                                             "decision": response.decision.rawValue,
                                             "rules": response.matchedRules.joined(separator: ",")])
        }
        return response
    }

    /// Prepares the per-request view: evaluation time, principals, vouched groups.
    func prepare(_ request: DecisionRequest, now: Date) -> EvaluationInput {
        let groups = table.withLock { $0 }
        let subject = request.subject
        let subjectPrincipal = Principal(
            address: subject.address, addressDomain: subject.addressDomain, domain: subject.domain,
            server: subject.name, implied: subject.groups.isEmpty ? [] : groups.implied(by: subject.groups))
        let resource = request.resource
        var recipient: Principal?
        if resource.recipient != nil || resource.recipientDomain != nil || !resource.recipientGroups.isEmpty {
            recipient = Principal(
                address: resource.recipient, addressDomain: resource.recipientAddressDomain,
                domain: resource.recipientDomain, server: nil,
                implied: resource.recipientGroups.isEmpty ? [] : groups.implied(by: resource.recipientGroups))
        }
        // A user subject is the sender; a server names the sender it acts for.
        var sender: Principal? = subject.kind == .user ? subjectPrincipal : nil
        if subject.kind == .server, let address = resource.sender {
            sender = Principal(address: address, addressDomain: resource.senderDomain, domain: resource.senderDomain,
                               server: nil, implied: [])
        }
        return EvaluationInput(request: request, time: UTCTime(request.context.time ?? now), now: now,
                               subject: subjectPrincipal, recipient: recipient, sender: sender, table: groups)
    }

    /// The first instant after `now` at which a decision about `action` could change
    /// because of a time window or an agreement's validity.
    private func nextChange(for action: PolicyAction, after now: Date, table: GroupTable) -> Date? {
        var next: Date?
        if hourlyByAction[action.index] { next = UTCTime.nextHour(after: now) }
        for instants in [instantsByAction[action.index], table.agreementInstants] {
            if let instant = instants.first(where: { $0 > now }), instant < (next ?? .distantFuture) { next = instant }
        }
        return next
    }

    private static func reportUnknownGroups(_ table: GroupTable, _ logger: Logger) {
        if !table.unknownExternalGroups.isEmpty {
            let names = table.unknownExternalGroups.joined(separator: ",")
            logger.warning("policy.facts.unknown-groups", ["groups": names])
        }
    }
}
