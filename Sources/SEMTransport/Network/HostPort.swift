// `host:port` as configuration files, trust lists and command lines write an endpoint.

public enum HostPort {
    /// Splits `text` at its last colon; nil unless the host before it is not empty and
    /// the port after it is a number from 0 to 65535. Whether port 0 (or any host name)
    /// is acceptable is the caller's to say.
    public static func split(_ text: some StringProtocol) -> (host: String, port: UInt16)? {
        guard let colon = text.lastIndex(of: ":"), colon > text.startIndex,
              let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), port)
    }
}
