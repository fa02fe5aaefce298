// What an agreement says about one direction of mail, as the engine enforces it
// (docs/POLICY.md §8). `send` terms govern this domain's users writing to the partner,
// `receive` terms the partner's users writing to this domain.
//
// The terms are a contract between domains, so no rule of the local policy can widen
// them: once the rules permit a send or receive that an agreement with terms for that
// action concerns, the terms must hold as well, and their obligations join the rules'.
import Foundation

/// One direction of an agreement: who may write to whom, and the duties mail carries.
/// Empty sender (or recipient) patterns and groups mean every sender (or recipient).
public struct AgreementDirectionTerms: Sendable, Equatable, Codable {
    /// `send` (our users to the partner) or `receive` (the partner's users to ours).
    public var action: PolicyAction
    public var senders: [AddressPattern]
    /// Groups of this domain's policy; a sender in one of them qualifies.
    public var senderGroups: [String]
    public var recipients: [AddressPattern]
    public var recipientGroups: [String]
    /// The least assurance of the request's subject; absent means any, unknown included.
    public var minAssurance: AssuranceLevel?
    /// Attachments of these media types are refused.
    public var forbiddenTypes: [MediaTypePattern]
    /// Duties added to a permit the terms admit.
    public var obligations: [Obligation]

    public init(action: PolicyAction, senders: [AddressPattern] = [], senderGroups: [String] = [],
                recipients: [AddressPattern] = [], recipientGroups: [String] = [],
                minAssurance: AssuranceLevel? = nil, forbiddenTypes: [MediaTypePattern] = [],
                obligations: [Obligation] = []) {
        self.action = action
        self.senders = senders
        self.senderGroups = senderGroups
        self.recipients = recipients
        self.recipientGroups = recipientGroups
        self.minAssurance = minAssurance
        self.forbiddenTypes = forbiddenTypes
        self.obligations = obligations
    }

    /// The actions terms can speak about.
    static let actions: Set<PolicyAction> = [.send, .receive]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case action, senders, senderGroups, recipients, recipientGroups, minAssurance, forbiddenTypes, obligations
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        action = try container.decode(PolicyAction.self, forKey: .action)
        guard Self.actions.contains(action) else {
            throw PolicyError(.invalidValue, at: container.path(.action),
                              "agreement terms speak about send or receive, not \(action.rawValue)")
        }
        senders = try container.decodeIfPresent([AddressPattern].self, forKey: .senders) ?? []
        senderGroups = try container.groupNamesIfPresent(.senderGroups) ?? []
        recipients = try container.decodeIfPresent([AddressPattern].self, forKey: .recipients) ?? []
        recipientGroups = try container.groupNamesIfPresent(.recipientGroups) ?? []
        minAssurance = try container.decodeIfPresent(AssuranceLevel.self, forKey: .minAssurance)
        forbiddenTypes = try container.decodeIfPresent([MediaTypePattern].self, forKey: .forbiddenTypes) ?? []
        obligations = try container.decodeIfPresent([Obligation].self, forKey: .obligations) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(action, forKey: .action)
        if !senders.isEmpty { try container.encode(senders, forKey: .senders) }
        if !senderGroups.isEmpty { try container.encode(senderGroups, forKey: .senderGroups) }
        if !recipients.isEmpty { try container.encode(recipients, forKey: .recipients) }
        if !recipientGroups.isEmpty { try container.encode(recipientGroups, forKey: .recipientGroups) }
        try container.encodeIfPresent(minAssurance, forKey: .minAssurance)
        if !forbiddenTypes.isEmpty { try container.encode(forbiddenTypes, forKey: .forbiddenTypes) }
        if !obligations.isEmpty { try container.encode(obligations, forKey: .obligations) }
    }
}

/// Why terms did not admit a request.
enum TermsFault {
    case noSender
    case sender(String)
    case recipient(String?)
    case assurance(required: AssuranceLevel, actual: AssuranceLevel?)
    case forbiddenType(String)

    var sentence: String {
        switch self {
        case .noSender: "the request names no sender, and the agreement admits only some senders"
        case .sender(let sender): "the sender \(sender) is not among the agreement's senders"
        case .recipient(let recipient?): "the recipient \(recipient) is not among the agreement's recipients"
        case .recipient(nil): "the request names no recipient, and the agreement admits only some recipients"
        case .assurance(let required, let actual?):
            "assurance \(actual.rawValue) is below the agreement's minimum \(required.rawValue)"
        case .assurance(let required, nil): "the subject's assurance is unknown; the agreement requires \(required.rawValue)"
        case .forbiddenType(let type): "the agreement forbids attachments of media type \(type)"
        }
    }
}

extension AgreementDirectionTerms {
    /// The first term `input` breaks; nil when the terms admit it.
    func fault(_ input: EvaluationInput) -> TermsFault? {
        let request = input.request
        if !senders.isEmpty || !senderGroups.isEmpty {
            guard let sender = input.sender else { return .noSender }
            guard matches(sender, senders, senderGroups, input) else { return .sender(sender.address ?? "?") }
        }
        if !recipients.isEmpty || !recipientGroups.isEmpty {
            guard let recipient = input.recipient, matches(recipient, recipients, recipientGroups, input) else {
                return .recipient(request.resource.recipient ?? request.resource.recipientDomain)
            }
        }
        if let minAssurance {
            guard let actual = request.subject.assurance, actual >= minAssurance else {
                return .assurance(required: minAssurance, actual: request.subject.assurance)
            }
        }
        if let file = request.resource.attachments.first(where: { file in
            forbiddenTypes.contains { $0.matches(file.parsed) }
        }) {
            return .forbiddenType(file.mediaType)
        }
        return nil
    }

    private func matches(_ principal: Principal, _ patterns: [AddressPattern], _ groups: [String],
                         _ input: EvaluationInput) -> Bool {
        if let address = principal.address, let domain = principal.addressDomain,
           patterns.contains(where: { $0.matches(address: address, addressDomain: domain) }) {
            return true
        }
        // A group this policy does not declare (one of the partner's) never matches: the
        // engine cannot tell its members, so the term fails closed.
        return groups.contains { name in
            input.table.index[name].map { input.table.contains($0, principal, at: input.time.date) } ?? false
        }
    }
}

extension PolicyEngine {
    /// Holds a permit of the rules to the terms of the agreements that concern it: a send
    /// to, or a receive from, a partner of an agreement in force that has terms for the
    /// action. When several agreements concern it, one admitting it is enough; the
    /// obligations of every admitting agreement are added.
    static func applyAgreementTerms(_ response: DecisionResponse, _ input: EvaluationInput) -> DecisionResponse {
        let request = input.request
        guard response.decision == .permit, AgreementDirectionTerms.actions.contains(request.action),
              let partner = request.action == .send ? request.resource.recipientDomain : request.subject.domain
        else { return response }
        var concerned: [(agreement: Agreement, terms: AgreementDirectionTerms)] = []
        for agreement in input.table.agreements
        where agreement.actions.contains(request.action) && agreement.isInForce(at: input.time.date)
            && agreement.includes(domain: partner) {
            if let terms = agreement.terms.first(where: { $0.action == request.action }) {
                concerned.append((agreement, terms))
            }
        }
        guard !concerned.isEmpty else { return response }
        var admitting: [(agreement: Agreement, terms: AgreementDirectionTerms)] = []
        var firstFault: (id: String, fault: TermsFault)?
        for entry in concerned {
            if let fault = entry.terms.fault(input) {
                if firstFault == nil { firstFault = (entry.agreement.id, fault) }
            } else {
                admitting.append(entry)
            }
        }
        if admitting.isEmpty, let (id, fault) = firstFault {
            return DecisionResponse(decision: .deny, matchedRules: response.matchedRules, obligations: [],
                                    reason: "denied by agreement '\(id)': \(fault.sentence)")
        }
        let names = admitting.map { "'\($0.agreement.id)'" }.joined(separator: ", ")
        return DecisionResponse(decision: .permit, matchedRules: response.matchedRules,
                                obligations: ObligationMerge.merge(response.obligations + admitting.flatMap(\.terms.obligations)),
                                reason: response.reason + " under agreement\(admitting.count > 1 ? "s" : "") \(names)")
    }
}
