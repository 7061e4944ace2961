import Foundation
import Testing
@testable import Split

/// A byte-level vocabulary whose byte tokens have ids `offset + byte` (no merges, so text
/// encodes byte by byte) plus `special` tokens at their model's real ids.
private func byteLevelTokenizer(offset: Int32, special: [(String, Int32)], eos: Int32?) throws -> BPETokenizer {
    var vocabulary: [String: Int32] = [:]
    for byte in 0..<256 { vocabulary[String(ByteEncoder.characterOfByte[byte])] = offset + Int32(byte) }
    return try BPETokenizer(vocabulary: vocabulary, merges: [],
                            addedTokens: special.map { AddedToken(content: $0.0, id: $0.1, isSpecial: true) },
                            eosTokenID: eos)
}

/// The ids `byteLevelTokenizer(offset:)` gives `text`, written out from its UTF-8.
private func bytes(_ text: String, offset: Int32) -> [Int32] { text.utf8.map { offset + Int32($0) } }

private func llamaVocabulary(_ name: String) throws -> BPETokenizer {
    try BPETokenizer(gguf: GGUFFile(path: fixturePath("llama-vocab/ggml-vocab-\(name).gguf")))
}

private let wide = FIMPrompt.Window(batchTokens: 2048, contextTokens: 32768)

@Test("a Qwen2.5-Coder prompt puts the repository, each extra file and the edited file before PRE prefix SUF suffix MID")
func qwenCoderRepositoryLayout() throws {
    // Qwen2.5-Coder's ids; the spellings are found without GGUF FIM ids.
    let qwen = try byteLevelTokenizer(offset: 0, special: [
        ("<|endoftext|>", 151643), ("<|im_end|>", 151645), ("<|fim_prefix|>", 151659), ("<|fim_middle|>", 151660),
        ("<|fim_suffix|>", 151661), ("<|fim_pad|>", 151662), ("<|repo_name|>", 151663), ("<|file_sep|>", 151664),
    ], eos: 151643)
    let fim = try FIMPrompt(tokenizer: qwen)
    let input = InfillInput(prefix: "def add(a, b):\n    ", suffix: "\n\nprint(add(1, 2))\n",
                            extraFiles: [InfillFile(filename: "util.py", text: "X = 1\n")], prompt: "re")
    let (ids, truncated) = fim.build(input, window: wide, maxNewTokens: 64)
    let expected: [Int32] = [151663] + bytes("myproject\n", offset: 0)
        + [151664] + bytes("util.py\n", offset: 0) + bytes("X = 1\n", offset: 0)
        + [151664] + bytes("filename\n", offset: 0)
        + [151659] + bytes("def add(a, b):\n    ", offset: 0) + bytes("re", offset: 0)
        + [151661] + bytes("\n\nprint(add(1, 2))\n", offset: 0)
        + [151660]
    #expect(ids == expected)
    #expect(!truncated)
    // <|endoftext|>, <|im_end|>, <|fim_pad|>, <|repo_name|> and <|file_sep|> end the middle.
    #expect(fim.tokens.endTokens == [151643, 151645, 151662, 151663, 151664])
}

@Test("a StarCoder2 prompt uses <fim_prefix>/<fim_suffix>/<fim_middle> and ends on <file_sep> or <|endoftext|>")
func starCoderLayout() throws {
    let starCoder = try byteLevelTokenizer(offset: 100, special: [
        ("<|endoftext|>", 0), ("<fim_prefix>", 1), ("<fim_middle>", 2), ("<fim_suffix>", 3), ("<fim_pad>", 4),
        ("<repo_name>", 5), ("<file_sep>", 6),
    ], eos: 0)
    let fim = try FIMPrompt(tokenizer: starCoder)
    let (ids, _) = fim.build(InfillInput(prefix: "x = ", suffix: "\n"), window: wide, maxNewTokens: 16)
    #expect(ids == [5] + bytes("myproject\n", offset: 100) + [6] + bytes("filename\n", offset: 100)
        + [1] + bytes("x = ", offset: 100) + [3] + bytes("\n", offset: 100) + [2])
    #expect(fim.tokens.endTokens == [0, 4, 5, 6])
}

@Test("special-token text typed in the code is encoded as plain text, never as a FIM token")
func codeTextIsNeverParsedAsSpecialTokens() throws {
    let starCoder = try byteLevelTokenizer(offset: 100, special: [
        ("<|endoftext|>", 0), ("<fim_prefix>", 1), ("<fim_middle>", 2), ("<fim_suffix>", 3),
    ], eos: 0)
    let fim = try FIMPrompt(tokenizer: starCoder)
    let (ids, _) = fim.build(InfillInput(prefix: "s = '<fim_middle>'", suffix: ""), window: wide, maxNewTokens: 16)
    #expect(ids == [1] + bytes("s = '<fim_middle>'", offset: 100) + [3, 2])
}

@Test("DeepSeek-Coder's FIM tokens are found by spelling in its real vocabulary; extra files get a snippet separator")
func deepSeekCoderLayout() throws {
    let deepSeek = try llamaVocabulary("deepseek-coder")
    let fim = try FIMPrompt(tokenizer: deepSeek)
    #expect(deepSeek.tokenString(fim.tokens.prefix) == "<｜fim▁begin｜>")
    #expect(deepSeek.tokenString(fim.tokens.suffix) == "<｜fim▁hole｜>")
    #expect(deepSeek.tokenString(fim.tokens.middle) == "<｜fim▁end｜>")
    #expect(fim.tokens.fileSeparator == nil && fim.tokens.repository == nil)
    let input = InfillInput(prefix: "int main() {\n", suffix: "}\n", extraFiles: [InfillFile(filename: "a.h", text: "int f();\n")])
    let (ids, _) = fim.build(input, window: wide, maxNewTokens: 16)
    let plain = { (text: String) in deepSeek.encode(text, parsingSpecialTokens: false) }
    let bos: [Int32] = deepSeek.addsBOSToken ? [try #require(deepSeek.bosTokenID)] : []
    #expect(ids == plain("\n\n--- snippet ---\n\n") + plain("int f();\n") + bos
        + [fim.tokens.prefix] + plain("int main() {\n") + [fim.tokens.suffix] + plain("}\n") + [fim.tokens.middle])
    let endSpellings = fim.tokens.endTokens.compactMap { deepSeek.tokenString($0) }
    #expect(endSpellings.contains("<|EOT|>") && endSpellings.contains("<｜end▁of▁sentence｜>"))
}

/// Llama 2's real SentencePiece vocabulary grown to CodeLlama's 32016 tokens, with
/// "▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>" at CodeLlama's ids 32007-32010.
private func codeLlamaTokenizer(in directory: TemporaryDirectory) throws -> BPETokenizer {
    let llama2 = try llamaVocabulary("llama-spm")
    let added = (32000..<32016).map { id -> String in
        switch id {
        case 32007: return "▁<PRE>"
        case 32008: return "▁<SUF>"
        case 32009: return "▁<MID>"
        case 32010: return "▁<EOT>"
        default: return "<unused\(id)>"
        }
    }
    var writer = GGUFWriter()
    let control = Int32(BPETokenizer.GGMLTokenType.control.rawValue)
    for (key, value) in llama2.ggufMetadata {
        let more: [GGUFValue]
        switch key {
        case "tokenizer.ggml.tokens": more = added.map { .string($0) }
        case "tokenizer.ggml.scores": more = added.map { _ in .float32(0) }
        case "tokenizer.ggml.token_type": more = added.map { _ in .int32(control) }
        default: more = []
        }
        if case .array(let type, let values) = value, !more.isEmpty {
            writer.setMetadata(key, .array(type, values + more))
        } else {
            writer.setMetadata(key, value)
        }
    }
    return try BPETokenizer(gguf: GGUFFile(path: directory.write(writer.serialized(), to: "codellama.gguf")))
}

@Test("a CodeLlama prompt is BOS ▁<PRE> prefix ▁<SUF> suffix ▁<MID>, or suffix first in SPM layout")
func codeLlamaLayouts() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let codeLlama = try codeLlamaTokenizer(in: directory)
    let input = InfillInput(prefix: "def f():\n", suffix: "\n    return 1\n")
    let plain = { (text: String) in codeLlama.encode(text, parsingSpecialTokens: false) }
    let psm = try FIMPrompt(tokenizer: codeLlama)
    #expect(psm.build(input, window: wide, maxNewTokens: 16).tokens
        == [1, 32007] + plain("def f():\n") + [32008] + plain("\n    return 1\n") + [32009])
    let spm = try FIMPrompt(tokenizer: codeLlama, layout: .suffixPrefixMiddle)
    #expect(spm.build(input, window: wide, maxNewTokens: 16).tokens
        == [1, 32008] + plain("\n    return 1\n") + [32007] + plain("def f():\n") + [32009])
    #expect(psm.tokens.endTokens == [2, 32010])
}

@Test("a model without FIM tokens is refused with a message naming what is missing")
func modelWithoutFIMTokensIsRefused() throws {
    let llama2 = try llamaVocabulary("llama-spm")
    #expect(throws: FIMError.unsupportedModel(missing: ["prefix", "suffix", "middle"])) { try FIMPrompt(tokenizer: llama2) }
    let message = String(describing: FIMError.unsupportedModel(missing: ["prefix", "suffix", "middle"]))
    #expect(message.contains("does not support fill-in-the-middle"))
}

@Test("a long input keeps the prefix's last 3/4 batch, the suffix's first 1/4 less prompt and FIM tokens, and the newest extra context")
func windowTruncation() throws {
    let starCoder = try byteLevelTokenizer(offset: 100, special: [
        ("<|endoftext|>", 0), ("<fim_prefix>", 1), ("<fim_middle>", 2), ("<fim_suffix>", 3), ("<file_sep>", 6),
    ], eos: 0)
    let fim = try FIMPrompt(tokenizer: starCoder)
    let input = InfillInput(prefix: "abcdefghijklmnop", suffix: "ABCDEFGHIJ", extraFiles: [InfillFile(filename: "f", text: "0123456789")],
                            prompt: "z")
    // batch 16: prefix 12 tokens, suffix 16/4 - (2 + 1) = 1; extra 40 - 16 - 2*8 = 8 (the last 8).
    let (ids, truncated) = fim.build(input, window: FIMPrompt.Window(batchTokens: 16, contextTokens: 40), maxNewTokens: 8)
    let extra: [Int32] = [6] + bytes("f\n", offset: 100) + bytes("0123456789", offset: 100) + [6] + bytes("filename\n", offset: 100)
    #expect(ids == Array(extra.suffix(8)) + [1] + bytes("efghijklmnop", offset: 100) + bytes("z", offset: 100)
        + [3] + bytes("A", offset: 100) + [2])
    #expect(truncated)
}

@Test("with a prefix step the cut of a long prefix moves in whole steps, so prompts typed one character apart share it")
func prefixCutMovesInSteps() throws {
    let starCoder = try byteLevelTokenizer(offset: 100, special: [
        ("<|endoftext|>", 0), ("<fim_prefix>", 1), ("<fim_middle>", 2), ("<fim_suffix>", 3),
    ], eos: 0)
    let fim = try FIMPrompt(tokenizer: starCoder)
    // batch 16: the prefix's share is 12 tokens; step 4 cuts it at a multiple of 4 from its start.
    let window = FIMPrompt.Window(batchTokens: 16, contextTokens: 64, prefixStep: 4)
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz")
    var kept: [String] = []
    for length in 13...20 {
        let ids = fim.build(InfillInput(prefix: String(alphabet[..<length]), suffix: ""), window: window, maxNewTokens: 8).tokens
        let prefix = ids[1..<(ids.firstIndex(of: 3) ?? ids.count)].map { Character(UnicodeScalar(UInt8($0 - 100))) }
        kept.append(String(prefix))
        #expect((9...12).contains(prefix.count), "\(length) characters kept \(prefix.count)")
    }
    // 13 to 16 characters are cut after the 4th, 17 to 20 after the 8th.
    #expect(kept == ["efghijklm", "efghijklmn", "efghijklmno", "efghijklmnop",
                     "ijklmnopq", "ijklmnopqr", "ijklmnopqrs", "ijklmnopqrst"])
    // Step 1 is llama.cpp's cut: always the last 12.
    let exact = fim.build(InfillInput(prefix: String(alphabet[..<14]), suffix: ""), window: FIMPrompt.Window(batchTokens: 16, contextTokens: 64),
                          maxNewTokens: 8).tokens
    #expect(exact[1..<13] == ArraySlice(bytes("cdefghijklmn", offset: 100)))
}

@Test("in SPM the text typed at the cursor does not shrink the suffix, so prompts typed one character apart share all before it")
func spmSuffixStaysWhileTyping() throws {
    let starCoder = try byteLevelTokenizer(offset: 100, special: [
        ("<|endoftext|>", 0), ("<fim_prefix>", 1), ("<fim_middle>", 2), ("<fim_suffix>", 3),
    ], eos: 0)
    let window = FIMPrompt.Window(batchTokens: 16, contextTokens: 64)
    let suffix = "ABCDEFGHIJ"
    // llama.vim sends the cursor's line as `prompt`; batch 16 gives the suffix 16/4 - 2 = 2 tokens.
    let typed = ["x", "x =", "x = 1"].map { InfillInput(prefix: "def f():\n", suffix: suffix, prompt: $0) }
    let spm = try FIMPrompt(tokenizer: starCoder, layout: .suffixPrefixMiddle)
    let spmPrompts = typed.map { spm.build($0, window: window, maxNewTokens: 8).tokens }
    for ids in spmPrompts { #expect(Array(ids.prefix(3)) == [3] + bytes("AB", offset: 100)) }
    #expect(spmPrompts[1].starts(with: spmPrompts[0].dropLast()) && spmPrompts[2].starts(with: spmPrompts[1].dropLast()))
    // PSM keeps llama.cpp's share: 2 less the prompt's length (the suffix comes after the prompt there).
    let psm = try FIMPrompt(tokenizer: starCoder)
    let psmPrompts = typed.map { psm.build($0, window: window, maxNewTokens: 8).tokens }
    #expect(psmPrompts.map { $0.count } == [1 + 9 + 1 + 1 + 1 + 1, 1 + 9 + 3 + 1 + 0 + 1, 1 + 9 + 5 + 1 + 0 + 1])
}
