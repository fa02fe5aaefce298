// A client of clamd's INSTREAM command, the malware scanner daemon of ClamAV and of the
// many scanners that speak its protocol. The command and its framing (from clamd's own
// documentation): the client sends "zINSTREAM\0", then the data as chunks, each a
// 4-octet big-endian length followed by that many octets, and a zero length to end; the
// daemon answers one NUL-terminated line, "stream: OK", "stream: <signature> FOUND", or
// "<reason> ERROR". Plaintext goes to the scanner only over loopback or a socket the
// administrator names: the scanner sees what it scans, so it belongs on the same host.
public import Foundation

/// What a scanner said about some bytes.
public enum ScanVerdict: Sendable, Equatable, CustomStringConvertible {
    case clean
    /// A detection, with the signature name the scanner reported.
    case infected(signature: String)

    public var description: String {
        switch self {
        case .clean: "clean"
        case .infected(let signature): "infected (\(signature))"
        }
    }
}

/// Why a scan gave no verdict. Callers must treat it as "not scanned", never as clean.
public struct ScanError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The scanner could not be reached or the connection failed.
        case unavailable = "scan-unavailable"
        /// The scanner answered with an error (for example, the stream was over its limit).
        case scannerError = "scan-error"
        /// The answer was not one the protocol allows.
        case malformedReply = "scan-malformed-reply"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
    public static func == (lhs: ScanError, rhs: ScanError) -> Bool { lhs.code == rhs.code }
}

/// Scans bytes with a clamd listening on TCP.
public struct ClamdScanner: Sendable {
    public let host: String
    public let port: UInt16
    public let timeout: Duration
    /// Octets per INSTREAM chunk; clamd's StreamMaxLength bounds the total, not this.
    public let chunkSize: Int

    public init(host: String, port: UInt16, timeout: Duration = .seconds(60), chunkSize: Int = 64 << 10) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.chunkSize = max(1, chunkSize)
    }

    /// Parses `host:port`.
    public init(endpoint: String) throws {
        guard let (host, port) = HostPort.split(endpoint), port != 0 else {
            throw ScanError(.unavailable, "The scanner address \"\(endpoint)\" is not HOST:PORT.")
        }
        self.init(host: host, port: port)
    }

    /// Scans `data` in one INSTREAM session (cut into chunks as `scan(reading:)` cuts every piece).
    public func scan(_ data: Data) throws -> ScanVerdict {
        var handedOver = false
        return try scan {
            guard !handedOver else { return nil }
            handedOver = true
            return data
        }
    }

    /// Scans the pieces `next` returns until it returns nil.
    public func scan(reading next: () throws -> Data?) throws -> ScanVerdict {
        let stream: SocketStream
        do { stream = try TCPClient.connect(host: host, port: port, timeout: .seconds(5), ioTimeout: timeout) } catch {
            throw ScanError(.unavailable, "The malware scanner at \(host):\(port) cannot be reached: \(error)")
        }
        defer { stream.close() }
        do {
            try stream.write(Data("zINSTREAM\0".utf8))
            while let piece = try next(), !piece.isEmpty {
                var start = piece.startIndex
                while start < piece.endIndex {
                    let end = min(piece.endIndex, start + chunkSize)
                    try stream.write(Self.chunkHeader(end - start) + piece[start..<end])
                    start = end
                }
            }
            try stream.write(Self.chunkHeader(0))
            var reply = Data()
            // The reply is one short line; 4 KiB is far more than any signature name needs.
            while !reply.contains(0), reply.count < 4096 {
                let more = try stream.read(maximum: 4096 - reply.count)
                if more.isEmpty { break }
                reply.append(more)
            }
            return try Self.verdict(fromReply: reply)
        } catch let error as ScanError {
            throw error
        } catch {
            throw ScanError(.unavailable, "The malware scan at \(host):\(port) failed: \(error)")
        }
    }

    static func chunkHeader(_ length: Int) -> Data {
        let value = UInt32(length).bigEndian
        return withUnsafeBytes(of: value) { Data($0) }
    }

    /// Reads clamd's answer to INSTREAM (without sockets, for tests).
    public static func verdict(fromReply reply: Data) throws -> ScanVerdict {
        guard let end = reply.firstIndex(of: 0) else {
            throw ScanError(.malformedReply, "The scanner's answer did not end as the protocol requires.")
        }
        let line = String(decoding: reply[reply.startIndex..<end], as: UTF8.self)
        if line.hasSuffix(" ERROR") {
            throw ScanError(.scannerError, "The scanner refused the scan: \(line.dropLast(" ERROR".count)).")
        }
        guard line.hasPrefix("stream: ") else {
            throw ScanError(.malformedReply, "The scanner's answer \"\(line.prefix(80))\" is not an INSTREAM result.")
        }
        let result = line.dropFirst("stream: ".count)
        if result == "OK" { return .clean }
        if result.hasSuffix(" FOUND"), result.count > " FOUND".count {
            return .infected(signature: String(result.dropLast(" FOUND".count)))
        }
        throw ScanError(.malformedReply, "The scanner's answer \"\(line.prefix(80))\" is not an INSTREAM result.")
    }
}
