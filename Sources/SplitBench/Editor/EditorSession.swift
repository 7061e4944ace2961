import Split

/// An editor session to replay: a region of a source file typed character by character, and
/// the completion requests an editor plugin sends while it is typed. A plugin waits for a
/// pause in typing (about 350 ms, llama.vim's and llama.vscode's debounce) before it asks, so
/// requests fire where a typist pauses: at the end of every line, and at random points inside
/// lines (seeded). Each request is the text before the cursor and the text after it.
public struct EditorSession: Sendable {
    /// One request: the document around the cursor when typing paused.
    public struct Request: Sendable, Equatable {
        public var prefix: String
        public var suffix: String
        /// Whether typing paused at the end of a line (else inside one).
        public var atLineEnd: Bool
    }

    public let requests: [Request]
    /// The typed region: its first line (0-based) and its line count.
    public let firstLine: Int
    public let lineCount: Int

    /// Types `lineCount` lines of `text` from a seeded line with at least `contextLines` lines
    /// before it; after each character a pause (a request) comes with `pauseProbability`, and
    /// always after a line break. At most `maxRequests` requests.
    public init(text: String, lineCount: Int, contextLines: Int = 8, pauseProbability: Double, maxRequests: Int, seed: UInt64) {
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
                requests.append(Request(prefix: before + typed, suffix: after, atLineEnd: lineEnd))
            }
        }
        self.requests = requests
        firstLine = start
        self.lineCount = count
    }
}
