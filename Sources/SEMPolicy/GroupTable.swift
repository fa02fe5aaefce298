// Group membership, compiled: every group's members flattened through its nested
// groups and merged with the external members, so that a membership test is a few
// set lookups and suffix comparisons however deep the nesting.
import Foundation

/// A party whose membership is tested: the subject of a request or its recipient.
struct Principal {
    /// Lower-cased mail address (users and recipients).
    var address: String?
    /// The domain part of `address`.
    var addressDomain: String?
    /// The party's domain.
    var domain: String?
    /// Lower-cased host name (servers).
    var server: String?
    /// Groups implied by what the requester vouched for: the named groups and every
    /// group that contains one of them.
    var implied: Set<Int>
}

/// Address, domain and server patterns, split into exact names (set lookups) and
/// suffixes (for `*.example` patterns).
struct LeafSet: Sendable {
    var addresses = Set<String>()
    var addressDomains = Set<String>()
    var addressDomainSuffixes: [String] = []
    var domains = Set<String>()
    var domainSuffixes: [String] = []
    var servers = Set<String>()
    var serverSuffixes: [String] = []

    var isEmpty: Bool {
        addresses.isEmpty && addressDomains.isEmpty && addressDomainSuffixes.isEmpty && domains.isEmpty
            && domainSuffixes.isEmpty && servers.isEmpty && serverSuffixes.isEmpty
    }

    mutating func add(addresses patterns: [AddressPattern]) {
        for pattern in patterns {
            if let exact = pattern.exact {
                addresses.insert(exact)
            } else if let suffix = pattern.domain.suffix {
                addressDomainSuffixes.append(suffix)
            } else {
                addressDomains.insert(pattern.domain.text)
            }
        }
    }

    mutating func add(domains patterns: [DomainPattern]) {
        for pattern in patterns {
            if let suffix = pattern.suffix { domainSuffixes.append(suffix) } else { domains.insert(pattern.text) }
        }
    }

    mutating func add(servers patterns: [DomainPattern]) {
        for pattern in patterns {
            if let suffix = pattern.suffix { serverSuffixes.append(suffix) } else { servers.insert(pattern.text) }
        }
    }

    mutating func formUnion(_ other: LeafSet) {
        addresses.formUnion(other.addresses)
        addressDomains.formUnion(other.addressDomains)
        addressDomainSuffixes += other.addressDomainSuffixes
        domains.formUnion(other.domains)
        domainSuffixes += other.domainSuffixes
        servers.formUnion(other.servers)
        serverSuffixes += other.serverSuffixes
    }

    func matches(_ principal: Principal) -> Bool {
        if let address = principal.address {
            if addresses.contains(address) { return true }
            if let domain = principal.addressDomain {
                if addressDomains.contains(domain) { return true }
                if addressDomainSuffixes.contains(where: { domain.hasSuffix($0) }) { return true }
            }
        }
        if let domain = principal.domain {
            if domains.contains(domain) { return true }
            if domainSuffixes.contains(where: { domain.hasSuffix($0) }) { return true }
        }
        if let server = principal.server {
            if servers.contains(server) { return true }
            if serverSuffixes.contains(where: { server.hasSuffix($0) }) { return true }
        }
        return false
    }
}

/// A finished `LeafSet`, shared by reference.
final class LeafBox: Sendable {
    let set: LeafSet

    init(_ set: LeafSet) {
        self.set = set
    }
}

/// The groups of one policy together with one set of external facts. Immutable; the
/// engine builds a new table when the facts change.
final class GroupTable: Sendable {
    /// Group names in sorted order; rules refer to groups by index into this list.
    let names: [String]
    let index: [String: Int]
    /// Members of each group, nested groups and external members included (boxed, so
    /// that a membership test does not copy the sets).
    let leaves: [LeafBox]
    /// For each group: itself and every group that contains it, directly or not.
    let containers: [[Int]]
    let agreements: [Agreement]
    /// For each group: the agreements whose partners are members of it.
    let agreementsByGroup: [[Int]]
    /// Start and end instants of the agreements, sorted: membership may change there.
    let agreementInstants: [Date]
    /// External group names the policy does not declare (ignored).
    let unknownExternalGroups: [String]

    init(document: PolicyDocument, facts: ExternalFacts) {
        let names = document.groups.keys.sorted()
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() { index[name] = position }
        let children = names.map { name in document.groups[name]!.groups.map { index[$0]! } }

        var own = names.map { name -> LeafSet in
            let definition = document.groups[name]!
            var leaves = LeafSet()
            leaves.add(addresses: definition.addresses)
            leaves.add(domains: definition.domains)
            leaves.add(servers: definition.servers)
            return leaves
        }
        for (name, members) in facts.groups {
            guard let position = index[name] else { continue }
            own[position].add(addresses: members.addresses)
            own[position].add(domains: members.domains)
            own[position].add(servers: members.servers)
        }

        // Descendants of every group. The document was checked to be free of cycles and
        // nested at most `PolicyLimits.maxGroupNesting` deep; the work still grows with
        // groups times descendants, which is why the number of groups is bounded too.
        var descendants = [Set<Int>](repeating: [], count: names.count)
        for root in 0..<names.count {
            var stack = children[root]
            while let next = stack.popLast() {
                if descendants[root].insert(next).inserted { stack += children[next] }
            }
        }
        var containers = (0..<names.count).map { [$0] }
        for group in 0..<names.count {
            for member in descendants[group] { containers[member].append(group) }
        }
        leaves = (0..<names.count).map { group in
            var all = own[group]
            for member in descendants[group].sorted() { all.formUnion(own[member]) }
            return LeafBox(all)
        }

        var byGroup = [[Int]](repeating: [], count: names.count)
        for (position, agreement) in facts.agreements.enumerated() {
            var reached = Set<Int>()
            for name in agreement.groups {
                guard let group = index[name] else { continue }
                reached.formUnion(containers[group])
            }
            for group in reached { byGroup[group].append(position) }
        }

        self.names = names
        self.index = index
        self.containers = containers
        self.agreements = facts.agreements
        self.agreementsByGroup = byGroup
        self.agreementInstants = facts.agreements.flatMap { [$0.notBefore, $0.notAfter].compactMap { $0 } }.sorted()
        let agreementGroups = facts.agreements.flatMap(\.groups)
        self.unknownExternalGroups = Set(facts.groups.keys).union(agreementGroups).filter { index[$0] == nil }.sorted()
    }

    /// Groups implied by names the requester vouched for; unknown names are ignored.
    func implied(by asserted: [String]) -> Set<Int> {
        var result = Set<Int>()
        for name in asserted {
            if let group = index[name] { result.formUnion(containers[group]) }
        }
        return result
    }

    func contains(_ group: Int, _ principal: Principal, at time: Date) -> Bool {
        if principal.implied.contains(group) { return true }
        if leaves[group].set.matches(principal) { return true }
        for position in agreementsByGroup[group] {
            let agreement = agreements[position]
            if let domain = principal.domain, agreement.isInForce(at: time), agreement.includes(domain: domain) {
                return true
            }
        }
        return false
    }
}
