// semctl - CryptoNET SEM administration and the loopback demonstration.
import Foundation

let usage = """
usage: semctl <command> [options]

Administers a CryptoNET SEM installation:
  domain     create a security domain (CA, policy, server certificates)
  user       add users and issue one-time enrolment codes
  cert       revoke certificates
  policy     manage the policy decision point's rules
  smi        run the federation registry: approve domains, agreements
  recovery   M-of-N key recovery
  audit      verify the signed audit chain
  demo       start a whole federation on loopback and walk a letter through it

This build provides the cryptographic foundation only; the commands above are not
available yet.
"""

let arguments = CommandLine.arguments.dropFirst()
if arguments.isEmpty || ["help", "-h", "--help"].contains(arguments.first!) {
    print(usage)
    exit(arguments.isEmpty ? 64 : 0)
}
FileHandle.standardError.write(Data("semctl: '\(arguments.first!)' is not available in this build; see 'semctl help'.\n".utf8))
exit(64)
