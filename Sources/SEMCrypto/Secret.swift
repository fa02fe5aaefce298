// A container for passphrases, PINs and other secrets that must never be printed.
public import Foundation

/// Secret bytes (a passphrase, a token PIN, an enrolment code). Printing one shows
/// `<redacted>`, so a secret that slips into a log line or an error message does not
/// leak. Compare secrets with `ConstantTime.equals`, never with `==` on the bytes.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public init(_ data: Data) { self.bytes = Array(data) }

    public var isEmpty: Bool { bytes.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// The secret as text, for APIs (such as PKCS#11 PINs) that need a C string.
    /// Fails when the bytes hold a NUL, which a C string cannot carry.
    func cString() throws -> [CChar] {
        guard !bytes.contains(0) else {
            throw CryptoError(.invalidArgument, "A passphrase or PIN must not contain a NUL character.")
        }
        return bytes.map { CChar(bitPattern: $0) } + [0]
    }
}
