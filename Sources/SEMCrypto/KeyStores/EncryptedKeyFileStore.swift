// A key store in a directory of encrypted PKCS#8 files, for users without a token
// (architecture R4). Each key is `<label>.key.pem`, an `ENCRYPTED PRIVATE KEY` (RFC 5958
// §3) sealed with PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018 §6.2). Files have
// mode 0600, the directory 0700, and a file others can read is refused, as ssh does.
//
// One passphrase opens every key of a store. Changing it (re-encrypting every file)
// is not offered yet.
public import Foundation

/// Private keys kept as passphrase-encrypted PKCS#8 PEM files in one directory.
///
/// The store holds no open files or mutable state, so it may be shared between
/// threads. Two writers racing for one label cannot both succeed: a key file is
/// never replaced.
public struct EncryptedKeyFileStore: KeyStore {
    /// The directory holding the key files.
    public let directory: URL
    /// PBKDF2 iterations used when a key is written (reading takes the count from the file).
    public let iterations: Int
    private let passphrase: Secret

    /// File name suffix of every key file.
    public static let fileSuffix = ".key.pem"

    /// Opens the store in `directory`, creating it with mode 0700 if needed.
    ///
    /// - Parameters:
    ///   - passphrase: protects every key the store writes and opens; must not be empty.
    ///   - iterations: PBKDF2-HMAC-SHA256 iterations for keys written from now on;
    ///     at least 10,000.
    /// - Throws: `.invalidArgument` for an empty passphrase or too few iterations,
    ///   `.fileSystem` when the directory cannot be created or other users can write to it.
    public init(directory: URL, passphrase: Secret,
                iterations: Int = PrivateKey.defaultKDFIterations) throws {
        guard !passphrase.isEmpty else { throw CryptoError(.invalidArgument, "An empty passphrase protects nothing.") }
        guard iterations >= 10_000 else {
            throw CryptoError(.invalidArgument, "At least 10,000 PBKDF2 iterations are required (got \(iterations)).")
        }
        try KeyFileIO.preparePrivateDirectory(directory)
        self.directory = directory.standardizedFileURL
        self.passphrase = passphrase
        self.iterations = iterations
    }

    public var description: String { "encrypted key files in \(directory.path)" }

    /// Where the key labelled `label` is (or would be) stored.
    public func fileURL(label: String) throws -> URL {
        try Self.validate(label: label)
        return directory.appendingPathComponent(label + Self.fileSuffix, isDirectory: false)
    }

    /// Generates a key in memory and stores it encrypted under `label`.
    /// - Throws: `.invalidArgument` when the label is malformed or already used.
    public func generateKey(label: String, algorithm: KeyAlgorithm) throws -> PrivateKey {
        // Checked first so that a taken label costs no RSA generation; the write
        // itself refuses a label taken in the meantime.
        try refuseExisting(label: label)
        let key = try PrivateKey.generate(algorithm)
        try write(key, label: label)
        return key
    }

    /// Stores an existing in-memory key under `label`.
    /// - Throws: `.invalidArgument` when the label is malformed or already used,
    ///   `.keyNotExtractable` for a key that lives on a token.
    public func importKey(_ key: PrivateKey, label: String) throws {
        try refuseExisting(label: label)
        try write(key, label: label)
    }

    /// Opens the key stored under `label`.
    /// - Throws: `.keyNotFound`, `.wrongPassphrase`, `.fileSystem` for a file other
    ///   users can read or write, `.malformedInput` for a file that is not an
    ///   encrypted PKCS#8 key.
    public func privateKey(label: String) throws -> PrivateKey {
        let url = try fileURL(label: label)
        // The file holds only ciphertext, so its bytes need no wiping.
        guard let bytes = try KeyFileIO.readOwnerOnlyFile(at: url.path) else {
            throw CryptoError(.keyNotFound, "No key labelled '\(label)' in \(directory.path).")
        }
        guard let pem = String(bytes: bytes, encoding: .utf8),
              pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") else {
            // A clear key file would open with any passphrase: refuse it outright.
            throw CryptoError(.malformedInput, "\(url.path) is not an encrypted PKCS#8 private key.")
        }
        return try PrivateKey(pemEncoded: pem, passphrase: passphrase)
    }

    /// Labels of the key files in the directory, sorted. Files whose names are not
    /// valid labels (temporary files, editor backups) are ignored.
    public func labels() throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw CryptoError(.fileSystem, "The key directory \(directory.path) could not be listed.",
                              detail: "\(error)")
        }
        return names.compactMap { name -> String? in
            guard name.hasSuffix(Self.fileSuffix) else { return nil }
            let label = String(name.dropLast(Self.fileSuffix.count))
            return (try? Self.validate(label: label)) == nil ? nil : label
        }.sorted()
    }

    /// Removes the key file for `label`.
    /// - Throws: `.keyNotFound` when there is none.
    public func deleteKey(label: String) throws {
        let url = try fileURL(label: label)
        guard try KeyFileIO.removeFile(at: url.path) else {
            throw CryptoError(.keyNotFound, "No key labelled '\(label)' in \(directory.path).")
        }
    }

    private func refuseExisting(label: String) throws {
        let url = try fileURL(label: label)
        var info = stat()
        if lstat(url.path, &info) == 0 {
            throw CryptoError(.invalidArgument, "A key labelled '\(label)' already exists in \(directory.path).")
        }
    }

    private func write(_ key: PrivateKey, label: String) throws {
        let url = try fileURL(label: label)
        let pem = try key.encryptedPKCS8PEM(passphrase: passphrase, iterations: iterations)
        do {
            try KeyFileIO.createNewFile(at: url.path, bytes: Array(pem.utf8))
        } catch let error as CryptoError where error.code == .invalidArgument {
            throw CryptoError(.invalidArgument, "A key labelled '\(label)' already exists in \(directory.path).")
        }
    }
}
