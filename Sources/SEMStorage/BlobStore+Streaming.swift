// Streaming blob writes and reads: content passes through in chunks of at most
// `BlobStore.chunkSize` bytes, hashed on the way, so a large blob never sits in memory.
#if canImport(Glibc)
import Glibc
#endif
public import Foundation
import SEMCrypto

extension BlobStore {
    /// Stores content pulled from `read` and returns its id.
    ///
    /// `read(n)` must return at most `n` bytes, and an empty `Data` at the end. Reading
    /// stops as soon as the total passes `maxSize`; then, or when `read` throws, the
    /// temporary file is removed and nothing is stored.
    ///
    /// - Throws: `tooLarge` above `maxSize`; `invalidArgument` when `read` returns more
    ///   than asked; `ioFailure`; or whatever `read` throws.
    @discardableResult
    public func put(maxSize: Int64, read: (Int) throws -> Data) throws -> BlobID {
        guard maxSize >= 0 else {
            throw StorageError(.invalidArgument, "The size limit must not be negative.")
        }
        let temporary = try TemporaryBlobFile(store: self)
        var hasher = Digest.Hasher(.sha256)
        var total: Int64 = 0
        while true {
            let chunk = try read(Self.chunkSize)
            if chunk.isEmpty { break }
            guard chunk.count <= Self.chunkSize else {
                throw StorageError(.invalidArgument,
                                   "The reader returned \(chunk.count) bytes where at most \(Self.chunkSize) "
                                   + "were asked for.")
            }
            total += Int64(chunk.count)
            guard total <= maxSize else {
                throw StorageError(.tooLarge, "The content is larger than the limit of \(maxSize) bytes.")
            }
            hasher.update(chunk)
            try temporary.file.write(chunk)
        }
        let id = BlobID(digest: hasher.finish())
        try temporary.commit(as: id, size: total)
        return id
    }

    /// Stores everything that remains in `handle` (up to `maxSize` bytes) and returns its id.
    @discardableResult
    public func put(from handle: FileHandle, maxSize: Int64) throws -> BlobID {
        try put(maxSize: maxSize) { count in
            do {
                return try handle.read(upToCount: count) ?? Data()
            } catch {
                throw StorageError(.ioFailure, "Reading the input failed.", detail: "\(error)")
            }
        }
    }

    /// Opens `id` for reading in chunks; the digest is checked when the end is reached.
    public func open(_ id: BlobID) throws -> BlobReader {
        let file: FileDescriptor
        do {
            file = try FileDescriptor(path: path(for: id), flags: O_RDONLY | O_NOFOLLOW)
        } catch let error as StorageError where error.code == .notFound {
            throw StorageError(.notFound, "Blob \(id) is not stored.")
        }
        return BlobReader(id: id, file: try file.size(), descriptor: file, store: self)
    }

    /// The bytes of `id` in `range` (offsets from 0), for partial transfers.
    ///
    /// These bytes are not checked against the digest, which covers only the whole
    /// content; a client that assembles ranges checks the id of the result.
    public func read(_ id: BlobID, range: Range<Int64>, limit: Int = BlobStore.defaultReadLimit) throws -> Data {
        let reader = try open(id)
        guard range.lowerBound >= 0, range.upperBound <= reader.size else {
            throw StorageError(.invalidArgument,
                               "The range \(range.lowerBound)..<\(range.upperBound) lies outside blob \(id) "
                               + "of \(reader.size) bytes.")
        }
        let length = range.upperBound - range.lowerBound
        guard length <= Int64(limit) else {
            throw StorageError(.tooLarge, "The range is \(length) bytes; the limit is \(limit).")
        }
        return try reader.descriptor.read(count: Int(length), at: range.lowerBound)
    }
}

/// Reads one blob in chunks and checks its digest at the end. Used by one thread at a time.
///
/// Until `read` has returned nil, the bytes handed out are unverified: a consumer that
/// must not act on damaged content buffers or stages them until the end.
public final class BlobReader {
    /// The blob being read.
    public let id: BlobID
    /// Its size on disk when it was opened.
    public let size: Int64
    let descriptor: FileDescriptor
    private let store: BlobStore
    private var hasher: Digest.Hasher? = Digest.Hasher(.sha256)
    private var failure: StorageError?
    private var finished = false

    init(id: BlobID, file size: Int64, descriptor: FileDescriptor, store: BlobStore) {
        self.id = id
        self.size = size
        self.descriptor = descriptor
        self.store = store
    }

    /// The next chunk of at most `count` bytes, or nil at the end once the content has
    /// been verified.
    ///
    /// - Throws: `integrityFailure` at the end when the content does not match the id
    ///   (and again on every later call); `ioFailure`.
    public func read(upToCount count: Int = BlobStore.chunkSize) throws -> Data? {
        if let failure { throw failure }
        if finished { return nil }
        guard count > 0, count <= 16 * BlobStore.chunkSize else {
            throw StorageError(.invalidArgument, "A chunk must be between 1 and \(16 * BlobStore.chunkSize) bytes.")
        }
        let chunk = try descriptor.read(upTo: count)
        guard chunk.isEmpty else {
            hasher?.update(chunk)
            return chunk
        }
        finished = true
        guard let digest = hasher.take()?.finish(), digest.hexString == id.hex else {
            store.logger.warning("blob.integrity_failure", ["id": id])
            let error = StorageError(.integrityFailure, "Blob \(id) is damaged: its content no longer matches its id.")
            failure = error
            throw error
        }
        return nil
    }
}

/// A temporary file in `<root>/tmp/` that becomes a blob on `commit`, and is removed
/// when it goes away uncommitted (failure, size refusal, or a blob that already existed).
final class TemporaryBlobFile {
    let store: BlobStore
    let path: String
    let file: FileDescriptor
    private var committed = false

    init(store: BlobStore) throws {
        self.store = store
        path = "\(store.temporaryPath)/\(SecureRandom.identifier()).tmp"
        file = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
    }

    deinit {
        if !committed { _ = try? FileSystem.remove(path) }
    }

    /// Syncs the content, then renames it to the blob's name and syncs that directory.
    /// An existing blob of the right size is kept; one of another size is damaged and
    /// is replaced.
    func commit(as id: BlobID, size: Int64) throws {
        try file.sync()
        let directory = store.directory(for: id)
        if try FileSystem.makeDirectory(directory) {
            try FileSystem.syncDirectory(store.rootPath)
        }
        if let existing = try store.storedSize(id) {
            if existing == size {
                // Another writer may have renamed it a moment ago and not yet synced the
                // directory; syncing here too means no `put` returns before its blob is durable.
                try FileSystem.syncDirectory(directory)
                return
            }
            store.logger.warning("blob.damaged_replaced", ["id": id, "size": existing, "expected": size])
        }
        try FileSystem.rename(path, to: store.path(for: id))
        committed = true
        try FileSystem.syncDirectory(directory)
        store.logger.debug("blob.stored", ["id": id, "size": size])
    }
}
