import Foundation
import SEMCrypto
import SEMStorage
import Synchronization
import Testing

@Suite("Blob store")
struct BlobStoreTests {
    private struct ReaderFailed: Error, Equatable {}

    /// A store under `directory/blobs`; the caller keeps `directory` alive for the test.
    private func makeStore(in directory: StorageTemporaryDirectory) throws -> BlobStore {
        try BlobStore(root: directory.url.appendingPathComponent("blobs"))
    }

    @Test("put returns the SHA-256 of the content, stored at <root>/<2 hex>/<64 hex> with mode 0600")
    func putAndRead() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        let content = Data("abc".utf8)
        let id = try store.put(content)
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        #expect(id.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(id.hex == Digest.sha256(content).hexString)
        let expectedPath = directory.path("blobs/ba/\(id.hex)")
        #expect(store.path(for: id) == expectedPath)
        #expect(FileManager.default.contents(atPath: expectedPath) == content)
        #expect(try permissionBits(expectedPath) == 0o600)
        #expect(try permissionBits(store.root.path) == 0o700)
        #expect(try store.read(id) == content)
        #expect(store.exists(id))
        #expect(try store.size(id) == 3)
        #expect(try directory.files(in: "blobs/tmp").isEmpty)
    }

    @Test("empty content is a blob like any other")
    func emptyBlob() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        let id = try store.put(Data())
        #expect(id.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try store.read(id) == Data())
        #expect(try store.size(id) == 0)
    }

    @Test("putting the same content again keeps the existing file")
    func idempotentPut() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        var generator = PatternGenerator(seed: 7)
        let content = generator.bytes(100_000)
        let first = try store.put(content)
        let before = inode(store.path(for: first))
        let second = try store.put(content)
        let third = try store.put(maxSize: 1 << 20) { _ in Data() } // a different, empty blob
        #expect(first == second)
        #expect(inode(store.path(for: second)) == before)
        #expect(third != first)
        #expect(try storedBlobFiles(store).count == 2)
        #expect(try directory.files(in: "blobs/tmp").isEmpty)
    }

    @Test("a stored file of the wrong size is replaced by a new put of the content")
    func damagedFileRepaired() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        let content = Data("the letter body".utf8)
        let id = try store.put(content)
        try Data("trunc".utf8).write(to: URL(fileURLWithPath: store.path(for: id)))
        #expect(throws: StorageError(.integrityFailure, "")) { try store.read(id) }
        #expect(try store.put(content) == id)
        #expect(try store.read(id) == content)
    }

    @Test("streaming put of 8 MiB asks for bounded chunks and stores the right digest")
    func streamingPut() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        let total = 8 * 1024 * 1024
        var generator = PatternGenerator(seed: 42)
        var sizes: [Int] = []
        var produced = 0
        var largestRequest = 0
        let id = try store.put(maxSize: Int64(total)) { wanted in
            largestRequest = max(largestRequest, wanted)
            // Hand out uneven chunks to exercise the loop.
            let size = min(wanted, total - produced, 10_000 + (sizes.count * 7919) % 60_000)
            sizes.append(size)
            produced += size
            return generator.bytes(size)
        }
        #expect(largestRequest <= 64 * 1024)
        #expect(produced == total)
        // The same seed and chunk sizes give the same bytes again.
        var replay = PatternGenerator(seed: 42)
        var hasher = Digest.Hasher(.sha256)
        for size in sizes { hasher.update(replay.bytes(size)) }
        let expected = hasher.finish().hexString
        #expect(id.hex == expected)
        #expect(try store.size(id) == Int64(total))
        #expect(try directory.files(in: "blobs/tmp").isEmpty)

        // Stream it back in chunks; the reader verifies the digest at the end.
        let reader = try store.open(id)
        var check = Digest.Hasher(.sha256)
        var read = 0
        while let chunk = try reader.read(upToCount: 50_000) {
            #expect(chunk.count <= 50_000)
            check.update(chunk)
            read += chunk.count
        }
        #expect(read == total)
        let readBack = check.finish().hexString
        #expect(readBack == id.hex)
        #expect(try reader.read() == nil)
    }

    @Test("put from a file handle stores the file's remaining content")
    func putFromFileHandle() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        var generator = PatternGenerator(seed: 3)
        let content = generator.bytes(1_048_576 + 17)
        let source = directory.path("input.bin")
        try content.write(to: URL(fileURLWithPath: source))
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: source))
        defer { try? handle.close() }
        let id = try store.put(from: handle, maxSize: 2 << 20)
        #expect(id == BlobID.of(content))
        #expect(try store.read(id) == content)
    }

    @Test("content above maxSize is refused early and leaves no file behind")
    func maxSizeRefusal() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        var generator = PatternGenerator(seed: 9)
        var calls = 0
        #expect(throws: StorageError(.tooLarge, "")) {
            try store.put(maxSize: 100_000) { wanted in
                calls += 1
                return generator.bytes(wanted)
            }
        }
        #expect(calls <= 2)
        #expect(try directory.files(in: "blobs/tmp").isEmpty)
        #expect(try storedBlobFiles(store).isEmpty)
        // Exactly at the limit is accepted.
        let content = generator.bytes(1000)
        var offset = 0
        let id = try store.put(maxSize: 1000) { wanted in
            defer { offset = min(content.count, offset + wanted) }
            return content.subdata(in: offset..<min(content.count, offset + wanted))
        }
        #expect(try store.read(id) == content)
    }

    @Test("a reader that throws or hands out more than asked leaves no file behind")
    func readerMisbehaves() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        var first = true
        #expect(throws: ReaderFailed()) {
            try store.put(maxSize: 1 << 20) { wanted in
                if first {
                    first = false
                    return Data(count: wanted)
                }
                throw ReaderFailed()
            }
        }
        #expect(throws: StorageError(.invalidArgument, "")) {
            try store.put(maxSize: 1 << 20) { wanted in Data(count: wanted + 1) }
        }
        #expect(throws: StorageError(.invalidArgument, "")) { try store.put(maxSize: -1) { _ in Data() } }
        #expect(try directory.files(in: "blobs/tmp").isEmpty)
        #expect(try storedBlobFiles(store).isEmpty)
    }

    @Test("a blob changed on disk is reported as an integrity failure, whole and streamed")
    func corruptedBlob() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        var generator = PatternGenerator(seed: 11)
        let content = generator.bytes(200_000)
        let id = try store.put(content)
        var damaged = content
        damaged[123_456] ^= 0x01
        try damaged.write(to: URL(fileURLWithPath: store.path(for: id)))
        #expect(throws: StorageError(.integrityFailure, "")) { try store.read(id) }
        let reader = try store.open(id)
        #expect(throws: StorageError(.integrityFailure, "")) {
            while try reader.read() != nil {}
        }
        #expect(throws: StorageError(.integrityFailure, "")) { try reader.read() }
    }

    @Test("ids that are not 64 hex digits are refused", arguments: [
        "", "../../etc/passwd", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        String(repeating: "g", count: 64), "ab/" + String(repeating: "c", count: 61),
        String(repeating: "0", count: 63) + "\0",
    ])
    func badIDs(_ text: String) {
        #expect(throws: StorageError(.invalidArgument, "")) { try BlobID(hex: text) }
    }

    @Test("ids are normalised to lower case and survive JSON")
    func idParsing() throws {
        let id = try BlobID(hex: String(repeating: "AB", count: 32))
        #expect(id.hex == String(repeating: "ab", count: 32))
        let json = try JSONEncoder().encode([id])
        #expect(try JSONDecoder().decode([BlobID].self, from: json) == [id])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([BlobID].self, from: Data(#"["../x"]"#.utf8)) }
    }

    @Test("missing blobs are not found; delete removes once")
    func missingAndDelete() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        let absent = BlobID.of(Data("never stored".utf8))
        #expect(!store.exists(absent))
        #expect(throws: StorageError(.notFound, "")) { try store.read(absent) }
        #expect(throws: StorageError(.notFound, "")) { try store.size(absent) }
        #expect(throws: StorageError(.notFound, "")) { try store.open(absent) }
        #expect(try store.delete(absent) == false)
        let id = try store.put(Data("short-lived".utf8))
        #expect(try store.delete(id))
        #expect(!store.exists(id))
        #expect(try store.delete(id) == false)
    }

    @Test("ranged reads return the requested bytes and refuse ranges outside the blob")
    func rangedRead() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        var generator = PatternGenerator(seed: 5)
        let content = generator.bytes(300_000)
        let id = try store.put(content)
        #expect(try store.read(id, range: 0..<10) == content.subdata(in: 0..<10))
        #expect(try store.read(id, range: 250_000..<300_000) == content.subdata(in: 250_000..<300_000))
        #expect(try store.read(id, range: 5..<5) == Data())
        #expect(throws: StorageError(.invalidArgument, "")) { try store.read(id, range: 299_999..<300_001) }
        #expect(throws: StorageError(.invalidArgument, "")) { try store.read(id, range: -1..<3) }
        #expect(throws: StorageError(.tooLarge, "")) { try store.read(id, range: 0..<1000, limit: 999) }
        #expect(throws: StorageError(.tooLarge, "")) { try store.read(id, limit: 299_999) }
    }

    @Test("stale temporary files are removed, fresh ones kept")
    func staleTemporaryCleanup() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        let manager = FileManager.default
        let old = directory.path("blobs/tmp/crashed.tmp")
        let fresh = directory.path("blobs/tmp/in-progress.tmp")
        #expect(manager.createFile(atPath: old, contents: Data("partial".utf8)))
        #expect(manager.createFile(atPath: fresh, contents: Data("partial".utf8)))
        try manager.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: old)
        #expect(try store.removeStaleTemporaryFiles(olderThan: 3600) == 1)
        #expect(try directory.files(in: "blobs/tmp") == ["in-progress.tmp"])
        #expect(try store.removeStaleTemporaryFiles(olderThan: 3600) == 0)
    }

    @Test("concurrent puts of the same content from several threads agree and leave one file")
    func concurrentPuts() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(in: directory)
        var generator = PatternGenerator(seed: 13)
        let content = generator.bytes(512 * 1024)
        let results = ConcurrentResults()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            do {
                // Half use the in-memory path, half the streaming one.
                if worker % 2 == 0 {
                    results.add(.success(try store.put(content)))
                } else {
                    var offset = 0
                    results.add(.success(try store.put(maxSize: 1 << 20) { wanted in
                        defer { offset = min(content.count, offset + wanted) }
                        return content.subdata(in: offset..<min(content.count, offset + wanted))
                    }))
                }
            } catch {
                results.add(.failure(error))
            }
        }
        let ids = try results.all.map { try $0.get() }
        #expect(ids.count == 8)
        #expect(Set(ids) == [BlobID.of(content)])
        #expect(try store.read(ids[0]) == content)
        #expect(try storedBlobFiles(store).count == 1)
        #expect(try directory.files(in: "blobs/tmp").isEmpty)
    }
}

/// Collects results from several threads.
private final class ConcurrentResults: Sendable {
    private let storage = Mutex<[Result<BlobID, any Error>]>([])
    func add(_ result: Result<BlobID, any Error>) { storage.withLock { $0.append(result) } }
    var all: [Result<BlobID, any Error>] { storage.withLock { $0 } }
}
