import Foundation
import Testing
@testable import Split

/// A GGUF file holding only tokenizer metadata, written to a temporary directory.
private func tokenizerFile(_ entries: [(String, GGUFValue)], in directory: TemporaryDirectory) throws -> GGUFFile {
    var writer = GGUFWriter()
    for (key, value) in entries { writer.setMetadata(key, value) }
    return try GGUFFile(path: directory.write(writer.serialized(), to: "tokenizer-\(UUID().uuidString).gguf"))
}

/// Byte-level metadata: one token per byte (except `missingBytes`), then `extra` tokens with their types.
private func byteLevelEntries(
    pre: String?, extra: [(String, GGMLTokenType)] = [], merges: [String] = [], missingBytes: Set<UInt8> = []
) -> [(String, GGUFValue)] {
    let byteTokens = (0..<256).filter { !missingBytes.contains(UInt8($0)) }.map { String(ByteEncoder.characterOfByte[$0]) }
    let tokens = byteTokens + extra.map(\.0)
    let types = byteTokens.map { _ in Int32(1) } + extra.map { Int32($0.1.rawValue) }
    var entries: [(String, GGUFValue)] = [
        ("tokenizer.ggml.model", .string("gpt2")),
        ("tokenizer.ggml.tokens", .strings(tokens)),
        ("tokenizer.ggml.token_type", .int32s(types)),
        ("tokenizer.ggml.merges", .strings(merges)),
    ]
    if let pre { entries.append(("tokenizer.ggml.pre", .string(pre))) }
    return entries
}

private typealias GGMLTokenType = BPETokenizer.GGMLTokenType

@Test("with a Llama 3 pre-tokenizer a word that is itself a token is one token, even when no merge reaches it")
func llama3IgnoresMerges() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    // "Ġa" is reachable by a merge, "Ġab" is not: only ignore_merges finds it.
    let extra: [(String, GGMLTokenType)] = [("Ġa", .normal), ("Ġab", .normal)]
    let llama3 = try BPETokenizer(gguf: tokenizerFile(byteLevelEntries(pre: "llama-bpe", extra: extra, merges: ["Ġ a"]), in: directory))
    let gpt2 = try BPETokenizer(gguf: tokenizerFile(byteLevelEntries(pre: "gpt-2", extra: extra, merges: ["Ġ a"]), in: directory))
    #expect(llama3.ignoresMerges && !gpt2.ignoresMerges)
    #expect(llama3.encode(" ab") == [257])
    #expect(gpt2.encode(" ab") == [256, 98])
    #expect(llama3.decode(llama3.encode(" ab abc")) == " ab abc")
}

@Test("user-defined tokens are matched even when special tokens are not parsed; control tokens are not")
func userDefinedTokensMatchWithoutSpecialParsing() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let extra: [(String, GGMLTokenType)] = [("<fn>", .userDefined), ("<|eot|>", .control)]
    let bpe = try BPETokenizer(gguf: tokenizerFile(byteLevelEntries(pre: "gpt-2", extra: extra), in: directory))
    let plain = bpe.encode("x<fn>y<|eot|>", parsingSpecialTokens: false)
    #expect(plain.contains(256) && !plain.contains(257))
    #expect(bpe.encode("x<fn>y<|eot|>", parsingSpecialTokens: true).suffix(1) == [257])

    // Phi-3 marks "</s>" user-defined, Llama 2 marks it control (llama.cpp's vocabularies).
    let phi3 = try BPETokenizer(gguf: GGUFFile(path: fixturePath("llama-vocab/ggml-vocab-phi-3.gguf")))
    let llama2 = try BPETokenizer(gguf: GGUFFile(path: fixturePath("llama-vocab/ggml-vocab-llama-spm.gguf")))
    #expect(phi3.encode("done</s>", parsingSpecialTokens: false).last == 2)
    #expect(!llama2.encode("done</s>", parsingSpecialTokens: false).contains(2))
    #expect(llama2.encode("done</s>", parsingSpecialTokens: true).last == 2)
}

@Test("a vocabulary without tokens for bytes no UTF-8 text holds still loads; one without '!' is refused")
func missingByteTokens() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let neverInUTF8: Set<UInt8> = Set([0xC0, 0xC1] + Array(0xF5...0xFF))
    let bpe = try BPETokenizer(gguf: tokenizerFile(byteLevelEntries(pre: "gpt-2", missingBytes: neverInUTF8), in: directory))
    #expect(Set(bpe.unencodableBytes) == neverInUTF8)
    let text = Array("añ🙂".utf8)
    #expect(bpe.decodeBytes(bpe.encodeBytes(text)) == text)
    // Such a byte in the input is dropped, as llama.cpp drops it.
    #expect(bpe.decodeBytes(bpe.encodeBytes([0x41, 0xFF, 0x42])) == [0x41, 0x42])
    #expect(throws: TokenizerError.missingByteToken(byte: 0x21)) {
        try BPETokenizer(gguf: tokenizerFile(byteLevelEntries(pre: "gpt-2", missingBytes: [0x21]), in: directory))
    }
}

@Test("an unknown tokenizer model or pre-tokenizer is refused with its name")
func unknownTokenizerIsRefused() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    for model in ["bert", "t5", "gemma4"] {
        var entries = byteLevelEntries(pre: "gpt-2")
        entries[0] = ("tokenizer.ggml.model", .string(model))
        #expect(throws: TokenizerError.self) { try BPETokenizer(gguf: tokenizerFile(entries, in: directory)) }
        do {
            _ = try BPETokenizer(gguf: tokenizerFile(entries, in: directory))
        } catch {
            #expect("\(error)".contains("'\(model)'"))
        }
    }
    for pre in ["tekken", "chatglm-bpe", "bloom", "no-such-pre"] {
        #expect(throws: TokenizerError.unsupported("tokenizer.ggml.pre '\(pre)' (a pre-tokenizer Split does not implement)")) {
            try BPETokenizer(gguf: tokenizerFile(byteLevelEntries(pre: pre), in: directory))
        }
    }
}

@Test("chat template, end-of-turn and fill-in-the-middle ids are read from GGUF and written back")
func completionMetadata() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let extra: [(String, GGMLTokenType)] = [
        ("<|fim_prefix|>", .control), ("<|fim_suffix|>", .control), ("<|fim_middle|>", .control),
        ("<|fim_pad|>", .control), ("<|repo_name|>", .control), ("<|file_sep|>", .control), ("<|im_end|>", .control),
    ]
    let template = "{% for message in messages %}{{ message['content'] }}<|im_end|>{% endfor %}"
    let entries = byteLevelEntries(pre: "qwen2", extra: extra) + [
        ("tokenizer.chat_template", .string(template)),
        ("tokenizer.ggml.fim_pre_token_id", .uint32(256)), ("tokenizer.ggml.fim_suf_token_id", .uint32(257)),
        ("tokenizer.ggml.fim_mid_token_id", .uint32(258)), ("tokenizer.ggml.fim_pad_token_id", .uint32(259)),
        ("tokenizer.ggml.fim_rep_token_id", .uint32(260)), ("tokenizer.ggml.fim_sep_token_id", .uint32(261)),
        ("tokenizer.ggml.eot_token_id", .uint32(262)),
        ("tokenizer.ggml.eom_token_id", .uint32(99_999)),  // out of range: ignored, as llama.cpp does
    ]
    let bpe = try BPETokenizer(gguf: tokenizerFile(entries, in: directory))
    var expected = SpecialTokenIDs()
    (expected.fimPrefix, expected.fimSuffix, expected.fimMiddle) = (256, 257, 258)
    (expected.fimPad, expected.fimRepository, expected.fimSeparator, expected.endOfTurn) = (259, 260, 261, 262)
    #expect(bpe.specialTokenIDs == expected && bpe.chatTemplate == template)

    var writer = GGUFWriter()
    for (key, value) in bpe.ggufMetadata { writer.setMetadata(key, value) }
    let restored = try BPETokenizer(gguf: GGUFFile(path: directory.write(writer.serialized(), to: "restored.gguf")))
    #expect(restored.specialTokenIDs == expected && restored.chatTemplate == template)

    // Older files name the FIM tokens with the deprecated prefix/suffix/middle keys.
    let old = try BPETokenizer(gguf: tokenizerFile(byteLevelEntries(pre: "gpt-2", extra: extra) + [
        ("tokenizer.ggml.prefix_token_id", .uint32(256)), ("tokenizer.ggml.suffix_token_id", .uint32(257)),
        ("tokenizer.ggml.middle_token_id", .uint32(258)),
    ], in: directory))
    #expect(old.specialTokenIDs.fimPrefix == 256 && old.specialTokenIDs.fimSuffix == 257 && old.specialTokenIDs.fimMiddle == 258)

    let phi3 = try BPETokenizer(gguf: GGUFFile(path: fixturePath("llama-vocab/ggml-vocab-phi-3.gguf")))
    #expect(phi3.chatTemplate?.hasPrefix("{{ bos_token }}") == true && phi3.eosTokenID == 32000)
    #expect(phi3.specialTokenIDs.padding == 32000 && phi3.specialTokenIDs.fimPrefix == nil)
}
