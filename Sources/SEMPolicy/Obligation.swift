// Obligations: duties a permit carries to the enforcing point (the mail server or the
// client), and how the obligations of several permit rules merge into one set.

/// One duty attached to a permit. In JSON an object with a `type` and its parameters,
/// e.g. `{"type": "minimum-algorithm", "algorithm": "AES-256-GCM"}`.
public enum Obligation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The sender must request an RFC 2634 signed receipt.
    case requireReceipt
    /// Content encryption must be at least this strong.
    case minimumAlgorithm(ContentAlgorithm)
    /// Hold the message for review before delivery.
    case quarantine
    /// Tell the user, with an optional message.
    case notifyUser(message: String?)
    /// No attachment may exceed this many bytes.
    case maxAttachmentSize(bytes: Int)
    /// Attachments must match one of these media types; an empty list allows none.
    case allowedMediaTypes([MediaTypePattern])

    /// The `type` words of the JSON form.
    public enum Kind: String, PolicyWord, Sendable {
        case requireReceipt = "require-receipt"
        case minimumAlgorithm = "minimum-algorithm"
        case quarantine
        case notifyUser = "notify-user"
        case maxAttachmentSize = "max-attachment-size"
        case allowedMediaTypes = "allowed-media-types"

        public static let noun = "obligation type"

        /// Parameter members each type takes besides `type`.
        var parameters: [String] {
            switch self {
            case .requireReceipt, .quarantine: []
            case .minimumAlgorithm: ["algorithm"]
            case .notifyUser: ["message"]
            case .maxAttachmentSize: ["bytes"]
            case .allowedMediaTypes: ["types"]
            }
        }
    }

    public var kind: Kind {
        switch self {
        case .requireReceipt: .requireReceipt
        case .minimumAlgorithm: .minimumAlgorithm
        case .quarantine: .quarantine
        case .notifyUser: .notifyUser
        case .maxAttachmentSize: .maxAttachmentSize
        case .allowedMediaTypes: .allowedMediaTypes
        }
    }

    /// Short form for reasons and logs: `minimum-algorithm AES-256-GCM`.
    public var description: String {
        switch self {
        case .requireReceipt, .quarantine: kind.rawValue
        case .minimumAlgorithm(let algorithm): "\(kind.rawValue) \(algorithm.rawValue)"
        case .notifyUser(let message): message.map { "\(kind.rawValue) \"\($0)\"" } ?? kind.rawValue
        case .maxAttachmentSize(let bytes): "\(kind.rawValue) \(bytes)"
        case .allowedMediaTypes(let types):
            "\(kind.rawValue) " + (types.isEmpty ? "(none)" : types.map(\.description).joined(separator: ","))
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, algorithm, message, bytes, types
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(Kind.self, forKey: .type)
        let allowed = Set(["type"] + kind.parameters)
        let present = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted()
        if let extra = present.first(where: { !allowed.contains($0) }) {
            throw PolicyError(.unknownField, at: JSONPath.render(decoder.codingPath, appending: AnyKey(extra)),
                              "\"\(extra)\" is not a member of a \(kind.rawValue) obligation; expected: "
                                + allowed.sorted().joined(separator: ", "))
        }
        switch kind {
        case .requireReceipt: self = .requireReceipt
        case .quarantine: self = .quarantine
        case .minimumAlgorithm:
            self = .minimumAlgorithm(try container.decode(ContentAlgorithm.self, forKey: .algorithm))
        case .notifyUser: self = .notifyUser(message: try container.textIfPresent(.message))
        case .maxAttachmentSize: self = .maxAttachmentSize(bytes: try container.wholeNumber(.bytes, in: Sizes.range))
        case .allowedMediaTypes:
            self = .allowedMediaTypes(try container.decode([MediaTypePattern].self, forKey: .types))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .type)
        switch self {
        case .requireReceipt, .quarantine: break
        case .minimumAlgorithm(let algorithm): try container.encode(algorithm, forKey: .algorithm)
        case .notifyUser(let message): try container.encodeIfPresent(message, forKey: .message)
        case .maxAttachmentSize(let bytes): try container.encode(bytes, forKey: .bytes)
        case .allowedMediaTypes(let types): try container.encode(types, forKey: .types)
        }
    }
}

/// Merging the obligations of every matching permit rule; where two disagree the
/// stricter wins:
/// - `require-receipt`, `quarantine`: present if any rule asks for it;
/// - `minimum-algorithm`: the strongest algorithm asked for;
/// - `notify-user`: every distinct message, in rule order;
/// - `max-attachment-size`: the smallest size;
/// - `allowed-media-types`: the intersection of the lists (`image/*` with `image/png`
///   gives `image/png`); it may end up empty, which allows no attachment.
/// The result lists obligations in the order of `Obligation.Kind`.
public enum ObligationMerge {
    public static func merge(_ obligations: [Obligation]) -> [Obligation] {
        var receipt = false
        var quarantine = false
        var algorithm: ContentAlgorithm?
        var notices: [String?] = []
        var maxSize: Int?
        var allowed: [MediaTypePattern]?
        for obligation in obligations {
            switch obligation {
            case .requireReceipt: receipt = true
            case .quarantine: quarantine = true
            case .minimumAlgorithm(let wanted): algorithm = max(algorithm ?? wanted, wanted)
            case .notifyUser(let message): if !notices.contains(message) { notices.append(message) }
            case .maxAttachmentSize(let bytes): maxSize = min(maxSize ?? bytes, bytes)
            case .allowedMediaTypes(let types): allowed = allowed.map { intersect($0, types) } ?? simplify(types)
            }
        }
        var merged: [Obligation] = []
        if receipt { merged.append(.requireReceipt) }
        if let algorithm { merged.append(.minimumAlgorithm(algorithm)) }
        if quarantine { merged.append(.quarantine) }
        merged += notices.map { .notifyUser(message: $0) }
        if let maxSize { merged.append(.maxAttachmentSize(bytes: maxSize)) }
        if let allowed { merged.append(.allowedMediaTypes(allowed)) }
        return merged
    }

    /// Media types allowed by both lists.
    static func intersect(_ left: [MediaTypePattern], _ right: [MediaTypePattern]) -> [MediaTypePattern] {
        var result: [MediaTypePattern] = []
        for a in left {
            for b in right {
                if let both = a.intersection(b) { result.append(both) }
            }
        }
        return simplify(result)
    }

    /// Drops duplicates and patterns another pattern in the list already covers.
    static func simplify(_ patterns: [MediaTypePattern]) -> [MediaTypePattern] {
        var result: [MediaTypePattern] = []
        for (index, pattern) in patterns.enumerated() {
            let coveredByOther = patterns.enumerated().contains { other in
                other.offset != index && pattern.isCovered(by: other.element)
                    && (!other.element.isCovered(by: pattern) || other.offset < index)
            }
            if !coveredByOther { result.append(pattern) }
        }
        return result
    }
}
