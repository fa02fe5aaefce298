// Splits an SMTP byte stream into lines (RFC 5321 §2.3.8: lines end in CRLF).
//
// Limits (RFC 5321 §4.5.3.1.4 and §4.5.3.1.6): a command line is at most 512 octets and a
// text line in DATA at most 1000 octets, both counting the CRLF. The limit is a property
// the session changes when it enters and leaves DATA.
//
// The reader is strict because lenient line endings are what SMTP smuggling exploits: a
// line ended by a lone LF is reported as faulty, and so is a line containing a CR that is
// not followed by LF or a NUL octet. A line over the limit is not buffered: its bytes are
// dropped up to the next LF and it is reported as too long once it ends, so that replies
// keep their order with the client's lines. A line that never ends is never reported;
// the driver's read timeout has to end that connection.
//
// The reader keeps no state that depends on how the input was split: feeding one byte at
// a time and feeding everything at once yield the same lines.

/// Why a line could not be used as it was received.
public enum SMTPLineFault: Sendable, Equatable {
    /// The line was longer than the limit; its content was discarded.
    case tooLong
    /// The line ended in LF without a CR before it.
    case bareLineFeed
    /// The line contains a CR that is not part of a CRLF.
    case bareCarriageReturn
    /// The line contains a NUL octet.
    case nul
}

/// One line from the reader.
struct SMTPLine: Sendable, Equatable {
    /// The bytes before the line ending (empty when the line was too long).
    var content: [UInt8]
    /// The first fault found, or nil for a clean line.
    var fault: SMTPLineFault?
    /// Whether the line ended in CRLF (false for a lone LF).
    var endedWithCRLF: Bool
}

/// Incremental CRLF line splitter with a length limit.
struct SMTPLineReader: Sendable {
    /// The longest line accepted, counting the CRLF.
    var limit: Int

    private var buffer: [UInt8] = []
    private var discarding = false
    private var lastDiscardedWasCR = false

    init(limit: Int) {
        precondition(limit >= 3, "an SMTP line limit must leave room for one octet and CRLF")
        self.limit = limit
    }

    /// Drops any partial line, e.g. when input received before a TLS handshake must not
    /// be read after it.
    mutating func reset() {
        buffer.removeAll(keepingCapacity: false)
        discarding = false
        lastDiscardedWasCR = false
    }

    /// Whether a partial line is waiting for more input.
    var hasPartialLine: Bool { discarding || !buffer.isEmpty }

    /// Whether the current line has already gone over the limit and is being dropped.
    var isDiscarding: Bool { discarding }

    /// Consumes input from the front of `input` until one line is complete and returns
    /// it, or consumes everything and returns nil when no line is complete yet.
    mutating func nextLine(from input: inout ArraySlice<UInt8>) -> SMTPLine? {
        guard !input.isEmpty else { return nil }
        let newline = input.firstIndex(of: 0x0A)
        let end = newline ?? input.endIndex
        let piece = input[input.startIndex..<end]
        input = newline.map { input[($0 + 1)...] } ?? input[input.endIndex...]

        if discarding {
            if let last = piece.last { lastDiscardedWasCR = last == 0x0D }
            guard newline != nil else { return nil }
            let crlf = lastDiscardedWasCR
            reset()
            return SMTPLine(content: [], fault: .tooLong, endedWithCRLF: crlf)
        }

        // Before the LF arrives the buffer may hold at most limit - 1 octets: the content
        // and the CR. One octet more and the line cannot fit any longer.
        if buffer.count + piece.count > limit - 1 {
            let crlf = piece.last.map { $0 == 0x0D } ?? (buffer.last == 0x0D)
            buffer.removeAll(keepingCapacity: false)
            guard newline != nil else {
                discarding = true
                lastDiscardedWasCR = crlf
                return nil
            }
            return SMTPLine(content: [], fault: .tooLong, endedWithCRLF: crlf)
        }
        buffer.append(contentsOf: piece)
        guard newline != nil else { return nil }

        var content = buffer
        buffer.removeAll(keepingCapacity: true)
        let crlf = content.last == 0x0D
        if crlf { content.removeLast() }
        var fault: SMTPLineFault? = crlf ? nil : .bareLineFeed
        if fault == nil {
            for byte in content where byte == 0x0D || byte == 0x00 {
                fault = byte == 0x0D ? .bareCarriageReturn : .nul
                break
            }
        }
        return SMTPLine(content: content, fault: fault, endedWithCRLF: crlf)
    }
}
