/// The ids a model's tokenizer metadata names for chat turns and fill-in-the-middle (FIM) code
/// completion (GGUF `tokenizer.ggml.eot_token_id`, `tokenizer.ggml.fim_pre_token_id`, ...).
/// Each is nil when the file does not name it.
public struct SpecialTokenIDs: Sendable, Equatable {
    /// End of a chat turn (`<|eot_id|>`, `<|im_end|>`, `<end_of_turn>`, ...).
    public var endOfTurn: Int32?
    /// End of a message that expects a tool's reply (Llama 3.1 `<|eom_id|>`).
    public var endOfMessage: Int32?
    /// Padding.
    public var padding: Int32?
    /// FIM: starts the code before the cursor (`<|fim_prefix|>`, `<fim_prefix>`, `<PRE>`).
    public var fimPrefix: Int32?
    /// FIM: starts the code after the cursor.
    public var fimSuffix: Int32?
    /// FIM: asks for the middle.
    public var fimMiddle: Int32?
    /// FIM: padding.
    public var fimPad: Int32?
    /// FIM: repository name marker (`<|repo_name|>`).
    public var fimRepository: Int32?
    /// FIM: file separator (`<|file_sep|>`).
    public var fimSeparator: Int32?

    /// Every token that ends generation, as llama.cpp's `special_eog_ids`: EOS, EOT, EOM, FIM
    /// pad/repository/separator, and any of `<|eot_id|>`, `<|im_end|>`, `<|end|>`,
    /// `<end_of_turn>`, `<|endoftext|>`, `<|eom_id|>`, `<EOT>` the vocabulary has.
    public var endOfGeneration: Set<Int32> = []

    /// No ids named.
    public init() {}

    /// The GGUF keys and the property each fills, in llama.cpp's order: a deprecated key
    /// (`tokenizer.ggml.prefix_token_id`, ...) is read only when the current one is absent.
    private static var ggufKeys: [(key: String, property: WritableKeyPath<SpecialTokenIDs, Int32?>)] { [
        ("tokenizer.ggml.eot_token_id", \.endOfTurn),
        ("tokenizer.ggml.eom_token_id", \.endOfMessage),
        ("tokenizer.ggml.padding_token_id", \.padding),
        ("tokenizer.ggml.fim_pre_token_id", \.fimPrefix),
        ("tokenizer.ggml.fim_suf_token_id", \.fimSuffix),
        ("tokenizer.ggml.fim_mid_token_id", \.fimMiddle),
        ("tokenizer.ggml.fim_pad_token_id", \.fimPad),
        ("tokenizer.ggml.fim_rep_token_id", \.fimRepository),
        ("tokenizer.ggml.fim_sep_token_id", \.fimSeparator),
        ("tokenizer.ggml.prefix_token_id", \.fimPrefix),
        ("tokenizer.ggml.suffix_token_id", \.fimSuffix),
        ("tokenizer.ggml.middle_token_id", \.fimMiddle),
    ] }

    /// Texts llama.cpp recognizes a token by when the file names no id for it, in order of
    /// preference (llama.cpp takes whichever its hash map yields first; the first listed here).
    private static var recognizedTexts: [(property: WritableKeyPath<SpecialTokenIDs, Int32?>, texts: [String])] { [
        (\.endOfTurn, ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"]),
        (\.endOfMessage, ["<|eom_id|>"]),
        (\.fimPrefix, ["<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"]),
        (\.fimSuffix, ["<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"]),
        (\.fimMiddle, ["<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"]),
        (\.fimPad, ["<|fim_pad|>", "<fim-pad>", "<PAD>"]),
        (\.fimRepository, ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"]),
        (\.fimSeparator, ["<|file_sep|>"]),
    ] }

    private static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
    ]

    /// The ids named by `file`'s metadata, then, for those it does not name, the tokens of
    /// `tokens` llama.cpp recognizes by their text. An id outside the vocabulary is ignored, as
    /// llama.cpp ignores it. `recognized` receives the ids found by text: llama.cpp makes them
    /// control tokens (so that, say, DeepSeek Coder's user-defined `<｜fim▁begin｜>` is no longer
    /// matched in plain text).
    init(gguf file: GGUFFile, tokens: [String], eosTokenID: Int32?, recognized: inout Set<Int32>) {
        for (key, property) in Self.ggufKeys where self[keyPath: property] == nil {
            if let id = file.int(key), id >= 0, id < tokens.count { self[keyPath: property] = Int32(id) }
        }
        let wanted = Set(Self.recognizedTexts.flatMap(\.texts)).union(Self.endOfGenerationTexts)
        var idOfText: [String: Int32] = [:]
        for (index, token) in tokens.enumerated() where wanted.contains(token) { idOfText[token] = Int32(index) }
        for (property, texts) in Self.recognizedTexts where self[keyPath: property] == nil {
            guard let id = texts.lazy.compactMap({ idOfText[$0] }).first else { continue }
            self[keyPath: property] = id
            recognized.insert(id)
        }
        for (text, id) in idOfText where Self.endOfGenerationTexts.contains(text) {
            endOfGeneration.insert(id)
            recognized.insert(id)
        }
        for id in [fimPad, fimRepository, fimSeparator, eosTokenID, endOfTurn, endOfMessage].compactMap({ $0 }) {
            endOfGeneration.insert(id)
        }
    }
}
