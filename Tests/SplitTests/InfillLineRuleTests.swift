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

/// A vocabulary of single bytes (id = byte), so each test token is one character.
private func byteTokenizer() throws -> BPETokenizer {
    var vocabulary: [String: Int32] = [:]
    for byte in 0..<256 { vocabulary[String(ByteEncoder.characterOfByte[byte])] = Int32(byte) }
    return try BPETokenizer(vocabulary: vocabulary, merges: [], addedTokens: [])
}

private func token(_ character: Character) -> Int32 { Int32(character.asciiValue ?? 0) }

@Suite("Line rules in the decoding loops")
struct GenerationLineRuleTests {
    @Test("t_max_predict_ms ends a generation at the first token after a line break once the time is up")
    func predictTimeLimit() throws {
        let tokenizer = try byteTokenizer()
        var expired = GenerationOutput(budget: 100, stop: [], tokenizer: tokenizer, predictTimeLimitSeconds: 0)
        let origin = TokenProvenance(side: .cloud, layer: 8)
        #expect(expired.accept(token("a"), from: origin) { _ in })  // no line yet: goes on
        #expect(!expired.accept(token("\n"), from: origin) { _ in })
        #expect(expired.finish == .length && expired.tokens.count == 2)

        var generous = GenerationOutput(budget: 100, stop: [], tokenizer: tokenizer, predictTimeLimitSeconds: 3600)
        #expect(generous.accept(token("a"), from: origin) { _ in } && generous.accept(token("\n"), from: origin) { _ in })
    }

    @Test("n_indent reaches the decoding loop: a shallower line ends the generation as a stop")
    func minimumIndentInTheLoop() throws {
        var output = GenerationOutput(budget: 100, stop: [], tokenizer: try byteTokenizer(), minimumIndent: 2)
        let origin = TokenProvenance(side: .cloud, layer: 8)
        var shown = ""
        for character in "x\n  y\nz" {
            guard output.accept(token(character), from: origin, onText: { shown += $0.text }) else { break }
        }
        output.finishText { shown += $0.text }
        #expect(output.finish == .stop && shown == "x\n  y\n")
    }

    @Test("an extra end token (a FIM file separator) ends the generation like end of text, unemitted")
    func extraEndTokens() throws {
        var output = GenerationOutput(budget: 100, stop: [], tokenizer: try byteTokenizer(),
                                      bounds: GenerationBounds(endTokens: [token("#")]))
        let origin = TokenProvenance(side: .cloud, layer: 8)
        #expect(output.accept(token("a"), from: origin) { _ in })
        #expect(!output.accept(token("#"), from: origin) { _ in })
        #expect(output.finish == .endOfText && output.tokens == [token("a")])
    }
}
