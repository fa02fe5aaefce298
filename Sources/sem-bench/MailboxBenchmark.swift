// `sem-bench mailbox`: list and fetch latency in one mailbox of 10^3, 10^5 and 10^6
// messages, on SEMMail's SQLiteMailStorage (the mail server's own storage). Baseline: a
// raw SELECT by primary key on the same database through SEMStorage's Database, measured
// in alternation with ours in the same run.
//
// Filling a mailbox message by message through `deliver` (one fsync'd transaction each)
// would take hours at 10^6, so the rows are written straight into the storage's tables
// in batches of one transaction each. The blob store is content-addressed, so the messages
// share a thousand small distinct blobs: a million files would measure the file system.
import Foundation
import SEMMail
import SEMStorage

struct MailboxBenchmark {
    let samples: Int

    func run() throws {
        let sizes = BenchSettings.ints("SEM_BENCH_MAILBOX_SIZES", [1_000, 100_000, 1_000_000])
        let page = BenchSettings.int("SEM_BENCH_MAILBOX_PAGE", 100)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sem-bench-mailbox-\(getpid())", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try Database(path: directory.appendingPathComponent("mail.sqlite").path)
        let blobs = try BlobStore(root: directory.appendingPathComponent("blobs", isDirectory: true))
        let storage = try SQLiteMailStorage(database: database, blobs: blobs)
        let owner = "reader@bench.test"
        let blobIDs = try (0..<1000).map { index in
            try blobs.put(CryptoBenchmark.pattern(512) + Data("\(index)".utf8))
        }

        var figures: [BenchFigure] = []
        var rows: [String] = []
        var filled = 0
        var generator = SystemRandomNumberGenerator()
        for size in sizes.sorted() {
            let fillTime = try BenchClock.seconds {
                try fill(database, from: filled, to: size, owner: owner, blobs: blobIDs)
            }
            BenchOutput.note("mailbox: \(size) messages (filled \(size - filled) in \(String(format: "%.1f", fillTime)) s)")
            filled = size
            var list: [Double] = [], fetch: [Double] = [], raw: [Double] = []
            for _ in 0..<samples {
                let target = Int.random(in: 0..<size, using: &generator)
                let after = Int64(Int.random(in: 0...max(0, size - page), using: &generator))
                raw.append(try BenchClock.seconds {
                    guard try database.queryOne("SELECT id, blob FROM messages WHERE id = ?",
                                                [.text(Self.messageID(target))]) != nil else {
                        throw BenchFailure("message \(target) is missing")
                    }
                })
                fetch.append(try BenchClock.seconds {
                    guard let entry = try storage.entry(of: owner, messageID: Self.messageID(target)),
                          try storage.content(of: entry.message).count > 512 else {
                        throw BenchFailure("message \(target) could not be fetched")
                    }
                })
                list.append(try BenchClock.seconds {
                    guard try storage.changes(of: owner, after: after, limit: page, kind: .message).count == min(page, size) else {
                        throw BenchFailure("a page of the mailbox came back short")
                    }
                })
            }
            let baseline = BenchClock.quantile(raw, 0.5)
            for (label, values) in [("list \(page) entries after a random point", list),
                                    ("fetch one message (entry + blob)", fetch)] {
                let median = BenchClock.quantile(values, 0.5)
                figures.append(BenchFigure(item: "mailbox", measurement: "\(label), \(size) messages", ours: median,
                                           baseline: baseline, unit: "s", higherIsBetter: false))
                rows.append("| \(Self.count(size)) | \(label) | \(BenchClock.format(seconds: median)) | "
                            + "\(BenchClock.format(seconds: BenchClock.quantile(values, 0.99))) | "
                            + "\(BenchClock.format(seconds: baseline)) | \(String(format: "%.1f", median / baseline)) |")
            }
            rows.append("| \(Self.count(size)) | raw `SELECT … WHERE id = ?` (baseline) | \(BenchClock.format(seconds: baseline)) | "
                        + "\(BenchClock.format(seconds: BenchClock.quantile(raw, 0.99))) | \(BenchClock.format(seconds: baseline)) | 1.0 |")
        }
        let markdown = """
            ## Mailbox scale

            `sem-bench mailbox`: one mailbox of each size in `SQLiteMailStorage` (WAL, synchronous=FULL), filled in
            transactions of 10,000 rows straight into its tables; the messages share 1,000 distinct blobs of about
            0.5 KiB. Per size, \(samples) random samples of each operation, in alternation: list = `changes(of:after:limit:)`
            for \(page) entries after a random modification sequence; fetch = `entry(of:messageID:)` plus reading and
            checking the blob (`content(of:)`); baseline = `SELECT id, blob FROM messages WHERE id = ?` through
            `Database.queryOne` on the same connection. The file cache is warm (the database fits in memory).

            | messages | operation | p50 | p99 | baseline p50 | p50 / baseline |
            |---:|---|---:|---:|---:|---:|
            \(rows.joined(separator: "\n"))
            """
        try BenchOutput.emit(item: "mailbox", markdown: markdown, figures: figures,
                             parameters: ["sizes": sizes.map(String.init).joined(separator: ","), "samples": "\(samples)",
                                          "page": "\(page)"])
    }

    /// Adds messages `from..<to` to `owner`'s mailbox, 10,000 per transaction.
    private func fill(_ database: Database, from: Int, to: Int, owner: String, blobs: [BlobID]) throws {
        let received = Date().timeIntervalSince1970
        var start = from
        while start < to {
            let end = min(start + 10_000, to)
            try database.transaction { db in
                for index in start..<end {
                    let id = Self.messageID(index)
                    _ = try db.execute("""
                        INSERT INTO messages (id, kind, sender, recipients, received_at, size, blob, attachments, authenticated)
                        VALUES (?, 'message', 'sender@bench.test', '["reader@bench.test"]', ?, 520, ?, '[]', 1)
                        """, [.text(id), .real(received + Double(index)), .text(blobs[index % blobs.count].hex)])
                    _ = try db.execute("INSERT INTO mailbox (owner, message_id, modseq) VALUES (?, ?, ?)",
                                       [.text(owner), .text(id), .int(index + 1)])
                }
            }
            start = end
        }
    }

    static func messageID(_ index: Int) -> String { "m\(index)@bench.test" }

    static func count(_ value: Int) -> String {
        var exponent = 0, rest = value
        while rest >= 10, rest % 10 == 0 { rest /= 10; exponent += 1 }
        return rest == 1 && exponent >= 3 ? "10^\(exponent)" : PDPBenchmark.format(Double(value))
    }
}
