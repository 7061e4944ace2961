import Foundation
import Testing
@testable import Split

/// One golden case written by tools/fixtures/make_tokenizer_fixtures.py with HF `tokenizers`.
private struct GoldenCase: Decodable {
    let text: String
    let ids: [Int32]
    let decoded: String
    let pieces: [String]
}

private func golden(_ name: String) throws -> [GoldenCase] {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("tokenizer/\(name)/golden.json")))
    return try JSONDecoder().decode([GoldenCase].self, from: data)
}

private func tokenizer(_ name: String) throws -> BPETokenizer {
    try BPETokenizer(tokenizerJSONPath: fixturePath("tokenizer/\(name)/tokenizer.json"))
}

private let fixtureNames = ["gpt2", "llama3", "qwen2", "smollm"]

@Test("encoding gives the same ids as Hugging Face tokenizers, and those ids decode to its text", arguments: fixtureNames)
func encodingMatchesReference(name: String) throws {
    let bpe = try tokenizer(name)
    for sample in try golden(name) {
        #expect(bpe.encode(sample.text) == sample.ids, "\(name): \(sample.text.debugDescription)")
        #expect(bpe.decode(sample.ids) == sample.decoded, "decoding \(name): \(sample.text.debugDescription)")
    }
}

@Test("the pre-tokenizer splits text where the reference regex does", arguments: fixtureNames)
func preTokenizerMatchesReference(name: String) throws {
    let bpe = try tokenizer(name)
    for sample in try golden(name) where !sample.text.contains("<|endoftext|>") {
        let text = bpe.normalizesToNFC ? sample.text.precomposedStringWithCanonicalMapping : sample.text
        let bytes = Array(text.utf8)
        let pieces = bpe.preTokenizer.pieces(of: bytes).map { ByteEncoder.encode(bytes[$0]) }
        #expect(pieces == sample.pieces, "\(name): \(sample.text.debugDescription)")
    }
}

@Test("any byte sequence, valid UTF-8 or not, survives encode then decode", arguments: fixtureNames)
func randomBytesRoundTrip(name: String) throws {
    let bpe = try tokenizer(name)
    var generator = SplitMix64(state: 42)
    for length in 0..<300 {
        let bytes = (0..<length % 60).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        #expect(bpe.decodeBytes(bpe.encodeBytes(bytes)) == bytes, "\(bytes)")
    }
    // Random text mixing scripts, emoji, digits, whitespace runs and the special token.
    let characters: [String] = "aZé日🙂٣ \t\n\r'sS.,!?-_<|>0123456789\u{00A0}\u{0301}".map { String($0) }
    let alphabet: [String] = characters + ["<|endoftext|>"]
    for _ in 0..<300 {
        var text = ""
        for _ in 0..<(generator.next() % 40) { text += alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        let expected = bpe.normalizesToNFC ? text.precomposedStringWithCanonicalMapping : text
        #expect(bpe.decode(bpe.encode(text)) == expected, "\(text.debugDescription)")
    }
}

@Test("the special token is one id, and is plain text when special tokens are not parsed")
func specialTokens() throws {
    let bpe = try tokenizer("gpt2")
    let endOfText = try #require(bpe.tokenID("<|endoftext|>"))
    #expect(bpe.eosTokenID == endOfText && bpe.isSpecial(endOfText))
    #expect(bpe.encode("a<|endoftext|>b").contains(endOfText))
    let plain = bpe.encode("<|endoftext|>", parsingSpecialTokens: false)
    #expect(!plain.contains(endOfText) && plain.count > 1)
    #expect(bpe.decode(bpe.encode("x<|endoftext|>y"), skippingSpecialTokens: true) == "xy")
    #expect(bpe.vocabularySize == 809)
    #expect(bpe.tokenBytes(-1).isEmpty && bpe.tokenBytes(Int32(bpe.vocabularySize)).isEmpty)
}

@Test("a tokenizer read from GGUF metadata gives the same ids as its tokenizer.json")
func ggufTokenizerMatchesJSON() throws {
    // tokenizer.gguf was written by the reference `gguf` Python package.
    let file = try GGUFFile(path: fixturePath("tokenizer/gpt2/tokenizer.gguf"))
    let fromGGUF = try BPETokenizer(gguf: file)
    let fromJSON = try tokenizer("gpt2")
    #expect(fromGGUF.vocabularySize == fromJSON.vocabularySize)
    #expect(fromGGUF.eosTokenID == fromJSON.eosTokenID && fromGGUF.bosTokenID == fromJSON.tokenID("<|endoftext|>"))
    for sample in try golden("gpt2") {
        #expect(fromGGUF.encode(sample.text) == sample.ids, "\(sample.text.debugDescription)")
    }
    // The reference writer's tensors read back too (dims reversed to PyTorch order).
    let matrix = try file.weight("f32.weight")
    #expect(matrix.shape == [3, 4] && matrix.type == .f32)
    #expect(matrix.withBytes { $0.loadUnaligned(fromByteOffset: 44, as: Float.self) } == 11)
    #expect(try file.weight("f16.weight").shape == [2, 3])
}

@Test("broken or unsupported tokenizer files give a TokenizerError with a message")
func badTokenizerFiles() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let original = try String(contentsOfFile: fixturePath("tokenizer/gpt2/tokenizer.json"), encoding: .utf8)
    func load(_ text: String) throws -> BPETokenizer {
        try BPETokenizer(tokenizerJSONPath: directory.write(Array(text.utf8), to: "tokenizer.json"))
    }
    #expect(throws: TokenizerError.self) { try load("{ not json") }
    #expect(throws: TokenizerError.self) { try load(#"{"model": {"vocab": {}}}"#) }
    #expect(throws: TokenizerError.unsupported("model type Unigram (only BPE is implemented)")) {
        try load(original.replacingOccurrences(of: #""type": "BPE""#, with: #""type": "Unigram""#))
    }
    #expect(throws: TokenizerError.missingByteToken(byte: 0x21)) {
        try load(original.replacingOccurrences(of: #""!": "#, with: #""!!!!": "#))
    }
    #expect(throws: TokenizerError.self) {
        try load(original.replacingOccurrences(of: #""merges": ["#, with: #""merges": [["Ġ", "Ġnotatoken"],"#))
    }
    #expect(throws: TokenizerError.self) {
        try load(original.replacingOccurrences(of: #""use_regex": true"#, with: #""use_regex": false"#))
    }
    #expect("\(TokenizerError.missingByteToken(byte: 0x21))".contains("0x21"))

    var writer = GGUFWriter()
    writer.setMetadata("tokenizer.ggml.model", .string("bert"))
    let wordPiece = try GGUFFile(path: directory.write(writer.serialized(), to: "bert.gguf"))
    #expect(throws: TokenizerError.unsupported(
        "tokenizer.ggml.model 'bert' (Split implements 'gpt2', byte-level BPE, and 'llama', SentencePiece)")) {
        try BPETokenizer(gguf: wordPiece)
    }
    writer.setMetadata("tokenizer.ggml.model", .string("llama"))
    let spmWithoutTokens = try GGUFFile(path: directory.write(writer.serialized(), to: "spm.gguf"))
    #expect(throws: TokenizerError.self) { try BPETokenizer(gguf: spmWithoutTokens) }
    writer.setMetadata("tokenizer.ggml.model", .string("gpt2"))
    let noTokens = try GGUFFile(path: directory.write(writer.serialized(), to: "empty.gguf"))
    #expect(throws: TokenizerError.self) { try BPETokenizer(gguf: noTokens) }
}

@Test("a tokenizer exported to GGUF metadata reads back to the same ids", arguments: fixtureNames)
func tokenizerGGUFExportRoundTrip(name: String) throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let original = try tokenizer(name)
    var writer = GGUFWriter()
    for (key, value) in original.ggufMetadata { writer.setMetadata(key, value) }
    let path = directory.file("tokenizer.gguf")
    try writer.write(to: path)
    let restored = try BPETokenizer(gguf: try GGUFFile(path: path))
    #expect(restored.preTokenizer == original.preTokenizer && restored.normalizesToNFC == original.normalizesToNFC)
    #expect(restored.vocabularySize == original.vocabularySize && restored.eosTokenID == original.eosTokenID)
    for sample in try golden(name) {
        #expect(restored.encode(sample.text) == sample.ids, "\(name): \(sample.text.debugDescription)")
    }
}

@Test("every spelling finds its id, an added token sharing an id with a vocabulary entry still finds it, and merges export as written", arguments: fixtureNames)
func tokenSpellingIndex(name: String) throws {
    let bpe = try tokenizer(name)
    for id in Int32(0)..<Int32(bpe.vocabularySize) {
        guard let spelling = bpe.tokenString(id) else { continue }
        let found = try #require(bpe.tokenID(spelling), "\(name): \(spelling.debugDescription)")
        // Duplicate spellings keep one id; whichever it is, it is spelled the same.
        #expect(bpe.tokenString(found) == spelling, "\(name): id \(id)")
    }
    #expect(bpe.tokenID("\u{1}not a token at all\u{2}") == nil)

    // "ab" is both a vocabulary entry (id 3) and, spelled differently, the added token of id 3.
    let byteVocabulary = Dictionary(uniqueKeysWithValues: (0..<256).map {
        (String(ByteEncoder.characterOfByte[$0]), Int32($0))
    })
    var vocabulary = byteVocabulary
    vocabulary["ab"] = 256
    let shared = try BPETokenizer(
        vocabulary: vocabulary, merges: [("a", "b"), ("a", "b")],
        addedTokens: [AddedToken(content: "<ab>", id: 256, isSpecial: true)])
    #expect(shared.tokenID("<ab>") == 256 && shared.tokenID("ab") == 256 && shared.tokenID("a") == 97)
    #expect(shared.mergeRules.map { [$0.0, $0.1] } == [["a", "b"], ["a", "b"]])
}

@Test("streamed text, token by token, adds up to the decoded text and never splits a character")
func streamingDetokenizer() throws {
    let bpe = try tokenizer("gpt2")
    for sample in try golden("gpt2") {
        var stream = StreamingDetokenizer(tokenizer: bpe)
        var pieces = sample.ids.map { stream.append($0) }
        pieces.append(stream.finish())
        #expect(pieces.joined() == sample.decoded, "\(sample.text.debugDescription)")
        #expect(!pieces.contains { $0.contains("\u{FFFD}") }, "\(sample.text.debugDescription)")
    }
    var stream = StreamingDetokenizer(tokenizer: bpe)
    let emoji = bpe.encodeBytes(Array(Array("🙂".utf8).prefix(2)))  // half a character
    #expect(emoji.map { stream.append($0) }.joined().isEmpty)
    #expect(stream.finish() == "\u{FFFD}")
}

@Test("a 50 KB word without spaces encodes in one pass and round-trips", .timeLimit(.minutes(1)))
func longPieceEncodes() throws {
    let bpe = try tokenizer("gpt2")
    var generator = SplitMix64(state: 7)
    let letters = Array("etaoinshrdlucmfwyp".utf8)
    let word = (0..<50_000).map { _ in letters[Int(generator.next() % UInt64(letters.count))] }
    let ids = bpe.encodeBytes(word)
    #expect(ids.count < word.count && bpe.decodeBytes(ids) == word)
}
