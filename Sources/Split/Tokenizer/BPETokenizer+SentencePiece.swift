/// Building a SentencePiece tokenizer (GGUF `tokenizer.ggml.model` "llama") and its "▁" and
/// `<0xXX>` spellings.
extension BPETokenizer {
    /// A SentencePiece tokenizer from GGUF-style parts: every id's text ("▁" for a space),
    /// score and ggml token type (`GGMLTokenType`). Control and unknown tokens become special
    /// added tokens, user-defined ones plain added tokens.
    /// - Throws: `TokenizerError` when the arrays disagree in length or an id is out of range.
    convenience init(sentencePieceTokens tokens: [String], scores: [Float], types: [Int], settings: Settings) throws {
        guard scores.count == tokens.count, types.count == tokens.count else {
            throw TokenizerError.invalidFile(
                path: "GGUF metadata",
                reason: "\(tokens.count) tokens but \(scores.count) scores and \(types.count) token types")
        }
        guard tokens.count <= Self.maxTokenID else {
            throw TokenizerError.invalidTokenID(token: tokens.last ?? "", id: tokens.count - 1)
        }
        var bytesOfID = PackedByteStrings(reservingCount: tokens.count, totalBytes: 8 * tokens.count)
        var tokenOfID = PackedByteStrings(reservingCount: tokens.count, totalBytes: 8 * tokens.count)
        var idOfByte = [Int32](repeating: -1, count: 256)
        var byteTokenOfByte = [Int32](repeating: -1, count: 256)
        var added: [AddedToken] = []
        var ggmlTypes = [UInt8](repeating: 0, count: tokens.count)
        for (index, token) in tokens.enumerated() {
            let id = Int32(index)
            try tokenOfID.append(token.utf8)
            let type = GGMLTokenType(rawValue: types[index]) ?? .undefined
            ggmlTypes[index] = UInt8(clamping: types[index])
            switch type {
            case .byte:
                guard let byte = Self.byteOfFallbackToken(token) else {
                    throw TokenizerError.invalidFile(path: "GGUF metadata", reason: "byte token \(index) is spelled '\(token)', not <0xXX>")
                }
                byteTokenOfByte[Int(byte)] = id
                try bytesOfID.append(CollectionOfOne(byte))
            case .control, .unknown:
                added.append(AddedToken(content: token, id: id, isSpecial: true))
                try bytesOfID.append(token.utf8)
            case .userDefined:
                added.append(AddedToken(content: token, id: id, isSpecial: false))
                try bytesOfID.append(token.utf8)
            default:
                try bytesOfID.append(Self.unescapingSpaces(Array(token.utf8)))
            }
        }
        // A repeated spelling finds its last id, as llama.cpp's `token_to_id` does.
        let idOfToken = TokenIndex(everyIDIn: tokenOfID)
        for byte in 0..<256 {
            // `<0xXX>` first, else a token spelled as the byte itself (llama.cpp's `byte_to_token`).
            if byteTokenOfByte[byte] >= 0 {
                idOfByte[byte] = byteTokenOfByte[byte]
            } else if let id = idOfToken.id(of: [UInt8(byte)], spellings: tokenOfID) {
                idOfByte[byte] = id
            }
        }
        let parts = Parts(
            model: .sentencePiece, bytesOfID: bytesOfID, tokenOfID: tokenOfID, idOfToken: idOfToken, idOfByte: idOfByte,
            scores: scores, ggmlTypes: ggmlTypes, addedTokens: added, size: tokens.count)
        try self.init(parts, settings)
    }

    /// The byte of a SentencePiece byte token `<0xXX>`.
    static func byteOfFallbackToken(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    /// "▁" (E2 96 81) written as a space.
    static func unescapingSpaces(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == 0xE2, bytes[index + 1] == 0x96, bytes[index + 2] == 0x81 {
                result.append(0x20)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }

    /// Spaces written as "▁".
    static func escapingSpaces<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into result: inout [UInt8]) {
        for byte in bytes {
            if byte == 0x20 { result += [0xE2, 0x96, 0x81] } else { result.append(byte) }
        }
    }
}
