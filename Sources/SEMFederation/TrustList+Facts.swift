// Turning the trust list into the facts a domain's PDP imports (docs/POLICY.md §8):
//
//   registered-servers   the host names of every active domain's servers
//   partners             partner domains, through agreements whose `groups` name it
//   <group name>         for multilateral agreements, the other joined members
//
// A bilateral agreement becomes one SEMPolicy `Agreement` for each party: the partner
// domain, action `send` when the agreement has a direction from the local domain,
// `receive` when it has one towards it, groups ["partners"], and the agreement's window.
//
// Shortcoming: ExternalFacts speaks of whole domains. Sender and recipient patterns,
// minimum assurance, required algorithms, attachment limits and receipts of a direction
// are not expressed as facts; the mail server enforces them with `directionTerms`
// (and negotiation), and the PDP only learns which domains are partners.
import Foundation
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
                facts.agreements.append(Agreement(id: agreement.terms.id, domains: [try DomainPattern(partner)],
                                                  actions: actions, groups: [Self.partnersGroup],
                                                  notBefore: agreement.terms.notBefore, notAfter: agreement.terms.notAfter))
            }
            for group in multilateralAgreements where group.joinedDomains.contains(local) {
                let others = group.joinedDomains.filter { $0 != local && active.contains($0) }
                guard !others.isEmpty else { continue }
                facts.agreements.append(Agreement(id: group.terms.id, domains: try others.map { try DomainPattern($0) },
                                                  actions: [.send, .receive], groups: [Self.partnersGroup, group.terms.name],
                                                  notBefore: group.terms.notBefore, notAfter: group.terms.notAfter))
            }
        } catch let error as PolicyError {
            throw FederationError(.trustListMalformed, "The trust list cannot be expressed as policy facts: \(error)")
        }
        return facts
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
