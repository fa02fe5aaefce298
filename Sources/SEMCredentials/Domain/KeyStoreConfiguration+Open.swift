// Opening the key store a configuration names, with its secret taken from the
// environment or a protected file, never from the configuration itself.
public import Foundation
public import SEMCrypto

extension KeyStoreConfiguration {
    /// Opens the store; relative paths are resolved against `base` (the domain directory).
    public func open(relativeTo base: URL, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> any KeyStore {
        let secret = try readSecret(relativeTo: base, environment: environment)
        switch kind {
        case .file:
            let directory = base.appendingPathComponent(self.directory ?? "keys", isDirectory: true)
            return try EncryptedKeyFileStore(directory: directory, passphrase: secret)
        case .pkcs11:
            guard let module, let token else {
                throw CredentialsError(.configurationInvalid, "A pkcs11 key store needs both a module and a token.")
            }
            return try PKCS11TokenStore(modulePath: module, tokenLabel: token, pin: secret)
        }
    }

    /// The passphrase or PIN: the environment variable if set, otherwise the secret file,
    /// which must not be readable by group or others; without either, typed at the terminal.
    func readSecret(relativeTo base: URL, environment: [String: String]) throws -> Secret {
        if let value = environment[secretEnvironmentVariable], !value.isEmpty { return Secret(value) }
        guard let secretFile else {
            let what = kind == .pkcs11 ? "PIN of token \(token ?? "")" : "passphrase of the key files"
            if let typed = TerminalSecretPrompt.ask("Enter the \(what): ", rememberAs: secretEnvironmentVariable) {
                return typed
            }
            throw CredentialsError(.configurationInvalid,
                                   "Set \(secretEnvironmentVariable), name a secret file, or run on a terminal to type "
                                   + "the secret that unlocks the keys.")
        }
        let url = secretFile.hasPrefix("/") ? URL(fileURLWithPath: secretFile) : base.appendingPathComponent(secretFile)
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue else {
            throw CredentialsError(.configurationInvalid, "The secret file \(url.path) cannot be read.")
        }
        guard mode & 0o077 == 0 else {
            throw CredentialsError(.configurationInvalid,
                                   "The secret file \(url.path) is readable by others; make it mode 0600.")
        }
        var text = try String(contentsOf: url, encoding: .utf8)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return Secret(text)
    }
}
