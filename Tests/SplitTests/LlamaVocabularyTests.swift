import Foundation
import Testing
@testable import Split

/// Texts and the ids llama.cpp gives them, in the files of llama.cpp's own tokenizer test suite
/// (`tests/test-tokenizer-0.cpp`): an `.inp` of texts separated by `__ggml_vocab_test__` lines
/// and an `.out` with one line of ids per text. Texts are tokenized as that test does: no
/// BOS/EOS, special tokens not parsed.
private struct LlamaVocabularySuite {
    let name: String
    let cases: [(text: String, ids: [Int32])]

    init(name: String, input inputPath: String, output outputPath: String) throws {
        self.name = name
        // Split on bytes: a text ending in "\r" must not join the separator's "\n" into one Character.
        let input = Array(try Data(contentsOf: URL(fileURLWithPath: inputPath)))
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [String] = []
        var start = 0
        var index = 0
        while index + separator.count <= input.count {
            if input[index..<(index + separator.count)].elementsEqual(separator) {
                texts.append(String(decoding: input[start..<index], as: UTF8.self))
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        // test-tokenizer-0 stops at the end of the input: a final separator ends the last text.
        if start < input.count { texts.append(String(decoding: input[start...], as: UTF8.self)) }
        var lines = try String(contentsOfFile: outputPath, encoding: .utf8).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        try #require(texts.count == lines.count, "\(name): \(texts.count) texts, \(lines.count) lines of ids")
        cases = try zip(texts, lines).map { text, line in
            (text, try line.split(separator: " ").map { try #require(Int32($0), "\(name): bad id '\($0)'") })
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
        print("llama.cpp tokenizer suite \(name): \(passed)/\(cases.count)")
        return (passed, cases.count)
    }
}

/// llama.cpp's suite for `vocabulary` (in `directory`), then the committed random texts with
/// the ids llama.cpp gives them (tools/fixtures/make_llama_vocab_random.py).
private func runSuites(vocabulary name: String, directory: String) throws {
    let base = "\(directory)/ggml-vocab-\(name).gguf"
    let tokenizer = try BPETokenizer(gguf: try GGUFFile(path: base))
    var total = 0
    // gpt-neox has no .inp/.out in llama.cpp: only the random texts.
    if FileManager.default.fileExists(atPath: base + ".out") {
        let result = try LlamaVocabularySuite(name: name, input: base + ".inp", output: base + ".out").run(tokenizer)
        #expect(result.passed == result.total)
        total += result.total
    }
    let random = try LlamaVocabularySuite(
        name: "\(name) (random texts)", input: fixturePath("llama-vocab/random/random.inp"),
        output: fixturePath("llama-vocab/random/\(name).random.out"))
    let result = random.run(tokenizer)
    #expect(result.passed == result.total)
    total += result.total
    #expect(total >= 300)
}

/// The vocabularies committed under Fixtures/llama-vocab (the others are 1.7-11 MB each).
private let committedVocabularies = ["llama-spm", "phi-3", "deepseek-coder"]

@Test("every text of llama.cpp's tokenizer suite, and 300 random texts, give llama.cpp's ids",
      arguments: committedVocabularies)
func llamaVocabularySuite(name: String) throws {
    try runSuites(vocabulary: name, directory: fixturePath("llama-vocab"))
}

/// Every other vocabulary family Split implements, read from a llama.cpp `models` directory
/// named by `SPLIT_LLAMA_VOCAB_DIR` (the test is skipped without it): too large to commit.
/// tools/fixtures/fetch_llama_vocab.sh puts them in place from llama-cpp-python's source package.
private let externalDirectory = ProcessInfo.processInfo.environment["SPLIT_LLAMA_VOCAB_DIR"]
private let externalVocabularies = [
    "deepseek-llm", "falcon", "mpt", "gpt-neox", "gpt-2", "starcoder", "refact", "llama-bpe", "qwen2", "command-r",
]

@Test("llama.cpp's suite and the random texts give llama.cpp's ids for the vocabularies of a llama.cpp checkout",
      .enabled(if: externalDirectory != nil), arguments: externalVocabularies)
func externalLlamaVocabularySuite(name: String) throws {
    let directory = try #require(externalDirectory)
    guard FileManager.default.fileExists(atPath: "\(directory)/ggml-vocab-\(name).gguf") else {
        print("llama.cpp tokenizer suite \(name): not in \(directory), not run")
        return
    }
    try runSuites(vocabulary: name, directory: directory)
}
