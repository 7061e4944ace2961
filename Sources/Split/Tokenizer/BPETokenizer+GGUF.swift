/// Loading a byte-level BPE tokenizer from GGUF metadata (`tokenizer.ggml.*`).
extension BPETokenizer {
    /// ggml token types (llama.cpp's `llama_token_type`).
    enum GGMLTokenType: Int {
        case undefined = 0, normal, unknown, control, userDefined, unused, byte
    }

    /// The tokenizer stored in a GGUF file's metadata: `tokenizer.ggml.model` "gpt2" (byte-level
    /// BPE) or "llama" (SentencePiece), with llama.cpp's defaults for keys a file leaves out.
    /// - Throws: `TokenizerError.unsupported` naming any other tokenizer model or pre-tokenizer,
    ///   `.invalidFile` when required keys are missing or inconsistent.
    public convenience init(gguf file: GGUFFile, path: String = "GGUF metadata") throws {
        let model = file.string("tokenizer.ggml.model")
        guard let model, let known = TokenizerModel(rawValue: model) else {
            throw TokenizerError.unsupported(
                "tokenizer.ggml.model '\(model ?? "missing")' (Split implements 'gpt2', byte-level BPE, and 'llama', SentencePiece)")
        }
        guard let tokens = file.stringArray("tokenizer.ggml.tokens") else {
            throw TokenizerError.invalidFile(path: path, reason: "tokenizer.ggml.tokens is missing or not an array of strings")
        }
        let types = file.intArray("tokenizer.ggml.token_type")
        if let types, types.count != tokens.count {
            throw TokenizerError.invalidFile(
                path: path, reason: "tokenizer.ggml.token_type has \(types.count) entries for \(tokens.count) tokens")
        }
        func tokenID(_ key: String) -> Int32? {
            file.int(key).flatMap { $0 >= 0 && $0 < tokens.count ? Int32($0) : nil }
        }
        var settings = Settings()
        settings.bosTokenID = tokenID("tokenizer.ggml.bos_token_id")
        settings.eosTokenID = tokenID("tokenizer.ggml.eos_token_id")
        settings.unknownTokenID = tokenID("tokenizer.ggml.unknown_token_id")
        settings.specialTokenIDs = SpecialTokenIDs(gguf: file, vocabularySize: tokens.count)
        settings.chatTemplate = file.string("tokenizer.chat_template")
        settings.addsEOSToken = file.bool("tokenizer.ggml.add_eos_token") ?? false
        switch known {
        case .sentencePiece:
            // llama.cpp's SPM defaults: a space prefix and a BOS unless the file says otherwise.
            settings.addsPrefixSpace = file.bool("tokenizer.ggml.add_space_prefix") ?? true
            settings.addsBOSToken = file.bool("tokenizer.ggml.add_bos_token") ?? true
            guard let scores = file.floatArray("tokenizer.ggml.scores") else {
                throw TokenizerError.invalidFile(path: path, reason: "tokenizer.ggml.scores is missing or not an array of numbers")
            }
            try self.init(
                sentencePieceTokens: tokens, scores: scores,
                types: types ?? Array(repeating: GGMLTokenType.normal.rawValue, count: tokens.count), settings: settings)
        case .byteLevelBPE:
            guard let mergeRules = file.stringArray("tokenizer.ggml.merges") else {
                throw TokenizerError.invalidFile(path: path, reason: "tokenizer.ggml.merges is missing or not an array of strings")
            }
            var vocabulary: [String: Int32] = [:]
            vocabulary.reserveCapacity(tokens.count)
            var added: [AddedToken] = []
            for (index, token) in tokens.enumerated() {
                let id = Int32(index)
                switch types.map({ GGMLTokenType(rawValue: $0[index]) }) {
                case .control?, .unknown?: added.append(AddedToken(content: token, id: id, isSpecial: true))
                case .userDefined?: added.append(AddedToken(content: token, id: id, isSpecial: false))
                default:
                    // Duplicate spellings exist in some converted vocabularies; the first id wins.
                    if vocabulary[token] == nil { vocabulary[token] = id }
                }
            }
            var merges: [(String, String)] = []
            merges.reserveCapacity(mergeRules.count)
            for (rank, rule) in mergeRules.enumerated() {
                // Split at the first space after the first character, as llama.cpp does.
                let parts = rule.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw TokenizerError.invalidMerge(rank: rank, rule: rule) }
                merges.append((String(parts[0]), String(parts[1])))
            }
            let preName = file.string("tokenizer.ggml.pre")
            settings.preTokenizer = try Self.preTokenizer(named: preName)
            settings.ignoresMerges = Self.ignoresMerges(preTokenizerNamed: preName)
            settings.addsPrefixSpace = file.bool("tokenizer.ggml.add_space_prefix") ?? false
            settings.normalizesToNFC = preName == "qwen2"
            settings.addsBOSToken = file.bool("tokenizer.ggml.add_bos_token") ?? false
            try self.init(vocabulary: vocabulary, merges: merges, addedTokens: added, settings: settings)
        }
    }

    /// The `tokenizer.ggml.*` metadata that describes this tokenizer, for exporting a model to
    /// GGUF; `init(gguf:)` reads it back to the same tokenizer.
    public var ggufMetadata: [(key: String, value: GGUFValue)] {
        var tokens: [String] = []
        var types: [Int32] = []
        tokens.reserveCapacity(vocabularySize)
        let addedByID = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for id in 0..<Int32(vocabularySize) {
            if model == .sentencePiece {
                types.append(Int32(ggmlTypes[Int(id)]))
            } else if let added = addedByID[id] {
                types.append(Int32(added.isSpecial ? GGMLTokenType.control.rawValue : GGMLTokenType.userDefined.rawValue))
            } else {
                types.append(Int32(tokenString(id) == nil ? GGMLTokenType.unused.rawValue : GGMLTokenType.normal.rawValue))
            }
            // GGUF needs a dense list; ids the vocabulary skips get a placeholder marked unused.
            tokens.append(tokenString(id) ?? "<unused\(id)>")
        }
        var entries: [(key: String, value: GGUFValue)] = [("tokenizer.ggml.model", .string(model.rawValue))]
        switch model {
        case .byteLevelBPE:
            entries += [
                ("tokenizer.ggml.pre", .string(Self.ggufPreTokenizerName(preTokenizer))),
                ("tokenizer.ggml.tokens", .strings(tokens)),
                ("tokenizer.ggml.token_type", .int32s(types)),
                ("tokenizer.ggml.merges", .strings(mergeRules.map { "\($0.0) \($0.1)" })),
            ]
            if addsPrefixSpace { entries.append(("tokenizer.ggml.add_space_prefix", .bool(true))) }
        case .sentencePiece:
            entries += [
                ("tokenizer.ggml.tokens", .strings(tokens)),
                ("tokenizer.ggml.scores", .float32s(scores)),
                ("tokenizer.ggml.token_type", .int32s(types)),
                ("tokenizer.ggml.add_space_prefix", .bool(addsPrefixSpace)),
            ]
        }
        entries.append(("tokenizer.ggml.add_bos_token", .bool(addsBOSToken)))
        if addsEOSToken { entries.append(("tokenizer.ggml.add_eos_token", .bool(true))) }
        let ids: [(String, Int32?)] = [
            ("tokenizer.ggml.bos_token_id", bosTokenID), ("tokenizer.ggml.eos_token_id", eosTokenID),
            ("tokenizer.ggml.unknown_token_id", unknownTokenID),
            ("tokenizer.ggml.eot_token_id", specialTokenIDs.endOfTurn),
            ("tokenizer.ggml.eom_token_id", specialTokenIDs.endOfMessage),
            ("tokenizer.ggml.padding_token_id", specialTokenIDs.padding),
            ("tokenizer.ggml.fim_pre_token_id", specialTokenIDs.fimPrefix),
            ("tokenizer.ggml.fim_suf_token_id", specialTokenIDs.fimSuffix),
            ("tokenizer.ggml.fim_mid_token_id", specialTokenIDs.fimMiddle),
            ("tokenizer.ggml.fim_pad_token_id", specialTokenIDs.fimPad),
            ("tokenizer.ggml.fim_rep_token_id", specialTokenIDs.fimRepository),
            ("tokenizer.ggml.fim_sep_token_id", specialTokenIDs.fimSeparator),
        ]
        for case let (key, id?) in ids { entries.append((key, .uint32(UInt32(id)))) }
        if let chatTemplate { entries.append(("tokenizer.chat_template", .string(chatTemplate))) }
        return entries
    }

    /// The `tokenizer.ggml.pre` name llama.cpp gives a pre-tokenizer.
    static func ggufPreTokenizerName(_ preTokenizer: PreTokenizer) -> String {
        switch (preTokenizer.pattern, preTokenizer.splitsDigits) {
        case (.gpt2, false): return "gpt-2"
        case (.gpt2, true): return "smollm"
        case (.llama3, _): return "llama-bpe"
        case (.qwen2, _): return "qwen2"
        case (.deepSeekCoder, _): return "deepseek-coder"
        case (.deepSeekLLM, _): return "deepseek-llm"
        case (.falcon, _): return "falcon"
        case (.llamaDefault, _): return "default"
        }
    }

    /// The pre-tokenizer llama.cpp uses for a `tokenizer.ggml.pre` name (`llama_vocab::impl::load`).
    /// - Throws: `TokenizerError.unsupported` naming a pre-tokenizer Split does not implement.
    static func preTokenizer(named name: String?) throws -> PreTokenizer {
        switch name {
        // llama.cpp's fallback for a file without the key (GPT-NeoX conversions), with a warning.
        case nil, "default": return PreTokenizer(pattern: .llamaDefault)
        case "gpt-2", "gpt2", "mpt", "olmo", "phi-2", "jais", "roberta-bpe": return PreTokenizer(pattern: .gpt2)
        case "llama3", "llama-bpe", "llama-v3", "falcon3", "smaug-bpe", "dbrx": return PreTokenizer(pattern: .llama3)
        case "qwen2", "deepseek-r1-qwen", "stablelm2", "megrez": return PreTokenizer(pattern: .qwen2)
        case "deepseek-coder": return PreTokenizer(pattern: .deepSeekCoder)
        case "deepseek-llm": return PreTokenizer(pattern: .deepSeekLLM)
        case "falcon": return PreTokenizer(pattern: .falcon)
        // llama.cpp splits digits one by one and then applies the GPT-2 pattern for these.
        case "smollm", "starcoder", "refact", "codeshell", "command-r", "exaone", "minerva-7b":
            return PreTokenizer(pattern: .gpt2, splitsDigits: true)
        case let other?: throw TokenizerError.unsupported("tokenizer.ggml.pre '\(other)' (a pre-tokenizer Split does not implement)")
        }
    }

    /// Whether llama.cpp sets `ignore_merges` for a pre-tokenizer: a piece that is itself a
    /// token is emitted whole (Llama 3: " Việt" is one token although no merge path reaches it).
    static func ignoresMerges(preTokenizerNamed name: String?) -> Bool {
        ["llama3", "llama-bpe", "llama-v3", "falcon3"].contains(name ?? "")
    }
}
