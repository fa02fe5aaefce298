// The key-store interface (architecture R4): one way to create and use private keys,
// whether they sit in an encrypted key file or on a PKCS#11 token. Callers sign and
// decrypt with the `PrivateKey` a store hands out and never ask where it lives.

/// A place that holds named private keys.
public protocol KeyStore: Sendable, CustomStringConvertible {
    /// Creates a key under `label`. Fails if the label is taken.
    func generateKey(label: String, algorithm: KeyAlgorithm) throws -> PrivateKey

    /// Loads the key stored under `label`.
    func privateKey(label: String) throws -> PrivateKey

    /// Labels of every key in the store, sorted.
    func labels() throws -> [String]

    /// Removes the key under `label`. Fails if there is none.
    func deleteKey(label: String) throws
}

extension KeyStore {
    /// Checks that a label is usable as a file name and as a PKCS#11 object label:
    /// 1 to 64 characters from letters, digits, '.', '-' and '_', not starting with '.'.
    public static func validate(label: String) throws {
        let allowed = label.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard !label.isEmpty, label.utf8.count <= 64, allowed, !label.hasPrefix(".") else {
            throw CryptoError(.invalidArgument,
                              "A key label must be 1-64 letters, digits, '.', '-' or '_' and must not start with '.'.")
        }
    }
}
