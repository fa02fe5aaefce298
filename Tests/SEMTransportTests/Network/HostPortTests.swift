import SEMTransport
import Testing

extension NetworkTests {
    @Suite("host:port endpoints")
    struct HostPortTests {
        @Test("the last colon splits host and port", arguments: [
            ("127.0.0.1:3310", "127.0.0.1", 3310), ("mail.alpha.test:25", "mail.alpha.test", 25),
            ("[::1]:443", "[::1]", 443), ("h:0", "h", 0), ("h:65535", "h", 65535),
        ] as [(String, String, UInt16)])
        func splits(text: String, host: String, port: UInt16) {
            let split = HostPort.split(text)
            #expect(split?.host == host)
            #expect(split?.port == port)
        }

        @Test("no host, no port, or a port that is not a 16-bit number is refused",
              arguments: ["", "host", ":25", "host:", "host:65536", "host:-1", "host:2 5", "host:x"])
        func refuses(text: String) {
            #expect(HostPort.split(text) == nil)
        }
    }
}
