import Testing
@testable import Split

@Suite("Line rules of infill generation")
struct InfillLineRuleTests {
    @Test("with n_indent 4 a later line indented less ends the text after its indentation, as llama.cpp cuts it")
    func indentationEndsTheText() {
        var stream = TextStream(minimumIndent: 4)
        let pieces = ["return x", "\n", "    y", " = 1\n", "  ", "z = 2", "\n"]
        let shown = pieces.map { stream.append(Array($0.utf8)) }.joined() + stream.finish()
        #expect(shown == "return x\n    y = 1\n  ")
        #expect(stream.stopped && stream.emitted == shown)
    }

    @Test("the first line is never held to the indentation, and a blank line ends the text like llama.cpp's rule does")
    func firstLineAndBlankLines() {
        var stream = TextStream(minimumIndent: 2)
        #expect(stream.append(Array("a = 1".utf8)) == "a = 1")
        #expect(!stream.stopped && !stream.sawLineBreak)
        _ = stream.append(Array("\n\nb".utf8))
        #expect(stream.stopped && stream.emitted == "a = 1\n" && stream.sawLineBreak)
    }

    @Test("without n_indent every line passes")
    func noRule() {
        var stream = TextStream()
        _ = stream.append(Array("a\nb\n\nc".utf8))
        #expect(!stream.stopped && stream.emitted + stream.finish() == "a\nb\n\nc")
    }
}
