// `sem-bench mail PHASE`: load against running `semd mail` servers of a domain directory
// tree (the one `semctl demo --keep` leaves, started again by `scripts/bench`), through the
// client library a user's program uses (MailAPIClient: mutual TLS with the user's signing
// certificate, a new connection per call, the server checked against the domain root
// with OCSP).
//
//   submit       K clients submitting for T seconds; local recipient, durable storage
//   deliver      N letters to a user of the other domain, from submission to its mailbox
//   attachments  one attachment to many recipients in two domains; bytes stored and moved
//   memory       peak resident memory of the server while a 1 GiB attachment goes up and down
//
// The Postfix baseline (smtp-source → smtp-sink) is measured by `scripts/bench` in the
// same run and handed over as JSON with --baseline.
import Foundation
import SEMClient
import SEMCredentials
import SEMCrypto
import SEMMail
import Synchronization

struct MailBenchmark {
    let phase: String
    let options: [String: String]

    init(arguments: [String]) throws {
        guard let phase = arguments.first else { throw BenchFailure("sem-bench mail needs a phase: submit, deliver, attachments, memory") }
        self.phase = phase
        var options: [String: String] = [:]
        var rest = arguments.dropFirst()
        while let name = rest.first, name.hasPrefix("--") {
            rest = rest.dropFirst()
            guard let value = rest.first else { throw BenchFailure("\(name) needs a value") }
            options[String(name.dropFirst(2))] = value
            rest = rest.dropFirst()
        }
        self.options = options
    }

    func option(_ name: String) throws -> String {
        guard let value = options[name] else { throw BenchFailure("sem-bench mail \(phase) needs --\(name)") }
        return value
    }

    func run() throws {
        switch phase {
        case "submit": try submit()
        case "deliver": try deliver()
        case "attachments": try attachments()
        case "memory": try memory()
        default: throw BenchFailure("unknown phase \(phase): submit, deliver, attachments or memory")
        }
    }

    // MARK: Clients

    /// A user's client for the mail server of its domain, from <address>.pem and
    /// <address>.key in --users, and the domain's certificates in --root.
    func client(_ address: String) throws -> MailAPIClient {
        let domainName = String(address.split(separator: "@").last ?? "")
        let root = URL(fileURLWithPath: try option("root"), isDirectory: true)
        let domain = DomainDirectory(domain: domainName, parent: root)
        let users = URL(fileURLWithPath: try option("users"), isDirectory: true)
        let certificate = try Certificate(pemEncoded: String(contentsOf: users.appendingPathComponent("\(address).pem"),
                                                             encoding: .utf8))
        let key = try PrivateKey(pemEncoded: String(contentsOf: users.appendingPathComponent("\(address).key"), encoding: .utf8))
        let issuer = try domain.certificate(DomainPKI.KeyLabel.issuing)
        let port = try domain.mailConfiguration().https.port
        return try MailAPIClient(host: "127.0.0.1", port: port, domain: domainName,
                                 credential: try CertifiedKey(certificate: certificate, key: key), chain: [issuer],
                                 root: try domain.certificate(DomainPKI.KeyLabel.root), intermediates: [issuer])
    }

    /// The Postfix figures `scripts/bench` measured: {"<clients>": {"rate": …, "messages": …, "seconds": …}}.
    func baseline() throws -> [String: [String: Double]] {
        guard let path = options["baseline"] else { return [:] }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode([String: [String: Double]].self, from: data)
    }

    var messageBytes: Int { BenchSettings.int("SEM_BENCH_MAIL_BYTES", 4096) }

    // MARK: Submission

    private func submit() throws {
        let sender = try option("sender"), recipient = try option("recipient")
        let label = options["label"] ?? "embedded"
        let seconds = BenchSettings.double("SEM_BENCH_MAIL_SECONDS", 10)
        let clientCounts = BenchSettings.ints("SEM_BENCH_MAIL_CLIENTS", [1, 4, 16])
        let api = try client(sender)
        let content = CryptoBenchmark.pattern(messageBytes)
        let postfix = try baseline()
        var figures: [BenchFigure] = []
        var rows: [String] = []
        for clients in clientCounts {
            let latencies = Mutex<[Double]>([])
            let failures = Mutex<[String]>([])
            let deadline = BenchClock.now() + UInt64(seconds * 1e9)
            let start = BenchClock.now()
            let group = DispatchGroup()
            for _ in 0..<clients {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    var mine: [Double] = []
                    while BenchClock.now() < deadline {
                        do {
                            var result: SubmissionResult?
                            let took = try BenchClock.seconds {
                                result = try api.submit(Submission(recipients: [recipient], content: content))
                            }
                            if result?.messageId != nil { mine.append(took) } else {
                                failures.withLock { $0.append("no message id in \(String(describing: result))") }
                            }
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                    let done = mine
                    latencies.withLock { $0 += done }
                }
            }
            group.wait()
            let elapsed = Double(BenchClock.now() - start) / 1e9
            let times = latencies.withLock { $0 }
            let failed = failures.withLock { $0 }
            if let first = failed.first { BenchOutput.note("mail submit: \(failed.count) submissions failed, first: \(first)") }
            let rate = Double(times.count) / elapsed
            let base = postfix["\(clients)"]
            let baseRate = base?["rate"] ?? 0
            rows.append("| \(label) | \(clients) | \(times.count) | \(String(format: "%.1f", rate)) | "
                        + "\(BenchClock.format(seconds: BenchClock.quantile(times, 0.5))) | "
                        + "\(BenchClock.format(seconds: BenchClock.quantile(times, 0.99))) | \(failed.count) | "
                        + "\(String(format: "%.0f", baseRate)) | "
                        + "\(baseRate > 0 ? BenchClock.format(seconds: Double(clients) / baseRate) : "–") | "
                        + "\(baseRate > 0 ? String(format: "%.4f", rate / baseRate) : "–") |")
            figures.append(BenchFigure(item: "mail-submit", measurement: "submit, pdp \(label), \(clients) client(s)",
                                       ours: rate, baseline: baseRate, unit: "messages/s", higherIsBetter: true))
            BenchOutput.note("mail submit (\(label)): \(clients) client(s): \(String(format: "%.1f", rate)) messages/s")
        }
        let markdown = """
            | PDP | clients | submitted | messages/s | p50 | p99 | failed | Postfix messages/s | Postfix mean latency | ours / Postfix |
            |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
            \(rows.joined(separator: "\n"))
            """
        try BenchOutput.emit(item: "mail-submit-\(label)", markdown: markdown, figures: figures,
                             parameters: ["seconds": "\(seconds)", "bytes": "\(messageBytes)", "pdpMode": label])
    }

    // MARK: Delivery between domains

    private func deliver() throws {
        let sender = try option("sender"), recipient = try option("recipient")
        let count = BenchSettings.int("SEM_BENCH_MAIL_DELIVER_COUNT", 200)
        let clients = BenchSettings.int("SEM_BENCH_MAIL_DELIVER_CLIENTS", 4)
        let api = try client(sender), reader = try client(recipient)
        let content = CryptoBenchmark.pattern(messageBytes)
        let startCursor = try reader.changes(after: 0, limit: 1).cursor
        var cursor = startCursor
        // The cursor of an empty page may not move; page through what is there already.
        while true {
            let page = try reader.changes(after: cursor, limit: 500)
            if page.entries.isEmpty { break }
            cursor = page.cursor
        }
        let submitted = Mutex<[String: Date]>([:])
        let failures = Mutex(0)
        let next = Mutex(0)
        let start = Date()
        let group = DispatchGroup()
        for _ in 0..<clients {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while next.withLock({ value -> Bool in
                    defer { value += 1 }
                    return value < count
                }) {
                    do {
                        let result = try api.submit(Submission(recipients: [recipient], content: content))
                        let when = Date()
                        if let id = result.messageId { submitted.withLock { $0[id] = when } }
                    } catch {
                        failures.withLock { $0 += 1 }
                        BenchOutput.note("mail deliver: \(error)")
                    }
                }
            }
        }
        var arrived: [String: Date] = [:]
        let timeout = Date() + BenchSettings.double("SEM_BENCH_MAIL_DELIVER_TIMEOUT", 300)
        var submittedAll = false
        while Date() < timeout {
            if !submittedAll, group.wait(timeout: .now()) == .success { submittedAll = true }
            let page = try reader.changes(after: cursor, limit: 500)
            cursor = max(cursor, page.cursor)
            for entry in page.entries where entry.message.kind == .message {
                arrived[entry.message.id] = entry.message.receivedAt
            }
            let expected = submitted.withLock { $0.count }
            if submittedAll, arrived.keys.filter({ id in submitted.withLock { $0[id] != nil } }).count >= expected { break }
            if page.entries.isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        }
        group.wait()
        let sent = submitted.withLock { $0 }
        let latencies = sent.compactMap { id, when in arrived[id].map { max(0, $0.timeIntervalSince(when)) } }
        let last = sent.keys.compactMap { arrived[$0] }.max() ?? Date()
        let span = last.timeIntervalSince(start)
        let rate = Double(latencies.count) / span
        let postfix = try baseline()["deliver"]
        let baseRate = postfix?["rate"] ?? 0
        let markdown = """
            | letters | clients submitting | delivered | messages/s (first submission → last in the remote mailbox) | p50 submission → remote mailbox | p99 | Postfix messages/s | ours / Postfix |
            |---:|---:|---:|---:|---:|---:|---:|---:|
            | \(count) | \(clients) | \(latencies.count) | \(String(format: "%.1f", rate)) | \(BenchClock.format(seconds: BenchClock.quantile(latencies, 0.5))) | \(BenchClock.format(seconds: BenchClock.quantile(latencies, 0.99))) | \(String(format: "%.0f", baseRate)) | \(baseRate > 0 ? String(format: "%.4f", rate / baseRate) : "–") |
            """
        BenchOutput.note("mail deliver: \(latencies.count) of \(count) arrived, \(String(format: "%.1f", rate)) messages/s; "
                         + "\(failures.withLock { $0 }) submissions failed")
        try BenchOutput.emit(item: "mail-deliver", markdown: markdown, figures: [
            BenchFigure(item: "mail-deliver", measurement: "inter-domain delivery over SMTP with mutual TLS", ours: rate,
                        baseline: baseRate, unit: "messages/s", higherIsBetter: true),
        ], parameters: ["count": "\(count)", "clients": "\(clients)", "bytes": "\(messageBytes)"])
    }

    // MARK: Attachments

    private func footprint(_ api: MailAPIClient) throws -> MailAPIClient.AttachmentFootprint {
        try api.attachmentFootprint()
    }

    private func attachments() throws {
        let sender = try option("sender")
        let recipients = try option("recipients").split(separator: ",").map(String.init)
        let size = BenchSettings.int("SEM_BENCH_ATTACHMENT_BYTES", 10 << 20)
        let api = try client(sender)
        let domains = Array(Set(recipients.map { String($0.split(separator: "@").last ?? "") })).sorted()
        let senderDomain = String(sender.split(separator: "@").last ?? "")
        // One reader per domain: the first recipient there.
        let readers = try domains.map { domain in try client(recipients.first { $0.hasSuffix("@" + domain) }!) }
        let before = try readers.map(footprint)

        var stream = PatternGenerator(length: size)
        let id = try api.upload(length: Int64(size)) { stream.next(maximum: $0) }
        let result = try api.submit(Submission(recipients: recipients, content: CryptoBenchmark.pattern(messageBytes),
                                               attachments: [Submission.Attachment(id: id, mediaType: "application/pdf")]))
        let accepted = result.recipients.filter { $0.status == "accepted" || $0.status == "queued" || $0.status == "delivered" }
        if accepted.count != recipients.count {
            BenchOutput.note("attachments: answers \(Set(result.recipients.map(\.status))) for \(recipients.count) recipients")
        }
        // Wait until every recipient's mailbox holds the letter, then let one reader per
        // domain fetch the attachment: the remote server fetches it from the sender's once.
        let deadline = Date() + 120
        for (index, domain) in domains.enumerated() where domain != senderDomain {
            while Date() < deadline,
                  !(try readers[index].changes(after: 0, limit: 500).entries.contains { $0.message.id == result.messageId }) {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        var fetched: [Int64] = []
        for reader in readers {
            fetched.append(try reader.download(id) { _ in })
        }
        let after = try readers.map(footprint)
        let stored = zip(before, after).reduce(Int64(0)) { $0 + $1.1.stored - $1.0.stored }
        let perMailbox = zip(before, after).reduce(Int64(0)) { $0 + $1.1.perMailbox - $1.0.perMailbox }
        let remoteStored = zip(zip(before, after), domains).filter { $0.1 != senderDomain }
            .reduce(Int64(0)) { $0 + $1.0.1.stored - $1.0.0.stored }
        let moved = remoteStored + Int64(messageBytes * (domains.count - 1))
        let fullCopies = Int64(size) * Int64(recipients.count)
        let mib = { (bytes: Int64) in String(format: "%.1f MiB", Double(bytes) / 1048576) }
        let perDomain = Dictionary(grouping: recipients) { String($0.split(separator: "@").last ?? "") }.mapValues(\.count)
        let markdown = """
            One \(mib(Int64(size))) attachment (ciphertext, uploaded once, streamed from a generator) referred to by one
            letter to \(recipients.count) recipients: \(perDomain.sorted { $0.key < $1.key }.map { "\($0.value) in \($0.key)" }
                .joined(separator: ", ")). One reader per domain downloads it (\(fetched.map { mib($0) }.joined(separator: ", "))).
            Stored and per-mailbox bytes are the change in `GET /v1/attachments-footprint` of each server over the run;
            moved between servers = the copy the other domain's server fetched and stored, plus the letter it received
            (\(messageBytes) bytes of opaque CMS each; SMTP framing not counted).

            | measured (\(domains.count) domains) | bytes | × one full copy per recipient mailbox |
            |---|---:|---:|
            | uploaded by the sender | \(mib(Int64(size))) | \(String(format: "%.3f", Double(size) / Double(fullCopies))) |
            | stored on all servers | \(mib(stored)) | \(String(format: "%.3f", Double(stored) / Double(fullCopies))) |
            | moved between servers | \(mib(moved)) | \(String(format: "%.3f", Double(moved) / Double(fullCopies))) |
            | one full copy per recipient mailbox (baseline) | \(mib(fullCopies)) | 1.000 |
            | `perMailbox` of the footprint, summed over the servers (their own count) | \(mib(perMailbox)) | \(String(format: "%.3f", Double(perMailbox) / Double(fullCopies))) |

            The servers' own `perMailbox` counts one copy per reader an attachment is granted to: the sender's server
            grants every recipient of the letter (the foreign ones fetch through their servers), and each other server
            its local recipients, so the sum exceeds one copy per recipient by the sender's grants to foreign readers.
            """
        try BenchOutput.emit(item: "attachments", markdown: markdown, figures: [
            BenchFigure(item: "attachments", measurement: "bytes stored on all servers", ours: Double(stored),
                        baseline: Double(fullCopies), unit: "bytes", higherIsBetter: false, kind: "bytes"),
            BenchFigure(item: "attachments", measurement: "bytes moved between servers", ours: Double(moved),
                        baseline: Double(fullCopies), unit: "bytes", higherIsBetter: false, kind: "bytes"),
            BenchFigure(item: "attachments", measurement: "bytes uploaded", ours: Double(size),
                        baseline: Double(fullCopies), unit: "bytes", higherIsBetter: false, kind: "bytes"),
        ], parameters: ["bytes": "\(size)", "recipients": "\(recipients.count)", "domains": "\(domains.count)"])
    }

    // MARK: Memory

    private func memory() throws {
        let sender = try option("sender")
        guard let pid = Int32(try option("pid")) else { throw BenchFailure("--pid needs a process id") }
        let size = BenchSettings.int("SEM_BENCH_MEMORY_BYTES", 1 << 30)
        let api = try client(sender)
        _ = try api.me()
        Thread.sleep(forTimeInterval: 1)
        let idle = try Self.status(pid, "VmRSS")
        try Self.resetPeak(pid)
        var stream = PatternGenerator(length: size)
        var id = ""
        let uploadSeconds = try BenchClock.seconds {
            id = try api.upload(length: Int64(size)) { stream.next(maximum: $0) }
        }
        let uploadPeak = try Self.status(pid, "VmHWM")
        try Self.resetPeak(pid)
        var received: Int64 = 0
        let downloadSeconds = try BenchClock.seconds {
            received = try api.download(id) { _ in }
        }
        let downloadPeak = try Self.status(pid, "VmHWM")
        guard received == Int64(size) else { throw BenchFailure("downloaded \(received) of \(size) bytes") }
        let mib = { (kib: Int) in String(format: "%.1f MiB", Double(kib) / 1024) }
        let rate = { (seconds: Double) in String(format: "%.0f MiB/s", Double(size) / 1048576 / seconds) }
        let markdown = """
            `semd mail` (pid \(pid)) while one user uploads a \(CryptoBenchmark.size(size)) attachment through
            `POST /v1/attachments` (streamed from a generator; the client never holds it) and downloads it again, over
            mutual TLS on loopback. Idle = its VmRSS just before; peak = VmHWM after each transfer, reset before each
            (`/proc/PID/clear_refs`).

            | phase | peak resident | × idle | time |
            |---|---:|---:|---:|
            | idle (baseline) | \(mib(idle)) | 1.00 | |
            | upload | \(mib(uploadPeak)) | \(String(format: "%.2f", Double(uploadPeak) / Double(idle))) | \(BenchClock.format(seconds: uploadSeconds)) (\(rate(uploadSeconds))) |
            | download | \(mib(downloadPeak)) | \(String(format: "%.2f", Double(downloadPeak) / Double(idle))) | \(BenchClock.format(seconds: downloadSeconds)) (\(rate(downloadSeconds))) |
            """
        try BenchOutput.emit(item: "memory", markdown: markdown, figures: [
            BenchFigure(item: "memory", measurement: "peak RSS, upload", ours: Double(uploadPeak) * 1024,
                        baseline: Double(idle) * 1024, unit: "bytes", higherIsBetter: false, kind: "memory"),
            BenchFigure(item: "memory", measurement: "peak RSS, download", ours: Double(downloadPeak) * 1024,
                        baseline: Double(idle) * 1024, unit: "bytes", higherIsBetter: false, kind: "memory"),
        ], parameters: ["bytes": "\(size)"])
    }

    /// A field of /proc/PID/status in KiB.
    static func status(_ pid: Int32, _ field: String) throws -> Int {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "") else {
            throw BenchFailure("no \(field) in /proc/\(pid)/status")
        }
        return kib
    }

    /// Linux resets VmHWM to the current RSS when "5" is written to clear_refs.
    static func resetPeak(_ pid: Int32) throws {
        try Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/\(pid)/clear_refs"))
    }
}

/// Bytes that do not repeat (xorshift), produced piece by piece so that a gigabyte never sits in memory.
struct PatternGenerator {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var remaining: Int

    init(length: Int) { remaining = length }

    mutating func next(maximum: Int) -> Data {
        let count = min(maximum, remaining)
        remaining -= count
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            var word = state
            for _ in 0..<min(8, count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return Data(bytes)
    }
}
