// Helpers every OpenSSL-facing file uses: draining the error queue into a
// `CryptoError`, and moving bytes in and out of memory BIOs.
//
// Rule followed throughout SEMCrypto: clear the error queue before a call whose
// failure we report, and drain it right after, so a message never describes an
// earlier, unrelated failure.
import COpenSSL
import CShims
public import Foundation

enum OpenSSL {
    /// Empties the thread's OpenSSL error queue.
    static func clearErrors() { ERR_clear_error() }

    /// Empties the thread's error queue and returns its entries, oldest first.
    static func drainErrors() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.joined(separator: "; ")
    }

    /// The reason code of the most recent queued error without removing it.
    static func peekLastReason() -> Int32 {
        Int32(truncatingIfNeeded: ERR_peek_last_error() & 0x7FFFFF)
    }

    /// Builds an error carrying the drained queue as detail.
    static func error(_ code: CryptoError.Code, _ reason: String, file: String = #fileID, line: Int = #line) -> CryptoError {
        CryptoError(code, reason, detail: drainErrors(), file: file, line: line)
    }

    /// Throws `error(code, reason)` unless `result` is 1 (OpenSSL's success value).
    static func check(_ result: Int32, _ code: CryptoError.Code = .internalFailure, _ reason: @autoclosure () -> String,
                      file: String = #fileID, line: Int = #line) throws {
        if result != 1 { throw error(code, reason(), file: file, line: line) }
    }

    /// Unwraps a pointer that OpenSSL returned, or throws with the drained queue.
    static func unwrap<T>(_ value: T?, _ code: CryptoError.Code = .internalFailure, _ reason: @autoclosure () -> String,
                          file: String = #fileID, line: Int = #line) throws -> T {
        guard let value else { throw error(code, reason(), file: file, line: line) }
        return value
    }
}

/// An owned memory BIO. The bytes written into it are copied, so the source may go
/// away (`BIO_new_mem_buf` does not copy, which is why it is not used).
final class MemoryBIO {
    let pointer: OpaquePointer

    init() throws {
        pointer = try OpenSSL.unwrap(BIO_new(BIO_s_mem()), .internalFailure, "Could not allocate a memory buffer.")
    }

    convenience init(_ bytes: some DataProtocol) throws {
        try self.init()
        try write(bytes)
    }

    deinit { BIO_free_all(pointer) }

    func write(_ bytes: some DataProtocol) throws {
        let array = Array(bytes)
        if array.isEmpty { return }
        let written = array.withUnsafeBytes { BIO_write(pointer, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(array.count) else {
            throw OpenSSL.error(.internalFailure, "Could not fill a memory buffer.")
        }
    }

    /// Everything written and not yet read.
    func readAll() -> Data {
        var base: UnsafeMutablePointer<CChar>?
        let length = sem_BIO_get_mem_data(pointer, &base)
        guard length > 0, let base else { return Data() }
        return Data(bytes: base, count: length)
    }

    /// Wipes the buffer's contents before it is freed; used for plaintext and keys.
    func readAllAndWipe() -> Data {
        var base: UnsafeMutablePointer<CChar>?
        let length = sem_BIO_get_mem_data(pointer, &base)
        guard length > 0, let base else { return Data() }
        let data = Data(bytes: base, count: length)
        OPENSSL_cleanse(base, length)
        return data
    }
}

extension Data {
    /// Lower-case hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses hexadecimal (either case, no separators); nil on anything else.
    public init?(hexString: String) {
        let chars = Array(hexString.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = Data.hexValue(chars[index]), let low = Data.hexValue(chars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }

    private static func hexValue(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
