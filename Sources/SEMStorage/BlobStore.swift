// BlobStore - a content-addressed directory for ciphertext blobs (architecture §6).
//
// Layout: <root>/<first two hex digits>/<64 hex digits>, where the name is the
// lower-case hex SHA-256 of the content, and <root>/tmp/ for writes in progress.
//
// Durability: content goes to a new temporary file (mode 0600, O_EXCL), which is
// fsynced, renamed into place, and the directory holding it fsynced; only then does
// `put` return. A crash leaves either the whole blob or a leftover temporary file
// (see `removeStaleTemporaryFiles`), never a partial blob under its final name.
// Putting content that is already stored keeps the existing file, so `put` is
// idempotent and safe to run from several threads or processes at once: each writer
// has its own temporary file, and a rename replaces a name atomically.
//
// Known shortcomings: ranged reads are not checked against the digest (that needs the
// whole content); a blob damaged on disk is only detected when read in full.
#if canImport(Glibc)
import Glibc
#endif
public import Foundation
import SEMCrypto
public import SEMLogging

/// The name of a blob: the lower-case hex SHA-256 of its content.
public struct BlobID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// 64 lower-case hex digits.
    public let hex: String

    /// Validates `hex` (64 hex digits, either case); anything else is refused, so that an
    /// id taken from a request can never name a path outside the store.
    public init(hex: String) throws {
        let lower = hex.lowercased()
        let isHexDigit = { (byte: UInt8) in (48...57).contains(byte) || (97...102).contains(byte) }
        guard lower.utf8.count == 64, lower.utf8.allSatisfy(isHexDigit) else {
            throw StorageError(.invalidArgument, "A blob id must be 64 hexadecimal digits.")
        }
        self.hex = lower
    }

    /// The id of a SHA-256 digest (32 bytes).
    init(digest: Data) {
        precondition(digest.count == 32, "SHA-256 digests are 32 bytes")
        hex = digest.hexString
    }

    /// The id `content` would be stored under.
    public static func of(_ content: some DataProtocol) -> BlobID { BlobID(digest: Digest.sha256(content)) }

    public var description: String { hex }

    public static func < (lhs: BlobID, rhs: BlobID) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        try self.init(hex: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// A content-addressed blob directory. Safe to use from any thread: it holds no mutable
/// state, and every write goes through its own temporary file.
public struct BlobStore: Sendable {
    /// The chunk size for streaming reads, writes and hashing.
    public static let chunkSize = 64 * 1024
    /// The largest blob `read(_:)` loads into memory unless told otherwise.
    public static let defaultReadLimit = 64 * 1024 * 1024

    /// The store's directory.
    public let root: URL
    let rootPath: String
    let temporaryPath: String
    let logger: Logger

    /// Opens the store at `root`, creating it and its tmp directory (mode 0700) if needed.
    public init(root: URL, logger: Logger = .disabled) throws {
        self.root = root.standardizedFileURL
        rootPath = self.root.path
        temporaryPath = rootPath + "/tmp"
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw StorageError(.ioFailure, "The blob directory could not be created.", detail: "\(rootPath): \(error)")
        }
        guard FileSystem.isDirectory(rootPath) else {
            throw StorageError(.ioFailure, "The blob store root is not a directory.", detail: rootPath)
        }
        // All 256 shard directories exist from the start, so no `put` depends on another
        // writer's directory creation having reached the disk.
        var created = try FileSystem.makeDirectory(temporaryPath)
        for byte in 0...255 {
            created = try FileSystem.makeDirectory("\(rootPath)/\(Data([UInt8(byte)]).hexString)") || created
        }
        if created { try FileSystem.syncDirectory(rootPath) }
    }

    /// The file that holds (or would hold) the blob `id`.
    public func path(for id: BlobID) -> String { "\(directory(for: id))/\(id.hex)" }

    func directory(for id: BlobID) -> String { "\(rootPath)/\(id.hex.prefix(2))" }

    // MARK: Writing

    /// Stores `content` and returns its id; content already present is left as it is.
    @discardableResult
    public func put(_ content: Data) throws -> BlobID {
        let id = BlobID.of(content)
        if try storedSize(id) == Int64(content.count) {
            // Synced for the same reason as in `TemporaryBlobFile.commit`.
            try FileSystem.syncDirectory(directory(for: id))
            return id
        }
        let temporary = try TemporaryBlobFile(store: self)
        try temporary.file.write(content)
        try temporary.commit(as: id, size: Int64(content.count))
        return id
    }

    // MARK: Reading

    /// The whole content of `id`, checked against its digest.
    ///
    /// - Throws: `notFound`; `tooLarge` above `limit` (use `open(_:)` to stream);
    ///   `integrityFailure` when the bytes on disk no longer match the id.
    public func read(_ id: BlobID, limit: Int = BlobStore.defaultReadLimit) throws -> Data {
        let reader = try open(id)
        guard reader.size <= Int64(limit) else {
            throw StorageError(.tooLarge, "Blob \(id) is \(reader.size) bytes; the limit for reading it whole is "
                               + "\(limit). Read it in chunks instead.")
        }
        var content = Data(capacity: Int(reader.size))
        while let chunk = try reader.read() { content.append(chunk) }
        return content
    }

    /// Whether `id` is stored.
    public func exists(_ id: BlobID) -> Bool { (try? storedSize(id)) != nil }

    /// The size in bytes of `id`; throws `notFound` when it is not stored.
    public func size(_ id: BlobID) throws -> Int64 {
        guard let size = try storedSize(id) else {
            throw StorageError(.notFound, "Blob \(id) is not stored.")
        }
        return size
    }

    /// Removes `id`; returns false when it was not stored. The removal is durable on return.
    @discardableResult
    public func delete(_ id: BlobID) throws -> Bool {
        guard try FileSystem.remove(path(for: id)) else { return false }
        try FileSystem.syncDirectory(directory(for: id))
        return true
    }

    /// Removes temporary files last modified more than `age` seconds ago: the leftovers
    /// of writes interrupted by a crash. Choose an age well above the longest upload, as
    /// a write in progress whose file is removed fails (safely) when it renames.
    ///
    /// - Returns: how many files were removed.
    @discardableResult
    public func removeStaleTemporaryFiles(olderThan age: TimeInterval) throws -> Int {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: temporaryPath)
        } catch {
            throw StorageError(.ioFailure, "The temporary directory could not be listed.",
                               detail: "\(temporaryPath): \(error)")
        }
        let cutoff = Date().timeIntervalSince1970 - age
        var removed = 0
        for name in names {
            let path = "\(temporaryPath)/\(name)"
            guard let info = try FileSystem.status(path), (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
            if modified < cutoff, try FileSystem.remove(path) { removed += 1 }
        }
        if removed > 0 {
            logger.info("blob.tmp.cleaned", ["removed": removed])
        }
        return removed
    }

    /// The size of the stored file, or nil when there is none.
    func storedSize(_ id: BlobID) throws -> Int64? {
        guard let info = try FileSystem.status(path(for: id)), (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }
}
