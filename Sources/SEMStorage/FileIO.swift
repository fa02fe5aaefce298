// Thin POSIX file helpers for the blob store: an owned descriptor that closes itself,
// loops that retry on EINTR and finish short writes, fsync of files and directories.
//
// Foundation's FileManager and FileHandle cannot fsync a directory or create a file
// with O_EXCL and an exact mode, both of which durable, private writes need.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// An open file descriptor, closed when the object goes away. Used by one thread at a time.
final class FileDescriptor {
    let fd: Int32
    let path: String

    /// Opens `path`; `mode` applies only when `flags` create the file.
    init(path: String, flags: Int32, mode: mode_t = 0o600) throws {
        var result: Int32
        repeat {
            result = Glibc.open(path, flags | O_CLOEXEC, mode)
        } while result < 0 && errno == EINTR
        guard result >= 0 else {
            let code = errno
            throw FileSystem.error(code == ENOENT ? .notFound : .ioFailure, "The file could not be opened.",
                                   path: path, errno: code)
        }
        fd = result
        self.path = path
    }

    deinit { _ = Glibc.close(fd) }

    /// Writes every byte of `buffer`, retrying on EINTR and after short writes.
    func write(_ buffer: UnsafeRawBufferPointer) throws {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = Glibc.write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystem.error(.ioFailure, "Writing the file failed.", path: path, errno: errno)
            }
            remaining -= written
            base += written
        }
    }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    /// Reads up to `count` bytes from the current position; an empty result means end of file.
    func read(upTo count: Int) throws -> Data {
        var buffer = Data(count: count)
        let got = try buffer.withUnsafeMutableBytes { raw -> Int in
            while true {
                let result = Glibc.read(fd, raw.baseAddress, count)
                if result >= 0 { return result }
                if errno != EINTR {
                    throw FileSystem.error(.ioFailure, "Reading the file failed.", path: path, errno: errno)
                }
            }
        }
        buffer.count = got
        return buffer
    }

    /// Reads exactly `count` bytes starting at `offset`; fewer only at end of file.
    func read(count: Int, at offset: Int64) throws -> Data {
        var buffer = Data(count: count)
        var filled = 0
        try buffer.withUnsafeMutableBytes { raw in
            while filled < count {
                let result = Glibc.pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw FileSystem.error(.ioFailure, "Reading the file failed.", path: path, errno: errno)
                }
                if result == 0 { break }
                filled += result
            }
        }
        buffer.count = filled
        return buffer
    }

    /// Forces the file's data and metadata to stable storage.
    func sync() throws {
        var result: Int32
        repeat { result = fsync(fd) } while result < 0 && errno == EINTR
        guard result == 0 else {
            throw FileSystem.error(.ioFailure, "The file could not be synced to disk.", path: path, errno: errno)
        }
    }

    /// The file's size in bytes.
    func size() throws -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FileSystem.error(.ioFailure, "The file size could not be read.", path: path, errno: errno)
        }
        return Int64(info.st_size)
    }
}

enum FileSystem {
    static func error(_ code: StorageError.Code, _ reason: String, path: String, errno errorNumber: Int32,
                      file: String = #fileID, line: Int = #line) -> StorageError {
        StorageError(code, reason, detail: "\(path): \(String(cString: strerror(errorNumber)))", file: file, line: line)
    }

    /// Creates one directory level with `mode`; false when it already existed.
    @discardableResult
    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws -> Bool {
        if mkdir(path, mode) == 0 { return true }
        let code = errno
        if code == EEXIST, isDirectory(path) { return false }
        throw error(.ioFailure, "The directory could not be created.", path: path, errno: code)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// lstat of `path`, or nil when it does not exist.
    static func status(_ path: String) throws -> stat? {
        var info = stat()
        if lstat(path, &info) == 0 { return info }
        let code = errno
        if code == ENOENT { return nil }
        throw error(.ioFailure, "The file could not be examined.", path: path, errno: code)
    }

    /// Makes a change to the entries of `path` (a rename, a new file, a removal) durable.
    static func syncDirectory(_ path: String) throws {
        let directory = try FileDescriptor(path: path, flags: O_RDONLY | O_DIRECTORY)
        try directory.sync()
    }

    static func rename(_ source: String, to destination: String) throws {
        guard Glibc.rename(source, destination) == 0 else {
            throw error(.ioFailure, "The file could not be moved into place.", path: destination, errno: errno)
        }
    }

    /// Removes a file; false when it did not exist.
    @discardableResult
    static func remove(_ path: String) throws -> Bool {
        if unlink(path) == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        throw error(.ioFailure, "The file could not be removed.", path: path, errno: code)
    }
}
