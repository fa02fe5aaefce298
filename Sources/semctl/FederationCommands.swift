// A domain administrator's federation commands: register the domain with the SMI, change
// its record there, and propose, accept, terminate or show agreements. Everything sent is signed with
// the domain's administrator key (label domain-admin) and checked again by the SMI.
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto
import SEMFederation
import SEMPolicy
import SEMRegistry

enum FederationCommands {
    /// semctl smi register --smi URL --smi-root FILE --smi-signer FILE [--profile FILE] [--refresh S] [--domain-dir D]
    static func register(_ arguments: ArraySlice<String>) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["domain-dir", "smi", "smi-root", "smi-signer", "refresh", "profile"])
        try parsed.expectPositionals(atMost: 0)
        let directory = try domainDirectory(parsed)
        var settings = FederationSettings(smi: try parsed.required("smi"))
        if let text = parsed.value("refresh") {
            guard let seconds = Double(text), seconds >= 0.2 else { throw UsageError("--refresh must be at least 0.2 seconds.") }
            settings.refreshSeconds = seconds
        }
        let profile = try parsed.value("profile").map(readProfile) ?? DomainProfile()
        // The two SMI certificates come from the SMI operator out of band.
        let sequence = try registerDomain(
            directory, settings: settings, smiRoot: try SMIDirectory.readCertificate(URL(fileURLWithPath: try parsed.required("smi-root"))),
            smiSigner: try SMIDirectory.readCertificate(URL(fileURLWithPath: try parsed.required("smi-signer"))), profile: profile)
        print("\(directory.domain): registration recorded by \(settings.smi) (log entry \(sequence)); "
              + "it enters the trust list once the SMI operator approves it")
        return 0
    }

    /// semctl smi update profile --profile FILE | add-server HOST --smtp H:P --https H:P --certificate FILE
    ///                  | remove-server HOST | roll-key --root FILE   [--domain-dir D]
    /// A change to the domain's record at the SMI, signed by the domain administrator.
    static func update(_ arguments: ArraySlice<String>) throws -> Int32 {
        guard let change = arguments.first else {
            throw UsageError("Expected 'smi update profile|add-server|remove-server|roll-key'.")
        }
        let parsed = try Arguments(arguments.dropFirst(),
                                   options: ["domain-dir", "profile", "smtp", "https", "certificate", "root"])
        let directory = try domainDirectory(parsed)
        guard let settings = try directory.federationSettings() else {
            throw UsageError("The domain \(directory.domain) has not registered with an SMI (semctl smi register).")
        }
        let update: DomainUpdate
        switch change {
        case "profile":
            try parsed.expectPositionals(atMost: 0)
            update = .profile(try readProfile(try parsed.required("profile")), for: directory.domain)
        case "add-server":
            try parsed.expectPositionals(atMost: 1)
            let certificate = try SMIDirectory.readCertificate(URL(fileURLWithPath: try parsed.required("certificate")))
            update = .addServer(TrustedServer(hostName: try parsed.positional(0, "the server's host name").lowercased(),
                                              smtp: try parsed.required("smtp"), https: try parsed.required("https"),
                                              certificate: certificate), for: directory.domain)
        case "remove-server":
            try parsed.expectPositionals(atMost: 1)
            update = .removeServer(try parsed.positional(0, "the server's host name"), for: directory.domain)
        case "roll-key":
            try parsed.expectPositionals(atMost: 0)
            update = .rollKey(try SMIDirectory.readCertificate(URL(fileURLWithPath: try parsed.required("root"))),
                              for: directory.domain)
        default:
            throw UsageError("Unknown command 'smi update \(change)'; expected profile, add-server, remove-server or roll-key.")
        }
        let sequence = try directory.smiClient(settings).update(domain: directory.domain,
                                                                signedRequest: try update.signed(by: administrator(directory)))
        print("\(directory.domain): \(update.change.entryKind.rawValue) recorded by \(settings.smi) (log entry \(sequence)); "
              + "the next trust list carries it")
        return 0
    }

    /// A domain profile from a JSON file (docs/FEDERATION.md §2).
    private static func readProfile(_ file: String) throws -> DomainProfile {
        do { return try JSONDecoder().decode(DomainProfile.self, from: try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
            throw UsageError("The profile \(file) is not a domain profile (docs/FEDERATION.md): \(error)")
        }
    }

    /// Registers the domain's root, mail server and `profile` with the SMI of `settings`,
    /// signed by the domain administrator; keeps copies of the SMI's root and signer
    /// certificates and writes federation.json. Returns the log entry.
    static func registerDomain(_ directory: DomainDirectory, settings: FederationSettings, smiRoot: Certificate,
                               smiSigner: Certificate, profile: DomainProfile = DomainProfile(),
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> UInt64 {
        for (certificate, target) in [(smiRoot, settings.smiRoot), (smiSigner, settings.smiSigner)] {
            try Data(certificate.pemEncoded.utf8).write(to: directory.path(target), options: .atomic)
        }
        let mail = try directory.mailConfiguration()
        let mailCertificate = try directory.certificate(DomainPKI.KeyLabel.server("mail"))
        guard let hostName = mailCertificate.dnsNames.first else {
            throw UsageError("The mail server certificate names no host.")
        }
        let registration = DomainRegistration(
            domain: directory.domain, rootCertificate: try directory.certificate(DomainPKI.KeyLabel.root),
            servers: [TrustedServer(role: "mail", hostName: hostName, smtp: mail.smtp.description,
                                    https: mail.https.description, certificate: mailCertificate)],
            profile: profile)
        let request = try registration.signedRequest(by: administrator(directory, environment: environment))
        let sequence = try directory.smiClient(settings).register(request)
        try directory.writeFederationSettings(settings)
        return sequence
    }

    static func agreement(_ arguments: [String]) throws -> Int32 {
        guard let verb = arguments.first else {
            throw UsageError("Expected 'agreement propose|accept|group|join|terminate|show'.")
        }
        let parsed = try Arguments(arguments.dropFirst(),
                                   options: ["domain-dir", "id", "days", "minimum-assurance", "members", "senders",
                                             "recipients", "return-senders", "return-recipients", "max-attachment",
                                             "algorithms"],
                                   flags: ["one-way", "receipts"])
        try parsed.expectPositionals(atMost: 1)
        let directory = try domainDirectory(parsed)
        guard let settings = try directory.federationSettings() else {
            throw UsageError("The domain \(directory.domain) has not registered with an SMI (semctl smi register).")
        }
        let smi = try directory.smiClient(settings)
        switch verb {
        case "propose":
            let partner = try parsed.positional(0, "the partner domain").lowercased()
            let terms = try terms(parsed, local: directory.domain, partner: partner)
            let sequence = try propose(terms, from: directory, to: smi)
            print("proposed agreement \(terms.id) to \(partner) (log entry \(sequence))")
        case "accept":
            let id = try parsed.positional(0, "the agreement id")
            let (agreement, sequence) = try accept(id, by: directory, settings: settings, at: smi)
            print("accepted agreement \(id) from \(agreement.terms.proposingDomain) (log entry \(sequence))")
        case "group":
            let name = try parsed.positional(0, "the group's name")
            let members = try parsed.required("members").split(separator: ",").map { $0.lowercased() }
            let window = try validity(parsed)
            var group = try MultilateralAgreement(terms: MultilateralTerms(
                id: parsed.value("id") ?? name, name: name, members: Array(Set(members + [directory.domain])).sorted(),
                conditions: try conditions(parsed), notBefore: window.notBefore, notAfter: window.notAfter))
            let list = try currentTrustList(directory, settings, smi)
            try group.join(directory.domain, signer: try administrator(directory),
                           verification: AgreementVerification(roots: list.roots), at: Date())
            let sequence = try smi.formGroup(group)
            print("formed multilateral agreement \(group.terms.id) for \(group.terms.members.joined(separator: ", ")) "
                  + "(log entry \(sequence))")
        case "join":
            var group = try smi.group(id: try parsed.positional(0, "the agreement id"))
            let list = try currentTrustList(directory, settings, smi)
            try group.join(directory.domain, signer: try administrator(directory),
                           verification: AgreementVerification(roots: list.roots), at: Date())
            let sequence = try smi.joinGroup(group)
            print("joined multilateral agreement \(group.terms.id) (log entry \(sequence))")
        case "terminate":
            let id = try parsed.positional(0, "the agreement id")
            let request = try TerminationRequest(agreementId: id, domain: directory.domain).signed(by: administrator(directory))
            let sequence = try smi.terminate(agreementId: id, signedRequest: request)
            print("terminated agreement \(id) (log entry \(sequence))")
        case "show":
            let id = try parsed.positional(0, "the agreement id")
            if let agreement = try? smi.agreement(id: id) {
                print(String(decoding: try CanonicalJSON.encode(agreement.terms), as: UTF8.self))
                print("state: \(agreement.state.rawValue)")
            } else {
                let group = try smi.group(id: id)
                print(String(decoding: try CanonicalJSON.encode(group.terms), as: UTF8.self))
                print("joined: \(group.joinedDomains.joined(separator: ", "))")
            }
        default:
            throw UsageError("Unknown command 'agreement \(verb)'.")
        }
        return 0
    }

    /// Proposes `terms`, signed by the domain administrator; returns the log entry.
    static func propose(_ terms: BilateralTerms, from directory: DomainDirectory, to smi: SMIClient,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> UInt64 {
        try smi.propose(try BilateralAgreement.propose(terms, signer: try administrator(directory, environment: environment)))
    }

    /// Accepts the open proposal `id` made to this domain, after checking the proposer's
    /// signature against the current trust list.
    static func accept(_ id: String, by directory: DomainDirectory, settings: FederationSettings, at smi: SMIClient,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> (BilateralAgreement, UInt64) {
        var agreement = try smi.agreement(id: id)
        guard agreement.terms.acceptingDomain == directory.domain else {
            throw UsageError("Agreement \(agreement.terms.id) is proposed to \(agreement.terms.acceptingDomain), "
                             + "not to \(directory.domain).")
        }
        let list = try currentTrustList(directory, settings, smi)
        try agreement.accept(signer: try administrator(directory, environment: environment),
                             verification: AgreementVerification(roots: list.roots), at: Date())
        return (agreement, try smi.accept(agreement))
    }

    /// The proposal's terms: mail allowed both ways (or only local → partner with
    /// --one-way), for --days days from now. --senders and --recipients narrow the
    /// local → partner direction, --return-senders and --return-recipients the way back;
    /// each takes addresses and patterns (`*@alpha.test`) or, without '@', group names of
    /// the sending or receiving domain's policy. Absent, a direction covers every user.
    static func terms(_ parsed: Arguments, local: String, partner: String) throws -> BilateralTerms {
        let conditions = try conditions(parsed)
        func direction(from: String, to: String, senders: String, recipients: String) throws -> AgreementDirection {
            let (senderPatterns, senderGroups) = try participants(parsed, senders)
            let (recipientPatterns, recipientGroups) = try participants(parsed, recipients)
            return AgreementDirection(from: from, to: to, senders: senderPatterns, senderGroups: senderGroups,
                                      recipients: recipientPatterns, recipientGroups: recipientGroups,
                                      conditions: conditions)
        }
        var directions = [try direction(from: local, to: partner, senders: "senders", recipients: "recipients")]
        if !parsed.flag("one-way") {
            directions.append(try direction(from: partner, to: local, senders: "return-senders",
                                            recipients: "return-recipients"))
        } else if parsed.value("return-senders") != nil || parsed.value("return-recipients") != nil {
            throw UsageError("--return-senders and --return-recipients need both directions; leave out --one-way.")
        }
        let window = try validity(parsed)
        return BilateralTerms(id: parsed.value("id") ?? "\(local)-\(partner)", proposingDomain: local, acceptingDomain: partner,
                              proposer: "admin@\(local)", directions: directions, notBefore: window.notBefore,
                              notAfter: window.notAfter)
    }

    /// Address patterns and group names from a comma-separated option.
    private static func participants(_ parsed: Arguments, _ option: String) throws
        -> (patterns: [AddressPattern], groups: [String]) {
        var patterns: [AddressPattern] = [], groups: [String] = []
        for item in (parsed.value(option) ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
        where !item.isEmpty {
            if item.contains("@") {
                do { patterns.append(try AddressPattern(item)) } catch let error as PolicyError {
                    throw UsageError("--\(option): \(error.reason).")
                }
            } else {
                guard PolicyName.isValid(item) else {
                    throw UsageError("--\(option): \"\(item)\" is neither an address pattern nor a group name.")
                }
                groups.append(item)
            }
        }
        return (patterns, groups)
    }

    /// --minimum-assurance, --receipts, --max-attachment and --algorithms.
    private static func conditions(_ parsed: Arguments) throws -> AgreementConditions {
        let assuranceName = parsed.value("minimum-assurance") ?? "low"
        guard let assurance = SEMPolicy.AssuranceLevel(rawValue: assuranceName) else {
            throw UsageError("--minimum-assurance must be low, substantial or high.")
        }
        let attachments = try parsed.value("max-attachment").map { text -> AttachmentTerms in
            guard let bytes = Int(text), bytes >= 0 else { throw UsageError("--max-attachment must be a number of bytes.") }
            return AttachmentTerms(maximumBytes: bytes)
        }
        let algorithms = (parsed.value("algorithms") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        return AgreementConditions(minimumAssurance: assurance, requiredAlgorithms: algorithms, attachments: attachments,
                                   receiptsRequired: parsed.flag("receipts"))
    }

    /// From a minute ago (clock skew) to --days days (default 365) from now.
    private static func validity(_ parsed: Arguments) throws -> (notBefore: Date, notAfter: Date) {
        let days = try parsed.value("days").map { text -> Int in
            guard let days = Int(text), (1...3650).contains(days) else { throw UsageError("--days must be from 1 to 3650.") }
            return days
        } ?? 365
        let now = Date()
        return (now.addingTimeInterval(-60), now.addingTimeInterval(TimeInterval(days) * 86400))
    }

    /// The SMI's current list, verified against the pinned signer (and adopted, so the
    /// domain's cache moves forward too).
    private static func currentTrustList(_ directory: DomainDirectory, _ settings: FederationSettings,
                                         _ smi: SMIClient) throws -> TrustList {
        let consumer = try TrustListConsumer(pinnedSigner: try SMIDirectory.readCertificate(directory.path(settings.smiSigner)),
                                             cacheURL: directory.path(settings.trustListCache))
        return try consumer.accept(der: try smi.trustList(), at: Date())
    }

    /// The domain administrator's signer, with the issuing CA certificate as its chain.
    static func administrator(_ directory: DomainDirectory,
                                      environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CMSSigner {
        let keyStore = try directory.caConfiguration().keys.open(relativeTo: directory.url, environment: environment)
        return try CMSSigner(key: try keyStore.privateKey(label: DomainPKI.KeyLabel.administrator),
                             certificate: try directory.certificate(DomainPKI.KeyLabel.administrator),
                             chain: [try directory.certificate(DomainPKI.KeyLabel.issuing)])
    }
}
