// The `conditions` clause of a rule: time window and client networks (targets);
// total size, TLS version, agreement and rate limit (limits).
public import Foundation

/// Conditions on the circumstances of a request.
public struct RuleConditions: Sendable, Equatable, Codable {
    /// When the rule applies (a target).
    public var time: TimeWindow?
    /// Client addresses the rule applies to (a target).
    public var clientNetworks: [NetworkPattern]?
    /// Largest request in bytes: message size plus all attachments (a limit).
    public var maxSize: Int?
    /// Lowest TLS version of the client connection (a limit); no TLS breaks it.
    public var minimumTLS: TLSVersion?
    /// When true, an agreement in force must cover the request (a limit); see `Agreement`.
    public var requireAgreement: Bool?
    /// At most this many requests per subject per window (a limit, counted by the engine).
    public var rateLimit: RateLimit?

    public init(time: TimeWindow? = nil, clientNetworks: [NetworkPattern]? = nil, maxSize: Int? = nil,
                minimumTLS: TLSVersion? = nil, requireAgreement: Bool? = nil, rateLimit: RateLimit? = nil) {
        self.time = time
        self.clientNetworks = clientNetworks
        self.maxSize = maxSize
        self.minimumTLS = minimumTLS
        self.requireAgreement = requireAgreement
        self.rateLimit = rateLimit
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case time, clientNetworks, maxSize, minimumTLS, requireAgreement, rateLimit
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard !container.allKeys.isEmpty else { throw ClauseFault.empty(decoder) }
        time = try container.decodeIfPresent(TimeWindow.self, forKey: .time)
        clientNetworks = try container.nonEmptyListIfPresent(NetworkPattern.self, .clientNetworks)
        maxSize = try container.wholeNumberIfPresent(.maxSize, in: Sizes.range)
        minimumTLS = try container.decodeIfPresent(TLSVersion.self, forKey: .minimumTLS)
        requireAgreement = try container.decodeIfPresent(Bool.self, forKey: .requireAgreement)
        rateLimit = try container.decodeIfPresent(RateLimit.self, forKey: .rateLimit)
    }
}

/// A time window in UTC. Every given part must hold: the weekday is one of `days`, the
/// hour is in `hours`, and the instant is in [`notBefore`, `notAfter`).
public struct TimeWindow: Sendable, Equatable, Codable {
    public var days: [Weekday]?
    public var hours: HourRange?
    public var notBefore: Date?
    public var notAfter: Date?

    public init(days: [Weekday]? = nil, hours: HourRange? = nil, notBefore: Date? = nil, notAfter: Date? = nil) {
        self.days = days
        self.hours = hours
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case days, hours, notBefore, notAfter
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard !container.allKeys.isEmpty else { throw ClauseFault.empty(decoder) }
        days = try container.nonEmptyListIfPresent(Weekday.self, .days)
        hours = try container.decodeIfPresent(HourRange.self, forKey: .hours)
        notBefore = try container.timestampIfPresent(.notBefore)
        notAfter = try container.timestampIfPresent(.notAfter)
        if let notBefore, let notAfter, notBefore >= notAfter {
            throw PolicyError(.invalidValue, at: container.path(.notAfter), "notAfter must be later than notBefore")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(days, forKey: .days)
        try container.encodeIfPresent(hours, forKey: .hours)
        try container.encodeTimestampIfPresent(notBefore, forKey: .notBefore)
        try container.encodeTimestampIfPresent(notAfter, forKey: .notAfter)
    }
}

/// Hours of the day in UTC, `from` included and `to` excluded (0-24). When `from` is
/// greater than `to` the range wraps past midnight: 22 to 6 is the night.
public struct HourRange: Sendable, Equatable, Codable {
    public var from: Int
    public var to: Int

    public init(from: Int, to: Int) {
        self.from = from
        self.to = to
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case from, to
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        from = try container.wholeNumber(.from, in: 0...23)
        to = try container.wholeNumber(.to, in: 0...24)
        if from == to {
            throw PolicyError(.invalidValue, at: container.path(.to), "the hour range is empty (from equals to)")
        }
    }

    func contains(hour: Int) -> Bool {
        from < to ? (hour >= from && hour < to) : (hour >= from || hour < to)
    }
}

/// At most `requests` requests per subject in each window of `windowSeconds`. Windows
/// are fixed and aligned to the Unix epoch, so every engine counts the same windows.
public struct RateLimit: Sendable, Equatable, Codable {
    public var requests: Int
    public var windowSeconds: Int

    public init(requests: Int, windowSeconds: Int) {
        self.requests = requests
        self.windowSeconds = windowSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requests, windowSeconds
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requests = try container.wholeNumber(.requests, in: 1...10_000_000)
        windowSeconds = try container.wholeNumber(.windowSeconds, in: 1...(31 * 86_400))
    }
}
