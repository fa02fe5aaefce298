import Foundation
import SEMMessage
import Testing

@Suite("MIME entities")
struct MIMETests {
    private func nested() -> MIMEEntity {
        var binary = Data()
        for value in 0..<2_000 { binary.append(UInt8(truncatingIfNeeded: value &* 31)) }
        let alternative = MIMEEntity.multipart("alternative", [
            .text("Plain line one\r\nline two with trailing space \r\n" + String(repeating: "long ", count: 40)),
            .text("<p>Grüße</p>", subtype: "html"),
        ])
        return MIMEEntity.multipart("mixed", [
            alternative,
            .binary(binary, mediaType: "application/octet-stream", fileName: "data.bin"),
            .binary(Data(), mediaType: "application/x-empty", fileName: "Résumé final.pdf"),
        ], headers: [MIMEHeaderField("Subject", EncodedWord.encodeIfNeeded("Grüße aus Zürich – " + String(repeating: "ü", count: 60))),
                     MIMEHeaderField("To", (1...12).map { "person\($0)@example.org" }.joined(separator: ", "))])
    }

    @Test("parse(serialize(x)) == x for nested multiparts with binary and UTF-8 content")
    func roundTrip() throws {
        let entity = nested()
        let bytes = try entity.serialized()
        #expect(try MIMEParser().parse(bytes) == entity)
        // Serialization is stable: the parsed copy writes the same bytes.
        #expect(try MIMEParser().parse(bytes).serialized() == bytes)
    }

    @Test("serialized lines end in CRLF, headers fold within 78 columns, base64 lines have 76")
    func lineDiscipline() throws {
        let text = String(decoding: try nested().serialized(), as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let lines = text.components(separatedBy: "\r\n")
        let headerEnd = try #require(lines.firstIndex(of: ""))
        #expect(lines[..<headerEnd].allSatisfy { $0.count <= 78 })
        #expect(lines[..<headerEnd].count > 2)  // the long To and Subject were folded
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(lines.contains { $0.count == 76 })
    }

    @Test("quoted-printable text round-trips: '=', tabs, trailing spaces, non-ASCII, long lines", arguments: [
        "a=b\r\n\tTab at end\t\r\nspace at end \r\n",
        String(repeating: "=", count: 200),
        String(repeating: "x", count: 75) + "\r\n" + String(repeating: "y", count: 76) + "\r\n" + String(repeating: "z", count: 77),
        "Grüße, 日本語, emoji 🎉 " + String(repeating: "ä", count: 100),
        "", "\r\n", "ends without line break",
    ])
    func quotedPrintable(text: String) throws {
        let entity = MIMEEntity.text(text)
        let bytes = try entity.serialized()
        #expect(bytes.allSatisfy { $0 < 0x80 })
        #expect(String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(try MIMEParser().parse(bytes).content == Data(text.utf8))
    }

    @Test("a UTF-8 subject round-trips through encoded-words")
    func encodedWords() {
        for subject in ["Plain subject", "Grüße – 日本語のテキスト 🎉", String(repeating: "€", count: 100), "=?not?encoded?="] {
            let encoded = EncodedWord.encodeIfNeeded(subject)
            #expect(encoded.unicodeScalars.allSatisfy { $0.isASCII })
            #expect(EncodedWord.decode(encoded) == subject)
        }
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9_Pirard?= <a@b>") == "André Pirard <a@b>")
        #expect(EncodedWord.decode("=?UTF-8?B?R3LDvMOf?= =?UTF-8?B?ZQ==?=") == "Grüße")
    }

    @Test("input received in random pieces parses the same once joined (the parser is whole-buffer)")
    func splitsAreIrrelevant() throws {
        // The parser is whole-buffer (documented); feeding pieces means joining them first.
        let entity = nested()
        let bytes = try entity.serialized()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            var pieces: [Data] = []
            var offset = 0
            while offset < bytes.count {
                let length = Int.random(in: 1...400, using: &generator)
                pieces.append(bytes.subdata(in: offset..<min(bytes.count, offset + length)))
                offset += length
            }
            #expect(try MIMEParser().parse(pieces.reduce(Data(), +)) == entity)
        }
    }

    @Test("a boundary that occurs in the content is refused when writing")
    func boundaryCollision() throws {
        let entity = MIMEEntity(headers: [MIMEHeaderField("Content-Type", "multipart/mixed; boundary=abc")],
                                body: .multipart([MIMEEntity(headers: [], body: .bytes(Data("x\r\n--abc\r\ny".utf8)))]))
        #expect(throws: MessageError(.invalidArgument, "")) { try entity.serialized() }
    }

    @Test("hostile inputs are refused with clear errors", arguments: [
        ("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nbody\r\n--x--\r\n", MessageError.Code.malformed, "boundary"),
        ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nbody\r\n", .malformed, "closing"),
        ("Subject: bare\nline\r\n\r\n", .malformed, "bare line feed"),
        ("No colon here\r\n\r\n", .malformed, "colon"),
        ("Subject: x\r\n", .malformed, "empty line"),
        ("Content-Transfer-Encoding: base64\r\n\r\n!!!!\r\n", .malformed, "base64"),
        ("Content-Transfer-Encoding: binary\r\n\r\nabc", .unsupported, "binary"),
    ] as [(String, MessageError.Code, String)])
    func hostile(input: String, code: MessageError.Code, phrase: String) {
        do {
            _ = try MIMEParser().parse(Data(input.utf8))
            Issue.record("accepted: \(input)")
        } catch let error as MessageError {
            #expect(error.code == code)
            #expect(error.reason.lowercased().contains(phrase), "\(error.reason)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("endless nesting, oversize headers, long lines and too many parts hit the limits")
    func limits() throws {
        var deep = "Content-Type: text/plain\r\n\r\nleaf"
        for level in 0..<40 {
            deep = "Content-Type: multipart/mixed; boundary=b\(level)\r\n\r\n--b\(level)\r\n\(deep)\r\n--b\(level)--\r\n"
        }
        #expect(throws: MessageError(.limitExceeded, "")) { try MIMEParser().parse(Data(deep.utf8)) }

        let manyHeaders = (0..<5_000).map { "X-Filler-\($0): \(String(repeating: "v", count: 40))\r\n" }.joined() + "\r\n"
        #expect(throws: MessageError(.limitExceeded, "")) { try MIMEParser().parse(Data(manyHeaders.utf8)) }

        let longLine = "Subject: " + String(repeating: "a", count: 1_200) + "\r\n\r\n"
        #expect(throws: MessageError(.limitExceeded, "")) { try MIMEParser().parse(Data(longLine.utf8)) }

        let parts = (0..<50).map { _ in "--p\r\n\r\nx\r\n" }.joined()
        let many = "Content-Type: multipart/mixed; boundary=p\r\n\r\n\(parts)--p--\r\n"
        #expect(try MIMEParser().parse(Data(many.utf8)).parts.count == 50)
        #expect(throws: MessageError(.limitExceeded, "")) {
            try MIMEParser(limits: MIMELimits(maximumParts: 20)).parse(Data(many.utf8))
        }
        #expect(throws: MessageError(.limitExceeded, "")) {
            try MIMEParser(limits: MIMELimits(maximumTotalBytes: 100)).parse(Data(many.utf8))
        }
    }
}

