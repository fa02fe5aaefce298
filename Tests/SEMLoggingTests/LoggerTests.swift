import Foundation
@testable import SEMLogging
import Testing

@Suite("Logger")
struct LoggerTests {
    private func logger(level: LogLevel = .trace) -> (Logger, InMemoryLogHandler) {
        let handler = InMemoryLogHandler()
        return (Logger(component: "smtp", level: level, handler: handler), handler)
    }

    @Test("records below the minimum level are dropped", arguments: LogLevel.allCases)
    func levelFilter(_ minimum: LogLevel) {
        let (log, handler) = logger(level: minimum)
        log.trace("e.trace")
        log.debug("e.debug")
        log.info("e.info")
        log.notice("e.notice")
        log.warning("e.warning")
        log.error("e.error")
        log.critical("e.critical")
        let expected = LogLevel.allCases.filter { $0 >= minimum }
        #expect(handler.records.map(\.level) == expected)
        #expect(handler.records.map(\.event) == expected.map { "e.\($0)" })
    }

    @Test("levels are ordered and parse from their printed names")
    func levelNames() {
        #expect(LogLevel.trace < .debug && LogLevel.warning < .error && LogLevel.error < .critical)
        for level in LogLevel.allCases {
            #expect(LogLevel(name: level.description) == level)
            #expect(LogLevel(name: level.description.uppercased()) == level)
        }
        #expect(LogLevel(name: "verbose") == nil)
    }

    @Test("logger metadata comes first, in the order added, then the event's fields in order")
    func metadataOrder() throws {
        let (base, handler) = logger()
        let log = base.with("session", "s-1").with("peer", "192.0.2.7")
        log.info("mail.from", ["size": 1200, "from": "alice@example.org", "body": "8bitmime"])
        let record = try #require(handler.records.first)
        #expect(record.fields.map(\.key) == ["session", "peer", "size", "from", "body"])
        #expect(record.field("peer") == "192.0.2.7")
        #expect(record.field("missing") == nil)
        #expect(record.line.hasSuffix(
            "level=info component=smtp event=mail.from session=s-1 peer=192.0.2.7 size=1200 "
            + "from=alice@example.org body=8bitmime"))
    }

    @Test("a derived component keeps the level, handler and metadata")
    func componentCopy() throws {
        let (base, handler) = logger(level: .notice)
        let child = base.with("queue", "Q1").component("delivery")
        child.info("dropped")
        child.notice("delivered")
        let record = try #require(handler.records.first)
        #expect(handler.records.count == 1)
        #expect(record.component == "delivery")
        #expect(record.field("queue") == "Q1")
    }

    @Test("a line is an ISO 8601 UTC time with milliseconds, then key=value pairs")
    func lineFormat() throws {
        let (log, handler) = logger()
        log.notice("session.open", ["peer": "127.0.0.1"])
        let line = try #require(handler.lines.first)
        let time = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /#
        let rest = "level=notice component=smtp event=session.open peer=127.0.0.1"
        #expect(line.prefixMatch(of: time) != nil)
        #expect(line.count == 25 + rest.count)
        #expect(line.hasSuffix(" " + rest))
        #expect(LogFormat.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(LogFormat.timestamp(Date(timeIntervalSince1970: 1_798_891_200.5678)) == "2027-01-02T12:00:00.567Z")
    }

    @Test("values with spaces, quotes or equals signs are quoted; empty values show as \"\"")
    func quoting() throws {
        let (log, handler) = logger()
        log.info("q", ["a": "two words", "b": "x=y", "c": "", "d": #"say "hi""#])
        let line = try #require(handler.lines.first)
        #expect(line.hasSuffix(#"a="two words" b="x=y" c="" d="say \"hi\"""#))
    }

    @Test("a hostile value cannot start a second line or forge fields")
    func sanitising() throws {
        let (base, handler) = logger()
        let forged = "x\n2026-01-01T00:00:00.000Z level=critical component=ca event=key.export"
        let log = base.with("helo", "a\r\nb")
        log.warning("smtp.helo", [
            "name": forged, "tab": "a\tb", "bell": "a\u{07}b", "del": "a\u{7F}b", "slash": #"a\nb"#,
        ])
        #expect(handler.records.count == 1)
        let line = try #require(handler.lines.first)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\t"))
        #expect(line.split(separator: "\n").count == 1)
        let record = try #require(handler.records.first)
        #expect(record.field("helo") == #"a\r\nb"#)
        #expect(record.field("name")?.hasPrefix(#"x\n2026"#) == true)
        #expect(record.field("tab") == #"a\tb"#)
        #expect(record.field("bell") == #"a\x07b"#)
        #expect(record.field("del") == #"a\x7Fb"#)
        // A literal backslash-n is doubled, so it cannot be confused with an escaped newline.
        #expect(record.field("slash") == #"a\\nb"#)
        // The forged text stays inside one quoted value of the real line.
        #expect(line.contains(#"name="x\n2026-01-01T00:00:00.000Z level=critical"#))
    }

    @Test("long values are cut at the limit and marked")
    func truncation() throws {
        let (log, handler) = logger()
        let limit = LogFormat.maximumValueLength
        log.info("big", ["exact": String(repeating: "a", count: limit), "long": String(repeating: "b", count: 5000)])
        let record = try #require(handler.records.first)
        #expect(record.field("exact") == String(repeating: "a", count: limit))
        #expect(record.field("long") == String(repeating: "b", count: limit) + "...(truncated)")
        // The cap counts characters of input, so escapes cannot blow a value past a few times the limit.
        let escaped = LogFormat.sanitise(String(repeating: "\u{01}", count: 5000))
        #expect(escaped.count == limit * 4 + "...(truncated)".count)
    }

    @Test("the in-memory handler keeps records from many threads and can be emptied")
    func inMemoryHandler() {
        let (log, handler) = logger()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<50 { log.info("tick", ["worker": worker, "index": index]) }
        }
        #expect(handler.records.count == 400)
        #expect(Set(handler.records.compactMap { $0.field("worker") }).count == 8)
        handler.removeAll()
        #expect(handler.records.isEmpty)
        #expect(handler.lines.isEmpty)
    }
}
