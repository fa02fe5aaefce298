// Checks that need the whole document: counts, unique rule ids, group names that
// exist, and groups that do not contain each other in a loop.

extension PolicyDocument {
    /// Throws `PolicyError` for the first document-wide fault. `parse` calls this; call
    /// it yourself for documents built in Swift.
    public func validate(limits: PolicyLimits = .standard) throws {
        guard version == Self.currentVersion else {
            throw PolicyError(.unsupportedVersion, at: "$.version",
                              "this engine reads policy language version \(Self.currentVersion), not \(version)")
        }
        if rules.count > limits.maxRules {
            throw PolicyError(.tooLarge, at: "$.rules",
                              "the document has \(rules.count) rules; at most \(limits.maxRules) are accepted")
        }
        if groups.count > limits.maxGroups {
            throw PolicyError(.tooLarge, at: "$.groups",
                              "the document has \(groups.count) groups; at most \(limits.maxGroups) are accepted")
        }
        let names = groups.keys.sorted()
        for name in names {
            try PolicyName.check(name, at: "$.groups" + JSONPath.member(name))
        }
        try checkRuleIDs()
        try checkGroupReferences(names)
        try checkGroupCycles(names, maxNesting: limits.maxGroupNesting)
    }

    private func checkRuleIDs() throws {
        var firstIndex: [String: Int] = [:]
        for (index, rule) in rules.enumerated() {
            try PolicyName.check(rule.id, at: "$.rules[\(index)].id")
            if let earlier = firstIndex[rule.id] {
                throw PolicyError(.duplicateRuleID, at: "$.rules[\(index)].id",
                                  "the rule id \"\(rule.id)\" is already used by $.rules[\(earlier)]")
            }
            firstIndex[rule.id] = index
        }
    }

    private func checkGroupReferences(_ names: [String]) throws {
        func check(_ referenced: [String]?, at base: String) throws {
            for (index, name) in (referenced ?? []).enumerated() where groups[name] == nil {
                throw PolicyError(.undefinedGroup, at: "\(base)[\(index)]",
                                  "the group \"\(name)\" is not defined in $.groups")
            }
        }
        for name in names {
            try check(groups[name]!.groups, at: "$.groups" + JSONPath.member(name) + ".groups")
        }
        for (index, rule) in rules.enumerated() {
            try check(rule.subjects?.groups, at: "$.rules[\(index)].subjects.groups")
            try check(rule.resources?.recipients?.groups, at: "$.rules[\(index)].resources.recipients.groups")
            try check(rule.resources?.senders?.groups, at: "$.rules[\(index)].resources.senders.groups")
        }
    }

    /// Depth-first search in name order, with an explicit stack so that a long chain
    /// of nested groups cannot exhaust the thread's stack. The error names the member
    /// that closes the loop, or the one that nests too deep.
    private func checkGroupCycles(_ names: [String], maxNesting: Int) throws {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        for root in names where marks[root] == nil {
            // Each frame: a group and the index of the next member group to look at.
            var stack: [(name: String, next: Int)] = [(root, 0)]
            marks[root] = .visiting
            while let top = stack.last {
                let members = groups[top.name]!.groups
                if top.next == members.count {
                    marks[top.name] = .done
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let child = members[top.next]
                switch marks[child] {
                case .visiting:
                    let trail = stack.map(\.name)
                    let loop = trail[trail.firstIndex(of: child)!...] + [child]
                    throw PolicyError(.groupCycle, at: "$.groups" + JSONPath.member(top.name) + ".groups[\(top.next)]",
                                      "groups contain each other in a loop: " + loop.joined(separator: " → "))
                case .done:
                    continue
                case nil:
                    if stack.count >= maxNesting {
                        let path = "$.groups" + JSONPath.member(top.name) + ".groups[\(top.next)]"
                        throw PolicyError(.tooLarge, at: path, "groups are nested more than \(maxNesting) levels deep")
                    }
                    marks[child] = .visiting
                    stack.append((child, 0))
                }
            }
        }
    }
}
