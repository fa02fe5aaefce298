// PEM armour (RFC 7468): base64 between BEGIN and END lines.
public import Foundation

public enum PEM {
    /// Wraps DER in a PEM block with 64-character lines (RFC 7468 §2).
    public static func encode(_ der: Data, label: String) -> String {
        let body = der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(body)\n-----END \(label)-----\n"
    }

    /// The DER contents of every block with `label`, in order. Text outside the blocks
    /// is ignored, as RFC 7468 §2 allows.
    public static func decodeAll(_ text: String, label: String) throws -> [Data] {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        var blocks: [Data] = []
        var remainder = Substring(text)
        while let start = remainder.range(of: begin) {
            guard let stop = remainder.range(of: end, range: start.upperBound..<remainder.endIndex) else {
                throw CryptoError(.malformedInput, "A PEM \(label) block has no END line.")
            }
            let body = remainder[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: String(body)), !der.isEmpty else {
                throw CryptoError(.malformedInput, "A PEM \(label) block does not hold valid base64.")
            }
            blocks.append(der)
            remainder = remainder[stop.upperBound...]
        }
        return blocks
    }

    /// The DER contents of the single block with `label`.
    public static func decode(_ text: String, label: String) throws -> Data {
        guard let first = try decodeAll(text, label: label).first else {
            throw CryptoError(.malformedInput, "The text holds no PEM \(label) block.")
        }
        return first
    }
}
