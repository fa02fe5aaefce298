// semd - the CryptoNET SEM daemon: one role per process (mail, ca, pdp, smi).
import Foundation

let usage = """
usage: semd <role> --config FILE

Runs one CryptoNET SEM server role:
  mail   the domain's mail server (client API, mailboxes, SMTP in and out)
  ca     the domain's certificate authority (EST, CRL, OCSP, directory, key archive)
  pdp    the domain's policy decision point
  smi    the federation registry and its signed trust list

This build provides the cryptographic foundation only; no role can be started yet.
"""

let arguments = CommandLine.arguments.dropFirst()
if arguments.isEmpty || ["help", "-h", "--help"].contains(arguments.first!) {
    print(usage)
    exit(arguments.isEmpty ? 64 : 0)
}
FileHandle.standardError.write(Data("semd: role '\(arguments.first!)' is not available in this build; see 'semd help'.\n".utf8))
exit(64)
