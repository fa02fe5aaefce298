// semd - the CryptoNET SEM daemon: one role per process.
import Foundation
import SEMCommandLine

let usage = """
usage: semd <role> --config FILE [--log-level LEVEL]

Runs one CryptoNET SEM server role until SIGTERM or SIGINT, then shuts down gracefully:
  ca     the domain's certificate authority: EST enrolment and the directory over HTTPS,
         CRL and OCSP over HTTP (FILE is the domain's ca.json)
  pdp    the domain's policy decision point: decisions over HTTPS for the domain's
         servers, which authenticate with their certificates (FILE is pdp.json); with
         federation.json beside it, partners and agreements come from the SMI's trust list
  mail   the domain's mail server: the client API over HTTPS (client certificates),
         SMTP with STARTTLS from registered servers, and the outbound queue (FILE is
         mail.json; with federation.json it follows the SMI's trust list)
  smi    the federation registry: trust list, registrations, agreements and the log over
         HTTPS, as leader or as a follower of one (FILE is smi.json)

The keys are unlocked with $SEM_KEY_PASSPHRASE (key files) or $SEM_TOKEN_PIN (token),
or the secret file the configuration names. When a role is ready it prints one line
"semd <role> ready ..." on standard output with the addresses it serves.
"""

// A parent that handles SIGTERM and SIGINT itself (semctl demo does, through dispatch
// sources) sets them to be ignored, and an ignored signal stays ignored across exec
// (POSIX.1-2017, exec: "Signals set to be ignored by the calling process image shall be
// set to be ignored by the new process image"). Until the role is ready and installs
// its own handling, the default action must apply, or a semd still starting could not
// be stopped at all.
signal(SIGTERM, SIG_DFL)
signal(SIGINT, SIG_DFL)

let arguments = Array(CommandLine.arguments.dropFirst())
CommandRunner.run(program: "semd", usage: usage) {
    guard let role = arguments.first else { throw UsageError("No role given.") }
    if ["help", "-h", "--help"].contains(role) {
        print(usage)
        return 0
    }
    let parsed = try Arguments(arguments.dropFirst(), options: ["config", "log-level"])
    try parsed.expectPositionals(atMost: 0)
    let options = try DaemonOptions(parsed)
    switch role {
    case "ca": return try CARole.run(options)
    case "pdp": return try PDPRole.run(options)
    case "smi": return try SMIRole.run(options)
    case "mail": return try MailRole.run(options)
    default: throw UsageError("Unknown role '\(role)'.")
    }
}
