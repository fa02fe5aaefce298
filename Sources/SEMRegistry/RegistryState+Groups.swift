// Multilateral agreements in the registry: a founding member records the terms with its
// own signature (`groupFormed`); each other invited member adds its signature
// (`groupJoined`); any joined member may end the agreement (`agreementTerminated`, with its
// administrator's signed request). Ids are shared with bilateral agreements.
//
// The trust list carries a group while it is not terminated, at least two members have
// joined, and every joined member is approved: a suspended member takes the group out
// until it is reinstated, as a suspended party does a bilateral agreement.
import Foundation
import SEMCrypto
import SEMFederation

extension RegistryState {
    mutating func formGroup(_ group: MultilateralAgreement, by name: String, at time: Date, _ number: UInt64) throws {
        func refuse(_ text: String) -> RegistryError { RegistryError(.invalidTransition, sequence: number, text) }
        let id = group.terms.id
        guard agreements[id] == nil, groups[id] == nil else { throw refuse("Agreement \"\(id)\" already exists.") }
        guard group.joinedDomains == [name] else {
            throw refuse("A new multilateral agreement must carry the signature of its founder \(name) alone.")
        }
        guard domains[name]?.status == .approved else { throw refuse("The founder \(name) is not an approved domain.") }
        try verifyGroup(group, at: time, number)
        groups[id] = group
    }

    mutating func joinGroup(_ group: MultilateralAgreement, by name: String, at time: Date, _ number: UInt64) throws {
        func refuse(_ text: String) -> RegistryError { RegistryError(.invalidTransition, sequence: number, text) }
        let id = group.terms.id
        guard let recorded = groups[id], !terminatedGroups.contains(id) else {
            throw refuse("There is no open multilateral agreement \"\(id)\".")
        }
        guard group.terms == recorded.terms, group.joinedDomains == recorded.joinedDomains + [name],
              Array(group.joined.dropLast()) == recorded.joined else {
            throw refuse("The joining of \"\(id)\" by \(name) does not extend the recorded agreement by one signature.")
        }
        guard domains[name]?.status == .approved else { throw refuse("\(name) is not an approved domain.") }
        try verifyGroup(group, at: time, number)
        groups[id] = group
    }

    mutating func terminateGroup(_ id: String, by name: String, request: Data?, at time: Date, _ number: UInt64) throws {
        func refuse(_ text: String) -> RegistryError { RegistryError(.invalidTransition, sequence: number, text) }
        guard let group = groups[id], !terminatedGroups.contains(id) else {
            throw refuse("Agreement \"\(id)\" does not exist or is already terminated.")
        }
        guard group.joinedDomains.contains(name) else { throw refuse("\(name) has not joined agreement \"\(id)\".") }
        if let request { try checkTermination(request, id: id, by: name, at: time, number) }
        terminatedGroups.insert(id)
    }

    /// The groups the trust list carries, by id.
    func listedGroups(approved: Set<String>) -> [MultilateralAgreement] {
        groups.values.filter {
            !terminatedGroups.contains($0.terms.id) && $0.joined.count >= 2 && $0.joinedDomains.allSatisfy(approved.contains)
        }.sorted { $0.terms.id < $1.terms.id }
    }

    private func verifyGroup(_ group: MultilateralAgreement, at time: Date, _ number: UInt64) throws {
        let verification = AgreementVerification(roots: domains.mapValues(\.rootCertificate))
        do { try group.verifySignatures(verification, at: time) } catch let error as FederationError {
            throw RegistryError(.invalidTransition, sequence: number,
                                "Agreement \"\(group.terms.id)\" carries a signature that does not verify: \(error.reason)")
        }
    }
}
