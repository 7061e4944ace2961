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
    #expect(restored.addedTokens == original.addedTokens && restored.chatTemplate == original.chatTemplate)
    for text in try suiteTexts() {
        #expect(restored.encode(text, parsingSpecialTokens: false) == original.encode(text, parsingSpecialTokens: false))
    }
}
