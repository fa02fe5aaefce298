// The policy a new domain starts with. It is deliberately narrow: everything it does
// not name is denied, and administrators widen it by adding rules and group members.
//
// Groups, three of them filled from outside the document:
//   local-users          every address of the domain
//   partners             domains with an agreement in force (from the federation registry)
//   registered-servers   mail servers of the federation's trust list
//   recovery-officers    officers who approve key recovery (added by the administrator)
//   suspended-senders    senders whose mail is refused after an abuse report (added by
//                        the administrator with `semctl sender suspend`)
//
// Rules:
//   no-executables             deny executable attachments on every mail action
//   suspended-senders          deny mail from a suspended sender, local or foreign
//   local-mail                 local users may submit and send to local users
//   partner-mail               local users may submit and send to partners, AES-256 at least
//   directory-lookup           authenticated users may look up the directory
//   attachment-fetch           local users may download and save the attachments sent to them
//   receive-from-federation    registered servers may deliver to local users
//   recovery-approval          recovery officers may approve key recovery ...
//   recovery-needs-high        ... and are refused, with a clear reason, below assurance high
// Not permitted by default: relay, enrol and admin (enrolment is authorised by the CA's
// one-time codes; administration needs a rule naming the administrators).

/// The starting policy of a new domain.
public enum DefaultPolicy {
    /// Media types of programs a mail system should not carry.
    public static let executableTypes = [
        "application/x-msdownload", "application/x-msdos-program", "application/x-dosexec",
        "application/vnd.microsoft.portable-executable", "application/x-executable", "application/x-sharedlib",
        "application/x-mach-binary", "application/x-msi", "application/x-ms-shortcut", "application/java-archive",
        "application/x-sh", "application/x-bat", "application/hta",
    ]

    /// The document for `domain` (e.g. `alpha.test`). Throws `PolicyError` when the
    /// domain is not a valid domain name.
    public static func document(for domain: String) throws -> PolicyDocument {
        let groups: [String: GroupDefinition] = [
            "local-users": GroupDefinition(description: "every address of \(domain.lowercased())",
                                           addresses: [try AddressPattern("*@" + domain)]),
            "partners": GroupDefinition(
                description: "domains with an agreement in force; members come from the federation registry"),
            "registered-servers": GroupDefinition(
                description: "mail servers in the federation trust list; members come with the trust list"),
            "recovery-officers": GroupDefinition(
                description: "officers who approve key recovery; the administrator adds them"),
            "suspended-senders": GroupDefinition(
                description: "senders whose mail is refused after an abuse report; the administrator adds them"),
        ]
        let mailActions: [PolicyAction] = [.submit, .send, .receive, .relay, .fetchAttachment]
        let rules = [
            PolicyRule(id: "no-executables", effect: .deny, description: "programs are not carried as attachments",
                       actions: mailActions,
                       resources: ResourceMatch(attachments: AttachmentLimits(
                           forbiddenTypes: try executableTypes.map { try MediaTypePattern($0) }))),
            PolicyRule(id: "suspended-senders", effect: .deny,
                       description: "mail from a sender the administrator suspended is refused",
                       actions: [.submit, .send, .receive, .relay],
                       resources: ResourceMatch(senders: RecipientMatch(groups: ["suspended-senders"]))),
            PolicyRule(id: "local-mail", effect: .permit, description: "local users write to local users",
                       actions: [.submit, .send],
                       subjects: SubjectMatch(groups: ["local-users"], kind: .user),
                       resources: ResourceMatch(recipients: RecipientMatch(groups: ["local-users"]))),
            PolicyRule(id: "partner-mail", effect: .permit, description: "local users write to partner domains",
                       actions: [.submit, .send],
                       subjects: SubjectMatch(groups: ["local-users"], kind: .user),
                       resources: ResourceMatch(recipients: RecipientMatch(groups: ["partners"])),
                       obligations: [.minimumAlgorithm(.aes256CBC)]),
            PolicyRule(id: "directory-lookup", effect: .permit, description: "authenticated users look up certificates",
                       actions: [.lookup],
                       subjects: SubjectMatch(kind: .user, minAssurance: .low)),
            PolicyRule(id: "attachment-fetch", effect: .permit,
                       description: "local users download and save attachments sent to them",
                       actions: [.fetchAttachment],
                       subjects: SubjectMatch(groups: ["local-users"], kind: .user)),
            PolicyRule(id: "receive-from-federation", effect: .permit,
                       description: "registered servers deliver to local users",
                       actions: [.receive],
                       subjects: SubjectMatch(groups: ["registered-servers"], kind: .server),
                       resources: ResourceMatch(recipients: RecipientMatch(groups: ["local-users"]))),
            PolicyRule(id: "recovery-approval", effect: .permit, description: "recovery officers approve key recovery",
                       actions: [.recoverKey],
                       subjects: SubjectMatch(groups: ["recovery-officers"], kind: .user, minAssurance: .high),
                       obligations: [.notifyUser(message: "your archived encryption key was recovered")]),
            PolicyRule(id: "recovery-needs-high", effect: .deny,
                       description: "key recovery needs an officer authenticated at assurance high",
                       actions: [.recoverKey],
                       subjects: SubjectMatch(groups: ["recovery-officers"], minAssurance: .high)),
        ]
        let document = PolicyDocument(groups: groups, rules: rules, defaults: PolicyDefaults(effect: .deny))
        try document.validate()
        return document
    }

    /// The same document as JSON text, as `semctl` writes it for a new domain.
    public static func jsonText(for domain: String) throws -> String {
        try document(for: domain).jsonText()
    }
}
