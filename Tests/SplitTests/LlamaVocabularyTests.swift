import Foundation
import Testing
@testable import Split

/// llama.cpp's own tokenizer test suite (`tests/test-tokenizer-0.cpp`): each
/// `models/ggml-vocab-NAME.gguf` with its `.inp` (texts separated by `__ggml_vocab_test__`
/// lines) and `.out` (the ids llama.cpp and HF `tokenizers` give, one line per text). Texts are
/// tokenized as that test does: no BOS/EOS, special tokens not parsed.
private struct LlamaVocabularySuite {
    let name: String
    let cases: [(text: String, ids: [Int32])]

    init(directory: String, name: String) throws {
        self.name = name
        let base = "\(directory)/ggml-vocab-\(name).gguf"
        let input = try String(contentsOfFile: base + ".inp", encoding: .utf8)
        let output = try String(contentsOfFile: base + ".out", encoding: .utf8)
        var texts = input.components(separatedBy: "\n__ggml_vocab_test__\n")
        // test-tokenizer-0 stops at the end of the input: a final separator ends the last text.
        if input.hasSuffix("\n__ggml_vocab_test__\n") { texts.removeLast() }
        var lines = output.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        try #require(texts.count == lines.count, "\(name): \(texts.count) texts, \(lines.count) expected lines")
        cases = try zip(texts, lines).map { text, line in
            let ids = try line.split(separator: " ").map { try #require(Int32($0), "\(name): bad id '\($0)'") }
            return (text, ids)
        }
    }

    /// The cases whose ids the tokenizer reproduces, and every case.
    func run(_ tokenizer: BPETokenizer) -> (passed: Int, total: Int) {
        var passed = 0
        for (text, expected) in cases {
            let ids = tokenizer.encode(text, parsingSpecialTokens: false)
            #expect(ids == expected, "\(name): \(text.debugDescription)")
            if ids == expected { passed += 1 }
        }
        return (passed, cases.count)
    }
}

/// The vocabularies committed under Fixtures/llama-vocab (the others are several MB each; see
/// `externalVocabularies`).
private let committedVocabularies = ["llama-spm", "phi-3", "deepseek-coder"]

@Test("every text of llama.cpp's tokenizer suite gives llama.cpp's ids", arguments: committedVocabularies)
func llamaVocabularySuite(name: String) throws {
    let directory = fixturePath("llama-vocab")
    let tokenizer = try BPETokenizer(gguf: try GGUFFile(path: "\(directory)/ggml-vocab-\(name).gguf"))
    let suite = try LlamaVocabularySuite(directory: directory, name: name)
    let result = suite.run(tokenizer)
    print("llama.cpp tokenizer suite \(name): \(result.passed)/\(result.total)")
    #expect(result.passed == result.total && result.total > 10)
}

/// Every vocabulary family Split implements, read from a llama.cpp `models` directory named by
/// `SPLIT_LLAMA_VOCAB_DIR` (the test is skipped without it): most are too large to commit.
/// tools/fixtures/fetch_llama_vocab.sh puts them in place from llama-cpp-python's source package.
private let externalDirectory = ProcessInfo.processInfo.environment["SPLIT_LLAMA_VOCAB_DIR"]
private let externalVocabularies = [
    "llama-spm", "phi-3", "deepseek-coder", "deepseek-llm", "falcon", "mpt", "gpt-2", "starcoder", "refact", "llama-bpe",
    "qwen2", "command-r",
]

@Test("llama.cpp's suite passes for the vocabularies of a llama.cpp checkout", .enabled(if: externalDirectory != nil),
      arguments: externalVocabularies)
func externalLlamaVocabularySuite(name: String) throws {
    let directory = try #require(externalDirectory)
    guard FileManager.default.fileExists(atPath: "\(directory)/ggml-vocab-\(name).gguf") else {
        print("llama.cpp tokenizer suite \(name): not in \(directory), not run")
        return
    }
    let tokenizer = try BPETokenizer(gguf: try GGUFFile(path: "\(directory)/ggml-vocab-\(name).gguf"))
    let suite = try LlamaVocabularySuite(directory: directory, name: name)
    let result = suite.run(tokenizer)
    print("llama.cpp tokenizer suite \(name): \(result.passed)/\(result.total)")
    #expect(result.passed == result.total)
}
