// POSIX file handling for key files: a private directory, crash-safe creation of a
// new file, and reading a file only when no other user can read or change it.
//
// Why not Foundation's `Data.write(options: .atomic)`: it creates the file with the
// process umask and would need a chmod afterwards (a window in which the key file is
// readable by others), and it silently replaces an existing file. Here a new file is
// created with O_CREAT|O_EXCL and mode 0600 from the first moment, synced, and then
// hard-linked to its final name, which fails if that name exists. A crash leaves
// either no key file or a complete one, and at worst a hidden temporary file.
//
// Known limits: the hard link needs a file system that supports links (every local
// Linux one does; some network and FAT mounts do not, and writing then fails with a
// clear error). Deleting a key unlinks the file without overwriting it: on journaling
// file systems and SSDs overwriting in place gives no guarantee, and the content is
// encrypted anyway.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum KeyFileIO {
    /// Upper bound for a key file; an encrypted RSA-8192 PKCS#8 PEM is about 7 KB.
    static let maximumFileSize = 64 * 1024

    /// Creates `directory` with mode 0700 (parents as needed), or checks that an
    /// existing one is a directory that other users cannot write to.
    static func preparePrivateDirectory(_ directory: URL) throws {
        let path = directory.path
        let parent = directory.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: parent.path) {
            do {
                try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            } catch {
                throw CryptoError(.fileSystem, "The directory \(parent.path) could not be created.",
                                  detail: "\(error)")
            }
        }
        if mkdir(path, 0o700) == 0 { return }
        let failure = errno
        guard failure == EEXIST else { throw systemError("The key directory \(path) could not be created", failure) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw systemError("The key directory \(path) cannot be examined", errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw CryptoError(.fileSystem, "\(path) exists and is not a directory.")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw CryptoError(.fileSystem, "The key directory \(path) is writable by other users "
                              + "(mode \(octal(info.st_mode))); run `chmod 700` on it.")
        }
    }

    /// Writes `bytes` to `path`, which must not exist yet. The file has mode 0600
    /// from creation; its content and the directory entry are synced to disk.
    /// Throws `.invalidArgument` when `path` already exists.
    static func createNewFile(at path: String, bytes: [UInt8]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        // The leading dot keeps the temporary file out of `labels()`: labels never start with '.'.
        let temporary = directory + "/." + name + "." + SecureRandom.identifier(bytes: 8) + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw systemError("A new key file could not be created in \(directory)", errno) }
        var linked = false
        defer {
            // On success the temporary name goes away after the link; on failure the
            // half-written file goes too.
            unlink(temporary)
            if linked { syncDirectory(directory) }
        }
        do {
            defer { close(descriptor) }
            try writeAll(descriptor, bytes, path: temporary)
            guard fsync(descriptor) == 0 else { throw systemError("The key file could not be synced to disk", errno) }
        }
        guard link(temporary, path) == 0 else {
            let failure = errno
            if failure == EEXIST {
                throw CryptoError(.invalidArgument, "\(path) already exists; a key file is never overwritten.")
            }
            throw systemError("The key file \(path) could not be put in place", failure)
        }
        linked = true
    }

    /// Reads a key file that only its owner may read or write, like ssh does for
    /// private keys. Returns nil when the file does not exist.
    static func readOwnerOnlyFile(at path: String) throws -> [UInt8]? {
        // O_NOFOLLOW: a symbolic link planted in the key directory is refused.
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            let failure = errno
            if failure == ENOENT { return nil }
            if failure == ELOOP {
                throw CryptoError(.fileSystem, "\(path) is a symbolic link; key files must be plain files.")
            }
            throw systemError("The key file \(path) could not be opened", failure)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw systemError("The key file \(path) cannot be examined", errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw CryptoError(.fileSystem, "\(path) is not a regular file.") }
        guard info.st_uid == geteuid() else {
            throw CryptoError(.fileSystem,
                              "The key file \(path) belongs to another user (uid \(info.st_uid)); it is not used.")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CryptoError(.fileSystem, "The key file \(path) is accessible to other users (mode "
                              + "\(octal(info.st_mode))); it is not used until you run `chmod 600` on it.")
        }
        guard info.st_size <= maximumFileSize else {
            throw CryptoError(.malformedInput, "The key file \(path) is larger than \(maximumFileSize) bytes.")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw systemError("The key file \(path) could not be read", errno) }
            filled += count
        }
        return bytes
    }

    /// Removes `path`; false when it did not exist.
    static func removeFile(at path: String) throws -> Bool {
        guard unlink(path) == 0 else {
            let failure = errno
            if failure == ENOENT { return false }
            throw systemError("The key file \(path) could not be removed", failure)
        }
        syncDirectory((path as NSString).deletingLastPathComponent)
        return true
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw systemError("The key file could not be written", errno) }
            written += count
        }
    }

    /// Makes a created or removed directory entry durable (a rename or link is only on
    /// disk once the directory itself is synced). Failure here is not reported: the
    /// file content is already synced, and some file systems refuse fsync on directories.
    private static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func octal(_ mode: mode_t) -> String { String(mode & 0o7777, radix: 8) }

    private static func systemError(_ what: String, _ code: Int32) -> CryptoError {
        CryptoError(.fileSystem, what + ": " + String(cString: strerror(code)) + ".")
    }
}
