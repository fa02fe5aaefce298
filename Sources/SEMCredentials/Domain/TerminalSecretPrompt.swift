// Asking a person for a passphrase or PIN on the controlling terminal, with echo off.
// Used only when neither the environment nor a secret file supplies it, and only when
// standard input is a terminal, so scripts never hang on a prompt.
import Foundation
public import SEMCrypto
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum TerminalSecretPrompt {
    /// Answers already typed in this process, by what they unlock: a key-file directory
    /// and its encryption key are opened more than once by one command.
    private static let answers = Mutex<[String: [UInt8]]>([:])

    /// The typed secret, or nil when there is no terminal to ask on.
    public static func ask(_ prompt: String, rememberAs key: String) -> Secret? {
        if let known = answers.withLock({ $0[key] }) { return Secret(known) }
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { return nil }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        _ = tcsetattr(tty, TCSAFLUSH, &silent)
        defer {
            _ = tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        var typed: [UInt8] = []
        var byte: UInt8 = 0
        // Bounded: a passphrase longer than 1 KiB is not typed by a person.
        while typed.count < 1024, read(tty, &byte, 1) == 1, byte != 0x0A, byte != 0x0D { typed.append(byte) }
        guard !typed.isEmpty else { return nil }
        answers.withLock { $0[key] = typed }
        return Secret(typed)
    }
}
