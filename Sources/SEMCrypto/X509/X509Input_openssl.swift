// Checks on caller-supplied values before they go into certificates and requests,
// and the conversion of a `DistinguishedName` into an OpenSSL X509_NAME.
//
// Known limitation: e-mail addresses must be ASCII. Internationalised mailboxes
// (SmtpUTF8Mailbox, RFC 9598) are refused rather than encoded.
import COpenSSL
import CShims
import Foundation

enum X509Input {
    /// Upper bound on names, URLs and policies per certificate or request.
    static let maximumEntries = 64

    /// An e-mail address for an rfc822Name (RFC 5280 §4.2.1.6): ASCII, one local part
    /// and a domain name, at most 254 characters (RFC 5321 §4.5.3.1 path limit).
    static func email(_ address: String) throws -> String {
        guard address.utf8.count <= 254, isPrintableASCII(address), let at = address.lastIndex(of: "@") else {
            throw CryptoError(.invalidArgument, "'\(printable(address))' is not an ASCII e-mail address.")
        }
        let local = address[..<at], domain = address[address.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, isDNSName(String(domain), allowWildcard: false) else {
            throw CryptoError(.invalidArgument, "'\(printable(address))' is not an ASCII e-mail address.")
        }
        return address
    }

    /// A host name for a dNSName: letters, digits and hyphens in labels of 1 to 63
    /// characters (RFC 1034 §3.5), an optional leading "*." wildcard label.
    static func dnsName(_ name: String) throws -> String {
        guard isDNSName(name, allowWildcard: true) else {
            throw CryptoError(.invalidArgument, "'\(printable(name))' is not a DNS host name.")
        }
        return name
    }

    /// An absolute URI for CRL and OCSP locations: ASCII without spaces, at most 2048
    /// characters, starting with a scheme and "://" (RFC 3986 §3.1 scheme characters).
    static func uri(_ text: String) throws -> String {
        let schemeCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
        guard text.utf8.count <= 2048, isPrintableASCII(text), let separator = text.range(of: "://"),
              separator.lowerBound > text.startIndex,
              text[..<separator.lowerBound].allSatisfy(schemeCharacters.contains) else {
            throw CryptoError(.invalidArgument, "'\(printable(text))' is not an absolute URI.")
        }
        return text
    }

    /// A new ASN1_OBJECT for a dotted OID such as "1.3.6.1.4.1.99999.1". The caller owns it.
    static func object(_ oid: String) throws -> OpaquePointer {
        let parts = oid.split(separator: ".", omittingEmptySubsequences: false)
        let digits = Set("0123456789")
        guard oid.count <= 128, parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(digits.contains) })
        else {
            throw CryptoError(.invalidArgument, "'\(printable(oid))' is not a dotted object identifier.")
        }
        OpenSSL.clearErrors()
        return try OpenSSL.unwrap(OBJ_txt2obj(oid, 1), .invalidArgument,
                                  "'\(oid)' is not a valid object identifier.")
    }

    /// Refuses lists longer than `maximumEntries`.
    static func bounded<T>(_ list: [T], _ what: String) throws -> [T] {
        guard list.count <= maximumEntries else {
            throw CryptoError(.invalidArgument, "At most \(maximumEntries) \(what) are accepted, not \(list.count).")
        }
        return list
    }

    private static func isDNSName(_ name: String, allowWildcard: Bool) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if index == 0, allowWildcard, label == "*", labels.count > 2 { continue }
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                  label.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// A short, printable echo of a refused value for error messages.
    static func printable(_ text: String) -> String {
        let scalars = text.unicodeScalars.prefix(80).map { scalar -> Character in
            scalar.properties.isWhitespace || scalar.properties.generalCategory == .control ? " " : Character(scalar)
        }
        return text.unicodeScalars.count > 80 ? String(scalars) + "…" : String(scalars)
    }
}

extension DistinguishedName {
    /// A new X509_NAME holding these attributes in order, each value as UTF-8 (OpenSSL
    /// picks PrintableString or IA5String where the attribute's type requires it, as
    /// for countryName and emailAddress). The caller owns the result.
    func makeX509Name() throws -> OpaquePointer {
        guard attributes.count <= X509Input.maximumEntries else {
            throw CryptoError(.invalidArgument, "A name may hold at most \(X509Input.maximumEntries) attributes.")
        }
        let name = try OpenSSL.unwrap(X509_NAME_new(), .internalFailure, "Could not allocate a name.")
        for attribute in attributes {
            OpenSSL.clearErrors()
            let bytes = Array(attribute.value.utf8)
            guard !bytes.isEmpty, bytes.count <= 1024, !bytes.contains(0) else {
                X509_NAME_free(name)
                throw CryptoError(.invalidArgument,
                                  "The \(attribute.type) attribute must hold 1 to 1024 bytes of text.")
            }
            let added = X509_NAME_add_entry_by_txt(name, attribute.type, MBSTRING_UTF8, bytes, Int32(bytes.count),
                                                   -1, 0)
            guard added == 1 else {
                X509_NAME_free(name)
                let shown = X509Input.printable(attribute.value)
                throw OpenSSL.error(.invalidArgument, "The name attribute \(attribute.type) = '\(shown)' was refused.")
            }
        }
        return name
    }
}
