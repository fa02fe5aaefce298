// sem - the CryptoNET SEM client a person uses every day.
import Foundation

let usage = """
usage: sem <command> [options]

The CryptoNET SEM mail client: keys on a smart card or in an encrypted key file,
S/MIME sign-then-encrypt end to end, an encrypted local store and address book.

commands (arriving with the client layer):
  enroll     obtain signing and encryption certificates with a one-time code
  send       sign, encrypt and submit a letter
  sync       fetch new mail from the server
  inbox      list decrypted summaries
  read       show a letter with its signature verdict
  contacts   manage the encrypted address book
  help       show this text

This build provides the cryptographic foundation only; the commands above are not
available yet.
"""

let arguments = CommandLine.arguments.dropFirst()
if arguments.isEmpty || ["help", "-h", "--help"].contains(arguments.first!) {
    print(usage)
    exit(arguments.isEmpty ? 64 : 0)
}
FileHandle.standardError.write(Data("sem: '\(arguments.first!)' is not available in this build; see 'sem help'.\n".utf8))
exit(64)
