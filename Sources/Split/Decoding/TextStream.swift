/// Turns a stream of token byte strings into text chunks that are safe to show: never splits a
/// UTF-8 sequence, and holds back any tail that could still become a stop string. With a
/// `minimumIndent`, a line after the first whose indentation is shorter ends the text right
/// after that indentation (llama.cpp's `n_indent`: an infill stays inside its block).
public struct TextStream: Sendable {
    public let stopStrings: [String]
    /// Spaces and tabs every line after the first needs; 0: no rule.
    public let minimumIndent: Int
    /// Whether a line break has been generated (llama.cpp's `has_new_line`).
    public private(set) var sawLineBreak = false
    /// Where the indentation rule stands: nil on the first line, else the indentation counted
    /// so far on the current line, or -1 once the line's first other character was accepted.
    private var indentCount: Int?
    private var pendingBytes: [UInt8] = []
    private var pendingText = ""
    /// Everything emitted so far.
    public private(set) var emitted = ""
    /// Whether a stop string was seen (the text up to it was emitted, the rest dropped).
    public private(set) var stopped = false

    public init(stopStrings: [String] = [], minimumIndent: Int = 0) {
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
        self.minimumIndent = minimumIndent
    }

    /// Feeds one token's bytes; returns the text that can be shown now.
    public mutating func append(_ bytes: [UInt8]) -> String {
        guard !stopped else { return "" }
        pendingBytes += bytes
        let complete = Self.completeUTF8Prefix(pendingBytes)
        var cut = false
        if complete > 0 {
            cut = add(String(decoding: pendingBytes[0..<complete], as: UTF8.self))
            pendingBytes.removeFirst(complete)
        }
        guard cut else { return release(final: false) }
        let out = release(final: true)
        stopped = true
        return out
    }

    /// Appends decoded text to what is pending, applying the indentation rule; returns true when
    /// the rule ended the text (the rest of `text` was dropped).
    private mutating func add(_ text: String) -> Bool {
        if text.contains("\n") { sawLineBreak = true }
        guard minimumIndent > 0 else {
            pendingText += text
            return false
        }
        for index in text.indices {
            let character = text[index]
            switch indentCount {
            case nil, .some(-1):
                if character == "\n" { indentCount = 0 }
            case let count?:
                if character == " " || character == "\t" {
                    indentCount = count + 1
                } else if count < minimumIndent {
                    // As llama.cpp: keep the line break and the short indentation, drop the rest.
                    pendingText += text[..<index]
                    return true
                } else {
                    indentCount = character == "\n" ? 0 : -1
                }
            }
        }
        pendingText += text
        return false
    }

    /// Flushes what is held back at the end of generation.
    public mutating func finish() -> String {
        guard !stopped else { return "" }
        if !pendingBytes.isEmpty {
            let cut = add(String(decoding: pendingBytes, as: UTF8.self))
            pendingBytes.removeAll()
            if cut {
                let out = release(final: true)
                stopped = true
                return out
            }
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
