// semctl - CryptoNET SEM administration.
import Foundation
import SEMCommandLine

let usage = """
usage: semctl <command> [options]

  domain init DOMAIN [--dir PARENT] [--host HOST] [--secret-file FILE]
                     [--token LABEL --module PATH] [--mail-https-port P] [--smtp-port P]
                     [--ca-https-port P] [--ca-http-port P] [--pdp-port P]
        create a security domain: root and issuing CA, OCSP responder, key archive,
        TLS certificates for the mail, CA and PDP servers, a default policy and one
        JSON configuration per role (keys encrypted with $SEM_KEY_PASSPHRASE or the
        secret file, or generated on a PKCS#11 token with the PIN in $SEM_TOKEN_PIN)
  user add ADDRESS [--assurance low|substantial|high] [--code-days N | --code-lifetime SECONDS]
                   [--domain-dir DIR]
        register a user and print a one-time enrolment code
  user code ADDRESS [--code-days N | --code-lifetime SECONDS] [--domain-dir DIR]
        print a fresh enrolment code for an existing user
  cert revoke SERIAL|ADDRESS --reason REASON [--domain-dir DIR]
        revoke one certificate, or every certificate of an address
  cert verify CERT --anchor FILE [--anchor FILE]... [--untrusted FILE]... [--crl FILE]...
              [--ocsp-response FILE]... [--purpose smime-sign|smime-encrypt|tls-server|tls-client]
              [--ocsp] [--at TIME] [--soft-fail]
        validate a certificate path; --ocsp asks the OCSP responders named in the
        certificates (with their CRLs as the fallback); exit 0 when valid, 1 when
        invalid, 2 on usage errors
  demo [--keep DIR] [--serve] [--base-port N] [--semd PATH]
        a whole federation on loopback: an SMI and two domains, each with CA, PDP and
        mail server as separate semd processes; registration, approval and an agreement
        through the SMI; alice@alpha.test (signing key on a SoftHSM2 token when SoftHSM2
        is installed), bob@beta.test and dave@alpha.test enrolled over EST; a signed,
        encrypted letter with a 4 MiB attachment delivered between the mail servers over
        SMTP, read and verified, a delivery notification and a signed receipt back; a
        refused program, a sender the policy forbids, a refused unregistered server, a
        revoked certificate. One line per step; exit 0 only when every step had the
        expected outcome. --keep leaves the files (with MANIFEST.json) in DIR, --serve
        prints every endpoint and keeps the servers running until Ctrl-C. The ports are
        free ones, or N, N+1, ... N+10 with --base-port; semd is the one next to semctl
        unless --semd names another
  smi init [--dir DIR] [--host HOST] [--port P] [--lifetime SECONDS] [--secret-file FILE]
        create the SMI (federation registry): its root, the registry signer whose
        certificate (pki/smi.pem) every domain pins, its TLS certificate and empty log
  smi follower DIR --leader URL [--smi-dir LEADER_DIR] [--host HOST] [--port P] [--interval S]
        create a follower SMI that replicates the leader's log and trust lists
  smi approve DOMAIN [--reason TEXT] [--smi-dir DIR]
  smi suspend DOMAIN --reason TEXT [--smi-dir DIR]
        let a registered domain into the trust list, or take it out
  smi list [--smi-dir DIR]       domains, agreements and the last trust list
  smi verify [--smi-dir DIR]     re-check every signature and hash link of the log
  smi reports [--smi-dir DIR]    abuse reports member domains filed about other domains' senders
  smi register --smi URL --smi-root FILE --smi-signer FILE [--profile FILE] [--refresh S]
               [--domain-dir DIR]
        register the domain (root, mail server, profile: JSON as in docs/FEDERATION.md,
        defaults otherwise) with the SMI, signed by the domain administrator; writes
        federation.json, which the PDP then follows
  smi update profile --profile FILE [--domain-dir DIR]
  smi update add-server HOST --smtp HOST:PORT --https HOST:PORT --certificate FILE [--domain-dir DIR]
  smi update remove-server HOST [--domain-dir DIR]
  smi update roll-key --root FILE [--domain-dir DIR]
        change the domain's record at the SMI (profile, servers, root certificate), signed
        by the domain administrator under the root the SMI holds; the next trust list
        carries the change
  agreement propose PARTNER [--id ID] [--days N] [--one-way] [--receipts]
                    [--minimum-assurance low|substantial|high] [--max-attachment BYTES]
                    [--algorithms NAME,...] [--senders WHO,...] [--recipients WHO,...]
                    [--return-senders WHO,...] [--return-recipients WHO,...] [--domain-dir DIR]
  agreement accept ID [--domain-dir DIR]
  agreement group NAME --members DOMAIN,... [--id ID] [--days N] [--receipts]
                  [--minimum-assurance low|substantial|high] [--max-attachment BYTES]
                  [--algorithms NAME,...] [--domain-dir DIR]
  agreement join ID [--domain-dir DIR]
  agreement terminate ID [--domain-dir DIR]
  agreement show ID [--domain-dir DIR]
        bilateral and multilateral agreements through the SMI, signed by the domain
        administrator; a multilateral agreement is in force among the members that joined.
        --senders/--recipients narrow mail to the partner, --return-senders/
        --return-recipients mail back; WHO is an address, a pattern (*@alpha.test) or a
        group of the policy; --algorithms names algorithms mail must use (AES-256-GCM, ...)
  recovery officers set --threshold M CERT... [--actor-cert FILE] [--domain-dir DIR]
        split a new recovery key among the officers whose encryption certificates are
        given (any M of them recover); archived keys are re-wrapped to it
  recovery request --user ADDRESS --reason TEXT [--requester-cert FILE] [--domain-dir DIR]
        open a request to recover a user's archived encryption keys; prints its id
  recovery approve ID --officer-cert FILE (--officer-key FILE | --token LABEL [--module PATH]
                   [--key-label LABEL]) [--domain-dir DIR]
        an officer contributes a share, if the domain policy permits recover-key (key file
        passphrase in $SEM_OFFICER_PASSPHRASE, token PIN in $SEM_OFFICER_PIN)
  recovery export ID --out DIR [--to CERT] [--actor-cert FILE] [--domain-dir DIR]
        with M approvals: recover the keys and export the user's mailbox, each letter
        decrypted into DIR as NNNN.eml, or with --to re-encrypted to CERT (NNNN.eml.p7m)
  audit verify [--domain-dir DIR]
        check every signature and hash link of the recovery audit log; exit 0 when
        valid, 1 when broken (with the record and the reason)
  audit show [--domain-dir DIR]   the audit records, one line each
  report list [--domain-dir DIR]
        the abuse reports users filed with sem report
  report file ID [--domain-dir DIR]
        file a report about another domain's sender with the SMI, signed as the domain's
        administrator
  sender suspend ADDRESS | restore ADDRESS | list [--domain-dir DIR]
        add or remove a sender in the policy group suspended-senders (the PDP's facts
        file); the default policy refuses their mail, local or arriving, within seconds
  policy check POLICY REQUEST [--json]
        explain the decision POLICY gives REQUEST (both JSON, see docs/POLICY.md): every
        rule, whether it matched or the first clause that failed, and the decision;
        a malformed policy or request is refused with its JSON path and the reason

The domain directory is --domain-dir, or $SEM_DOMAIN_DIR; the SMI directory is --smi-dir,
or $SEM_SMI_DIR.
"""

var arguments = Array(CommandLine.arguments.dropFirst())
CommandRunner.run(program: "semctl", usage: usage) {
    guard let command = arguments.first else { throw UsageError("No command given.") }
    let rest = Array(arguments.dropFirst())
    switch command {
    case "help", "-h", "--help":
        print(usage)
        return 0
    case "domain": return try DomainCommands.run(rest)
    case "user": return try UserCommands.run(rest)
    case "cert": return try CertCommands.run(rest)
    case "policy": return try PolicyCommands.run(rest)
    case "recovery": return try RecoveryCommands.run(rest)
    case "audit": return try AuditCommands.run(rest)
    case "demo": return try DemoCommand.run(rest)
    case "smi": return try SMICommands.run(rest)
    case "agreement": return try FederationCommands.agreement(rest)
    case "report": return try ReportCommands.report(rest)
    case "sender": return try ReportCommands.sender(rest)
    default: throw UsageError("Unknown command '\(command)'.")
    }
}
