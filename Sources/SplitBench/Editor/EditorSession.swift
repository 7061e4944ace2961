import Split

/// An editor session to replay: a region of a source file typed character by character, and
/// the completion requests an editor plugin sends while it is typed. A plugin waits for a
/// pause in typing (about 350 ms, llama.vim's and llama.vscode's debounce) before it asks, so
/// requests fire where a typist pauses: at the end of every line, and at random points inside
/// lines (seeded). Each request is the document around the cursor, cut as `shape` cuts it.
public struct EditorSession: Sendable {
    /// How a plugin cuts the document around the cursor into a request.
    public enum RequestShape: String, Sendable, CaseIterable {
        /// llama.vim's local context (`s:fim_ctx_local` in its autoload/llama.vim; llama.vscode
        /// cuts the same way): the 256 lines before the cursor's line as `input_prefix`, the
        /// cursor's line up to the cursor as `prompt` (empty on a blank line), the rest of that
        /// line and the 64 lines after it as `input_suffix`, each line ending in a line break.
        /// The document is the typed lines inserted as new lines between the file's lines.
        case llamaVim = "llama-vim"
        /// Everything before the cursor as the prefix and everything after it as the suffix,
        /// no `prompt`; the edge's window cuts both (session 8's replay).
        case wholeDocument = "whole-document"
    }

    /// One request: the document around the cursor when typing paused.
    public struct Request: Sendable, Equatable {
        public var prefix: String
        public var suffix: String
        /// The typed part of the cursor's line (llama.vim's `prompt`); empty in `wholeDocument`.
        public var prompt: String
        /// The cursor line's indentation in characters (llama.vim's `n_indent`; 0 on a blank line).
        public var indent: Int
        /// Whether typing paused at the end of a line (else inside one).
        public var atLineEnd: Bool
    }

    public let requests: [Request]
    /// The typed region: its first line (0-based) and its line count.
    public let firstLine: Int
    public let lineCount: Int

    /// llama.vim's defaults: `n_prefix` and `n_suffix` lines around the cursor's line.
    public static let llamaVimPrefixLines = 256
    public static let llamaVimSuffixLines = 64

    /// Types `lineCount` lines of `text` from a seeded line with at least `contextLines` lines
    /// before it; after each character a pause (a request) comes with `pauseProbability`, and
    /// always after a line break. At most `maxRequests` requests.
    public init(text: String, lineCount: Int, contextLines: Int = 8, pauseProbability: Double, maxRequests: Int, seed: UInt64,
                shape: RequestShape = .wholeDocument) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) + "\n" }
        if let last = lines.last, last == "\n" { lines.removeLast() }
        var random = SplitMix64(state: seed)
        let count = max(1, min(lineCount, lines.count))
        let latestStart = max(0, lines.count - count)
        let earliestStart = min(contextLines, latestStart)
        let start = earliestStart == latestStart ? latestStart : Int.random(in: earliestStart...latestStart, using: &random)
        let before = lines[..<start].joined()
        let region = lines[start..<(start + count)].joined()
        let after = lines[(start + count)...].joined()
        var requests: [Request] = []
        var typed = ""
        for character in region {
            guard requests.count < maxRequests else { break }
            typed.append(character)
            let lineEnd = character == "\n"
            if lineEnd || Double.random(in: 0..<1, using: &random) < pauseProbability {
                switch shape {
                case .wholeDocument:
                    requests.append(Request(prefix: before + typed, suffix: after, prompt: "", indent: 0, atLineEnd: lineEnd))
                case .llamaVim:
                    requests.append(Self.llamaVimRequest(before: lines[..<start], typed: typed, after: lines[(start + count)...],
                                                         atLineEnd: lineEnd))
                }
            }
        }
        self.requests = requests
        firstLine = start
        self.lineCount = count
    }

    /// llama.vim's `s:fim_ctx_local` with the cursor at the end of the typed text, which is
    /// the line being typed (lines of `before` and `after` end in "\n").
    static func llamaVimRequest(before: ArraySlice<String>, typed: String, after: ArraySlice<String>, atLineEnd: Bool) -> Request {
        var typedLines = typed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let current = typedLines.removeLast()
        let above = before.map { String($0.dropLast()) } + typedLines
        let below = after.prefix(llamaVimSuffixLines).map { String($0.dropLast()) }
        let prefix = above.suffix(llamaVimPrefixLines).joined(separator: "\n") + "\n"
        let suffix = "\n" + below.joined(separator: "\n") + "\n"  // the rest of the cursor's line is empty
        // A blank line asks from its start (llama.vim: prompt and line suffix empty, indent 0).
        guard current.contains(where: { $0 != " " && $0 != "\t" }) else {
            return Request(prefix: prefix, suffix: suffix, prompt: "", indent: 0, atLineEnd: atLineEnd)
        }
        let indent = current.prefix(while: { $0 == " " || $0 == "\t" }).count
        return Request(prefix: prefix, suffix: suffix, prompt: current, indent: indent, atLineEnd: atLineEnd)
    }

    /// The chunks llama.vim's ring buffer holds after the user visited `files` (oldest first):
    /// leaving a buffer picks 33 consecutive lines at a random place among the 64 around the
    /// cursor (`s:pick_chunk` with `ring_chunk_size` 64), sent as `input_extra`.
    public static func ringChunks(of files: [InfillFile], seed: UInt64) -> [InfillFile] {
        var random = SplitMix64(state: seed)
        let half = 32  // ring_chunk_size / 2
        return files.compactMap { file in
            var lines = file.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }  // the file's last line break ends a line, not one more
            guard lines.count >= 3 else { return nil }
            let cursor = Int.random(in: 0..<lines.count, using: &random)
            let around = Array(lines[max(0, cursor - half)...min(lines.count - 1, cursor + half)])
            let chunk: ArraySlice<String>
            if around.count + 1 < 2 * half {
                chunk = around[...]
            } else {
                let first = Int.random(in: 0...max(0, around.count - half), using: &random)
                chunk = around[first...min(first + half, around.count - 1)]
            }
            return InfillFile(filename: file.filename, text: chunk.joined(separator: "\n") + "\n")
        }
    }
}
