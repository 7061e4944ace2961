/// Turns a stream of token byte strings into text chunks that are safe to show: never splits a
/// UTF-8 sequence, and holds back any tail that could still become a stop string.
public struct TextStream: Sendable {
    public let stopStrings: [String]
    private var pendingBytes: [UInt8] = []
    private var pendingText = ""
    /// Everything emitted so far.
    public private(set) var emitted = ""
    /// Whether a stop string was seen (the text up to it was emitted, the rest dropped).
    public private(set) var stopped = false

    public init(stopStrings: [String] = []) {
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
    }

    /// Feeds one token's bytes; returns the text that can be shown now.
    public mutating func append(_ bytes: [UInt8]) -> String {
        guard !stopped else { return "" }
        pendingBytes += bytes
        let complete = Self.completeUTF8Prefix(pendingBytes)
        if complete > 0 {
            pendingText += String(decoding: pendingBytes[0..<complete], as: UTF8.self)
            pendingBytes.removeFirst(complete)
        }
        return release(final: false)
    }

    /// Flushes what is held back at the end of generation.
    public mutating func finish() -> String {
        guard !stopped else { return "" }
        if !pendingBytes.isEmpty {
            pendingText += String(decoding: pendingBytes, as: UTF8.self)
            pendingBytes.removeAll()
        }
        return release(final: true)
    }

    private mutating func release(final: Bool) -> String {
        for stop in stopStrings {
            if let range = pendingText.range(of: stop) {
                let out = String(pendingText[..<range.lowerBound])
                pendingText = ""
                stopped = true
                emitted += out
                return out
            }
        }
        var keep = 0
        if !final {
            // Hold back the longest suffix that is a proper prefix of some stop string.
            for stop in stopStrings {
                for length in stride(from: min(stop.count - 1, pendingText.count), to: 0, by: -1)
                    where pendingText.hasSuffix(stop.prefix(length)) {
                    keep = max(keep, length)
                    break
                }
            }
        }
        let cut = pendingText.index(pendingText.endIndex, offsetBy: -keep)
        let out = String(pendingText[..<cut])
        pendingText = String(pendingText[cut...])
        emitted += out
        return out
    }

    /// Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence.
    static func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
        var i = bytes.count
        var back = 0
        while i > 0 && back < 4 {
            let byte = bytes[i - 1]
            if byte & 0xC0 != 0x80 {
                let expected = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return back + 1 >= expected ? bytes.count : i - 1
            }
            i -= 1
            back += 1
        }
        return bytes.count
    }
}
