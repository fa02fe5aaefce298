@testable import SEMTransport
import Testing

@Suite("SMTP addresses and lines")
struct SMTPAddressTests {
    @Test("valid mailboxes parse to local part and lower-cased domain", arguments: [
        ("alice@example.org", "alice", "example.org"),
        ("Alice.Smith@Mail.EXAMPLE.org", "Alice.Smith", "mail.example.org"),
        ("a+tag!#$%&'*/=?^_`{|}~-@x.example", "a+tag!#$%&'*/=?^_`{|}~-", "x.example"),
        ("\"john doe\"@example.org", "john doe", "example.org"),
        ("\"a\\\"b@c\"@example.org", "a\"b@c", "example.org"),
        ("user@[192.0.2.1]", "user", "[192.0.2.1]"),
        ("user@[IPv6:2001:db8::1]", "user", "[IPv6:2001:db8::1]"),
        ("u@localhost", "u", "localhost"),
        ("u@a-b.c0", "u", "a-b.c0"),
    ])
    func validMailboxes(text: String, local: String, domain: String) throws {
        let mailbox = try #require(SMTPMailbox(text))
        #expect(mailbox.localPart == local)
        #expect(mailbox.domain == domain)
        #expect(SMTPMailbox(mailbox.address) == mailbox, "the wire form \(mailbox.address) parses back")
    }

    @Test("invalid mailboxes are refused", arguments: [
        "", "alice", "@example.org", "alice@", "a..b@example.org", ".a@example.org", "a.@example.org",
        "a b@example.org", "a@-example.org", "a@example-.org", "a@exa_mple.org", "a@example..org",
        "\"unterminated@example.org", "\"bad\u{7F}\"@example.org", "a@[300.1.1.1]", "a@[1.2.3]", "a@[:x]",
        "caf\u{E9}@example.org", "a@b@c.example",
        String(repeating: "l", count: 65) + "@example.org",
        "a@" + String(repeating: "d", count: 64) + ".example",
    ])
    func invalidMailboxes(text: String) {
        #expect(SMTPMailbox(text) == nil)
    }

    @Test("a 64-octet local part is the longest accepted and a path is at most 256 octets")
    func lengthLimits() {
        #expect(SMTPMailbox(String(repeating: "l", count: 64) + "@example.org") != nil)
        let label = String(repeating: "d", count: 63)
        let longDomain = [label, label, label, String(repeating: "d", count: 57)].joined(separator: ".")  // 249
        #expect(SMTPMailbox("abcd@" + longDomain) != nil)  // 254 octets, 256 with the brackets
        #expect(SMTPMailbox("abcde@" + longDomain) == nil)  // one more
    }

    @Test("quoted local parts are quoted again in the wire form")
    func wireForm() {
        #expect(SMTPMailbox("\"john doe\"@Example.org")?.address == "\"john doe\"@example.org")
        #expect(SMTPReversePath.null.description == "<>")
        #expect(SMTPReversePath.mailbox(SMTPMailbox("a@b.example")!).description == "<a@b.example>")
    }

    @Test("the line reader splits on CRLF and reports faults", arguments: [
        ("abc\r\n", [SMTPLine(content: bytes("abc"), fault: nil, endedWithCRLF: true)]),
        ("\r\n", [SMTPLine(content: [], fault: nil, endedWithCRLF: true)]),
        ("abc\n", [SMTPLine(content: bytes("abc"), fault: .bareLineFeed, endedWithCRLF: false)]),
        ("a\rb\r\n", [SMTPLine(content: bytes("a\rb"), fault: .bareCarriageReturn, endedWithCRLF: true)]),
        ("a\u{0}\r\n", [SMTPLine(content: bytes("a\u{0}"), fault: .nul, endedWithCRLF: true)]),
        ("1234567\r\nx\r\n", [SMTPLine(content: [], fault: .tooLong, endedWithCRLF: true),
                              SMTPLine(content: bytes("x"), fault: nil, endedWithCRLF: true)]),
        ("123456\r\n", [SMTPLine(content: bytes("123456"), fault: nil, endedWithCRLF: true)]),
        ("1234567\n", [SMTPLine(content: bytes("1234567"), fault: .bareLineFeed, endedWithCRLF: false)]),
        ("12345678\n", [SMTPLine(content: [], fault: .tooLong, endedWithCRLF: false)]),
        ("123456\r\r\n", [SMTPLine(content: [], fault: .tooLong, endedWithCRLF: true)]),
        ("no end", []),
    ])
    func lineReader(input: String, want: [SMTPLine]) {
        for feeding in Feeding.all {
            var reader = SMTPLineReader(limit: 8)
            var got: [SMTPLine] = []
            for piece in feeding.pieces(bytes(input)) {
                var slice = piece[...]
                while let line = reader.nextLine(from: &slice) { got.append(line) }
                #expect(slice.isEmpty)
            }
            #expect(got == want, "\(feeding)")
        }
    }

    @Test("an endless line is dropped rather than buffered")
    func endlessLineIsNotBuffered() {
        var reader = SMTPLineReader(limit: 512)
        var input = [UInt8](repeating: 0x41, count: 100_000)[...]
        #expect(reader.nextLine(from: &input) == nil)
        #expect(reader.isDiscarding)
        var end = bytes("tail\r\nNOOP\r\n")[...]
        #expect(reader.nextLine(from: &end)?.fault == .tooLong)
        #expect(reader.nextLine(from: &end)?.content == bytes("NOOP"))
    }
}
