import Foundation
import Testing
@testable import Split

private func llamaVocabulary(_ name: String) throws -> BPETokenizer {
    try BPETokenizer(gguf: GGUFFile(path: fixturePath("llama-vocab/ggml-vocab-\(name).gguf")))
}

/// The texts of llama.cpp's tokenizer suite (Fixtures/llama-vocab/*.inp).
private func suiteTexts() throws -> [String] {
    let input = try String(contentsOfFile: fixturePath("llama-vocab/ggml-vocab-llama-spm.gguf.inp"), encoding: .utf8)
    return input.components(separatedBy: "\n__ggml_vocab_test__\n")
}

@Test("a SentencePiece vocabulary reads llama.cpp's defaults: space prefix, BOS added, scores and byte tokens")
func sentencePieceSettings() throws {
    let llama2 = try llamaVocabulary("llama-spm")
    #expect(llama2.model == .sentencePiece && llama2.vocabularySize == 32000)
    #expect(llama2.addsPrefixSpace && llama2.addsBOSToken && !llama2.addsEOSToken)
    #expect(llama2.bosTokenID == 1 && llama2.eosTokenID == 2 && llama2.unknownTokenID == 0)
    #expect(llama2.unencodableBytes.isEmpty)
    #expect(llama2.tokenBytes(llama2.tokenID("<0x0A>") ?? -1) == [0x0A])
    #expect(llama2.encode("Hello world", parsingSpecialTokens: false) == [15043, 3186])
    // After an added token the text gets the space prefix again, as in llama.cpp.
    #expect(llama2.encode("<s>Hello") == [1, 15043])
}

@Test("SentencePiece text decodes back to itself, byte fallback included, and streams token by token")
func sentencePieceRoundTrip() throws {
    let llama2 = try llamaVocabulary("llama-spm")
    for text in try suiteTexts() {
        let ids = llama2.encode(text, parsingSpecialTokens: false)
        #expect(llama2.decode(ids) == text, "\(text.debugDescription)")
        var stream = StreamingDetokenizer(tokenizer: llama2)
        let streamed = ids.map { stream.append($0) }.joined() + stream.finish()
        // The stream keeps the prefix space that `decode` drops.
        #expect(streamed == (text.isEmpty ? "" : " " + text), "\(text.debugDescription)")
    }
    // A character with no token of its own is spelled in byte tokens.
    let ids = llama2.encode("𝔘", parsingSpecialTokens: false)
    #expect(ids.count == 5 && ids.dropFirst().allSatisfy { llama2.tokenString($0)?.hasPrefix("<0x") == true })
}

@Test("without add_space_prefix (Gemma) no space is put before the text")
func sentencePieceWithoutSpacePrefix() throws {
    let llama2 = try llamaVocabulary("llama-spm")
    var writer = GGUFWriter()
    for (key, value) in llama2.ggufMetadata where key != "tokenizer.ggml.add_space_prefix" { writer.setMetadata(key, value) }
    writer.setMetadata("tokenizer.ggml.add_space_prefix", .bool(false))
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let gemmaLike = try BPETokenizer(gguf: GGUFFile(path: directory.write(writer.serialized(), to: "no-prefix.gguf")))
    #expect(!gemmaLike.addsPrefixSpace)
    // "Hello" without the "▁" is a different token than "▁Hello".
    let ids = gemmaLike.encode("Hello world", parsingSpecialTokens: false)
    #expect(ids != [15043, 3186] && ids.last == 3186)
    #expect(gemmaLike.decode(ids) == "Hello world")
    #expect(gemmaLike.encode(" Hello", parsingSpecialTokens: false) == [15043])
}

@Test("a SentencePiece tokenizer exported to GGUF metadata reads back to the same ids", arguments: ["llama-spm", "phi-3"])
func sentencePieceExportRoundTrip(name: String) throws {
    let original = try llamaVocabulary(name)
    var writer = GGUFWriter()
    for (key, value) in original.ggufMetadata { writer.setMetadata(key, value) }
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let restored = try BPETokenizer(gguf: GGUFFile(path: directory.write(writer.serialized(), to: "spm.gguf")))
    #expect(restored.model == .sentencePiece && restored.vocabularySize == original.vocabularySize)
    // Phi-3's whitespace stripping comes from general.name, which is not tokenizer metadata.
    #expect(restored.addedTokens.map(\.content) == original.addedTokens.map(\.content))
    #expect(restored.addedTokens.map(\.id) == original.addedTokens.map(\.id) && restored.chatTemplate == original.chatTemplate)
    for text in try suiteTexts() {
        #expect(restored.encode(text, parsingSpecialTokens: false) == original.encode(text, parsingSpecialTokens: false))
    }
}

@Test("any text survives SentencePiece encode then decode, through byte tokens where no token fits")
func sentencePieceRandomTextRoundTrip() throws {
    // Valid UTF-8 only: as in llama.cpp, a stray lead byte can swallow the first byte of the
    // "▁" standing for a space after it, which then decodes as "▁".
    let llama2 = try llamaVocabulary("llama-spm")
    var generator = SplitMix64(state: 11)
    let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0x09...0x0D, 0xA0...0x2FF, 0x370...0x52F, 0x3000...0x30FF, 0x4E00...0x9FFF, 0x1F300...0x1FAFF]
    for _ in 0..<300 {
        var text = String.UnicodeScalarView()
        for _ in 0..<(generator.next() % 40) {
            let range = ranges[Int(generator.next() % UInt64(ranges.count))]
            let value = range.lowerBound + UInt32(generator.next() % UInt64(range.count))
            if let scalar = Unicode.Scalar(value) { text.append(scalar) }
        }
        let bytes = Array(String(text).utf8)
        #expect(llama2.decodeBytes(llama2.encodeBytes(bytes, parsingSpecialTokens: false)) == bytes, "\(String(text).debugDescription)")
    }
}

@Test("a 50 KB SentencePiece text, with and without spaces, encodes in one pass and round-trips", .timeLimit(.minutes(1)))
func longSentencePieceTextEncodes() throws {
    let llama2 = try llamaVocabulary("llama-spm")
    var generator = SplitMix64(state: 5)
    let letters = Array("etaoinshrdlucmfwyp     ".utf8)
    for alphabet in [letters, Array(letters.prefix(18))] {
        let text = (0..<50_000).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        let start = Date()
        let ids = llama2.encodeBytes(text, parsingSpecialTokens: false)
        print("SentencePiece: 50 KB in \(Int(Date().timeIntervalSince(start) * 1000)) ms, \(ids.count) tokens")
        #expect(ids.count < text.count && llama2.decodeBytes(ids) == text)
    }
}
