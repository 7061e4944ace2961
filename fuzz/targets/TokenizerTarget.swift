import Foundation

/// The bundled code model's tokenizer, loaded once (SPLIT_FUZZ_MODEL, default
/// models/split-code-7m.gguf relative to the working directory).
nonisolated(unsafe) private var bundledTokenizer: BPETokenizer? = {
    let path = ProcessInfo.processInfo.environment["SPLIT_FUZZ_MODEL"] ?? "models/split-code-7m.gguf"
    guard let file = try? GGUFFile(path: path), let tokenizer = try? BPETokenizer(gguf: file) else {
        FileHandle.standardError.write(Data("tokenizer target: cannot load \(path)\n".utf8))
        exit(2)
    }
    return tokenizer
}()

/// Tokenizer: the first byte picks a mode.
/// - 0…127: encode the rest as bytes (any bytes, valid UTF-8 or not); decoding the ids must
///   give back exactly those bytes, every id must be in the vocabulary, and a streaming
///   detokenizer fed the ids one by one must emit the same text as a whole decode.
/// - 128…191: decode the rest as arbitrary 32-bit ids (unknown and negative ids included).
/// - 192…255: load the rest as a tokenizer.json.
func fuzzTokenizer(_ bytes: UnsafeRawBufferPointer) {
    guard let mode = bytes.first else { return }
    let rest = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
    switch mode {
    case 0..<128:
        guard let tokenizer = bundledTokenizer else { return }
        let input = Array(rest)
        let ids = tokenizer.encodeBytes(input, parsingSpecialTokens: mode & 1 == 0)
        let vocabularySize = tokenizer.vocabularySize
        fuzzCheck(ids.allSatisfy { $0 >= 0 && Int($0) < vocabularySize }, "an id outside the vocabulary")
        if !tokenizer.addsPrefixSpace {
            fuzzCheck(tokenizer.decodeBytes(ids) == input, "decode(encode(bytes)) differs from the bytes")
        }
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        var streamed = ""
        for id in ids { streamed += stream.append(id) }
        streamed += stream.finish()
        fuzzCheck(streamed == tokenizer.decode(ids), "streamed text differs from a whole decode")
    case 128..<192:
        guard let tokenizer = bundledTokenizer else { return }
        var ids: [Int32] = []
        var offset = 0
        while offset + 4 <= rest.count {
            ids.append(Int32(bitPattern: UInt32(littleEndian: rest.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
            offset += 4
        }
        _ = tokenizer.decode(ids, skippingSpecialTokens: mode & 1 == 0)
        var stream = StreamingDetokenizer(tokenizer: tokenizer, skipsSpecialTokens: true)
        for id in ids { _ = stream.append(id) }
        _ = stream.finish()
    default:
        withScratchFile(rest, suffix: "-tokenizer.json") { path in
            guard let tokenizer = try? BPETokenizer(tokenizerJSONPath: path) else { return }
            let ids = tokenizer.encode("def f(x):\n    return x + 1  # é")
            _ = tokenizer.decode(ids + [-1, Int32.max])
        }
    }
}
