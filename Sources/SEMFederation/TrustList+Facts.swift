// Turning the trust list into the facts a domain's PDP imports (docs/POLICY.md §8):
//
//   registered-servers   the host names of every active domain's servers
//   partners             partner domains, through agreements whose `groups` name it
//   <group name>         for multilateral agreements, the other joined members
//
// A bilateral agreement becomes one SEMPolicy `Agreement` for each party: the partner
// domain, action `send` when the agreement has a direction from the local domain,
// `receive` when it has one towards it, groups ["partners"], the agreement's window, and
// the terms of each direction, which the engine holds every permitted send or receive
// to (docs/FEDERATION.md §5):
//
//   senders, recipients (patterns and groups)   who may write to whom
//   minimumAssurance above low                  the subject's least assurance, on send only:
//                                               the receiving side sees the delivering server,
//                                               not the sender, so the sending domain's PDP
//                                               (which imports the same direction) checks it
//   receiptsRequired                            obligation require-receipt
//   requiredAlgorithms (content encryption)     obligation minimum-algorithm, the weakest listed
//   attachments                                 obligations max-attachment-size and
//                                               allowed-media-types; forbidden types refused
//
// Shortcoming: required signature, digest and key-management algorithms have no
// obligation in the policy vocabulary; they count only in negotiation (AlgorithmNegotiation).
import Foundation
import SEMCrypto
public import SEMPolicy

extension TrustList {
    /// The group the default policy fills with partner domains.
    public static let partnersGroup = "partners"
    /// The group the default policy fills with registered servers.
    public static let registeredServersGroup = "registered-servers"

    /// Facts for the PDP of `localDomain`: registered servers and the agreements it is party to.
    public func externalFacts(for localDomain: String) throws -> ExternalFacts {
        let local = localDomain.lowercased()
        let active = Set(domains.filter { $0.status == .active }.map(\.name))
        var facts = ExternalFacts()
        let servers = domains.filter { $0.status == .active }.flatMap(\.servers).map(\.hostName)
        do {
            facts.groups[Self.registeredServersGroup] = GroupMembers(servers: try servers.map { try DomainPattern($0) })
            guard active.contains(local) else { return facts }
            for agreement in agreements where agreement.state == .accepted {
                guard let partner = agreement.terms.partner(of: local), active.contains(partner) else { continue }
                var actions: [PolicyAction] = []
                if agreement.terms.directions.contains(where: { $0.from == local }) { actions.append(.send) }
                if agreement.terms.directions.contains(where: { $0.to == local }) { actions.append(.receive) }
                let terms = try agreement.terms.directions.compactMap { direction -> AgreementDirectionTerms? in
                    if direction.from == local { return try Self.policyTerms(.send, direction) }
                    if direction.to == local { return try Self.policyTerms(.receive, direction) }
                    return nil
                }
                facts.agreements.append(Agreement(id: agreement.terms.id, domains: [try DomainPattern(partner)],
                                                  actions: actions, groups: [Self.partnersGroup],
                                                  notBefore: agreement.terms.notBefore, notAfter: agreement.terms.notAfter,
                                                  terms: terms.sorted { $0.action == .send && $1.action != .send }))
            }
            for group in multilateralAgreements where group.joinedDomains.contains(local) {
                let others = group.joinedDomains.filter { $0 != local && active.contains($0) }
                guard !others.isEmpty else { continue }
                facts.agreements.append(Agreement(id: group.terms.id, domains: try others.map { try DomainPattern($0) },
                                                  actions: [.send, .receive], groups: [Self.partnersGroup, group.terms.name],
                                                  notBefore: group.terms.notBefore, notAfter: group.terms.notAfter,
                                                  terms: [try Self.policyTerms(.send, conditions: group.terms.conditions),
                                                          try Self.policyTerms(.receive, conditions: group.terms.conditions)]))
            }
        } catch let error as PolicyError {
            throw FederationError(.trustListMalformed, "The trust list cannot be expressed as policy facts: \(error)")
        }
        return facts
    }

    /// The engine's form of one direction; `action` is `send` when it leaves the local domain.
    static func policyTerms(_ action: PolicyAction, _ direction: AgreementDirection) throws -> AgreementDirectionTerms {
        var terms = try policyTerms(action, conditions: direction.conditions)
        terms.senders = direction.senders
        terms.senderGroups = direction.senderGroups
        terms.recipients = direction.recipients
        terms.recipientGroups = direction.recipientGroups
        return terms
    }

    /// The conditions of a direction (or of a multilateral agreement) as engine terms.
    static func policyTerms(_ action: PolicyAction, conditions: AgreementConditions) throws -> AgreementDirectionTerms {
        var terms = AgreementDirectionTerms(action: action)
        if action == .send, conditions.minimumAssurance > .low { terms.minAssurance = conditions.minimumAssurance }
        var obligations: [Obligation] = []
        if conditions.receiptsRequired { obligations.append(.requireReceipt) }
        let content = conditions.requiredAlgorithms.compactMap(ContentEncryptionAlgorithm.init(rawValue:))
        if let weakest = content.map(Self.policyFloor).min() { obligations.append(.minimumAlgorithm(weakest)) }
        if let attachments = conditions.attachments {
            obligations.append(.maxAttachmentSize(bytes: attachments.maximumBytes))
            if !attachments.allowedTypes.isEmpty {
                obligations.append(.allowedMediaTypes(try attachments.allowedTypes.map { try MediaTypePattern($0) }))
            }
            terms.forbiddenTypes = try attachments.forbiddenTypes.map { try MediaTypePattern($0) }
        }
        terms.obligations = obligations
        return terms
    }

    /// The policy vocabulary's algorithm no stronger than `algorithm` (it has no AES-192,
    /// so AES-192 asks for at least AES-128-GCM).
    static func policyFloor(_ algorithm: ContentEncryptionAlgorithm) -> ContentAlgorithm {
        switch algorithm {
        case .aes256GCM: .aes256GCM
        case .aes256CBC: .aes256CBC
        case .aes192GCM, .aes192CBC, .aes128GCM: .aes128GCM
        case .aes128CBC: .aes128CBC
        }
    }

    /// The terms that govern mail from `sender` to `recipient` domain, if an accepted
    /// bilateral agreement has that direction, or the common conditions of a multilateral
    /// agreement both have joined. Nil when either domain is unlisted or suspended.
    public func directionTerms(from sender: String, to recipient: String) -> AgreementConditions? {
        let sender = sender.lowercased(), recipient = recipient.lowercased()
        guard domain(named: sender) != nil, domain(named: recipient) != nil else { return nil }
        for agreement in agreements where agreement.state == .accepted {
            if let direction = agreement.terms.directions.first(where: { $0.from == sender && $0.to == recipient }) {
                return direction.conditions
            }
        }
        return multilateralAgreements.first {
            $0.joinedDomains.contains(sender) && $0.joinedDomains.contains(recipient)
        }?.terms.conditions
    }
}
