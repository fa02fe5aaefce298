// sem - the CryptoNET SEM client a person uses every day.
import Foundation
import SEMCommandLine

let usage = """
usage: sem <command> [options]

The CryptoNET SEM mail client: keys on a smart card or in an encrypted key file,
S/MIME sign-then-encrypt end to end, an encrypted local store and address book.
Its files live in $SEM_HOME (default ~/.config/sem).

  enroll --server URL --mail HOST:PORT --root FILE --address ADDR --code CODE
         [--smi-signer FILE] [--token LABEL [--module PATH] | --key-file] [--secret-file FILE]
         [--store-passphrase] [--scanner HOST:PORT]
        make the signing key (on the token, or in an encrypted key file) and the
        encryption key (archived with the CA), and obtain both certificates over EST
        from the enrolment server (https://HOST:PORT or HOST:PORT); --store-passphrase
        locks the local store with its own passphrase (scrypt) instead of the encryption key;
        --scanner names a clamd-compatible scanner every attachment passes before it is saved
  send --to ADDR [--to ADDR]... [--cc ADDR]... --subject TEXT [--body-file FILE]
       [--attach FILE]... [--attach-for ADDR=FILE]... [--receipt] [--json]
        validate each recipient's certificate, sign, encrypt, submit; the body is read
        from standard input without --body-file; --attach-for gives a file to one
        recipient only (that recipient gets a letter of its own with it)
  sync                      fetch new mail and notifications into the local store
  inbox [--json]            decrypted summaries with the signature verdict
  read ID [--no-receipt] [--json]
        the letter, its signer and verdict, its attachments; sends a requested receipt
  attachment save ID N PATH fetch attachment N on demand, check it, save it
  receipts [--json]         delivery notifications and signed receipts, verified
  contacts add NAME ADDRESS | list [--json] | remove ADDRESS | export
  report ID [--reason TEXT] [--json]
                            report a letter as abuse to the domain's administrator, who
                            may suspend the sender

Secrets: the key-file passphrase from $SEM_KEY_PASSPHRASE, the token PIN from
$SEM_TOKEN_PIN, the store passphrase from $SEM_STORE_PASSPHRASE, or the file given with
--secret-file at enrolment; on a terminal, whatever is missing is asked for. Every verification
failure stops the command with one line naming the reason (exit 1); usage errors exit 2.
"""

let arguments = Array(CommandLine.arguments.dropFirst())
CommandRunner.run(program: "sem", usage: usage) {
    guard let command = arguments.first else { throw UsageError("No command given.") }
    let rest = Array(arguments.dropFirst())
    switch command {
    case "help", "-h", "--help":
        print(usage)
        return 0
    case "enroll": return try ClientCommands.enroll(rest)
    case "send": return try ClientCommands.send(rest)
    case "sync": return try ClientCommands.sync(rest)
    case "inbox": return try ClientCommands.inbox(rest)
    case "read": return try ClientCommands.read(rest)
    case "attachment": return try ClientCommands.attachment(rest)
    case "receipts": return try ClientCommands.receipts(rest)
    case "contacts": return try ClientCommands.contacts(rest)
    case "report": return try ClientCommands.report(rest)
    default: throw UsageError("Unknown command '\(command)'.")
    }
}
