// Shared helpers for the storage tests: a temporary directory removed at the end, file
// modes, and deterministic pseudo-random content.
import Foundation
import SEMStorage
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system temporary directory. Tests call `remove()` in a
/// `defer`, which also keeps the object alive until the end of the test.
final class StorageTemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sem-storage-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Names of the regular files directly inside `relative` (or the directory itself).
    func files(in relative: String = "") throws -> [String] {
        let directory = relative.isEmpty ? url.path : path(relative)
        return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }
}

/// The permission bits of `path` (lstat, so links are not followed).
func permissionBits(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// Inode number, to tell whether a file was replaced.
func inode(_ path: String) -> UInt64 {
    var info = stat()
    guard lstat(path, &info) == 0 else { return 0 }
    return UInt64(info.st_ino)
}

/// Deterministic bytes (xorshift64) so that large content needs no stored fixture.
struct PatternGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func bytes(_ count: Int) -> Data {
        var words = [UInt64](repeating: 0, count: (count + 7) / 8)
        for index in words.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            words[index] = state
        }
        return words.withUnsafeBytes { Data($0.prefix(count)) }
    }
}

/// Every blob file under the shard directories of a store (tmp excluded).
func storedBlobFiles(_ store: BlobStore) throws -> [String] {
    let manager = FileManager.default
    var found: [String] = []
    for shard in try manager.contentsOfDirectory(atPath: store.root.path) where shard != "tmp" {
        found += try manager.contentsOfDirectory(atPath: store.root.appendingPathComponent(shard).path)
    }
    return found
}
