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

    /// The ids named by `file`'s metadata; an id outside `0 ..< vocabularySize` is ignored, as
    /// llama.cpp ignores it.
    init(gguf file: GGUFFile, vocabularySize: Int) {
        for (key, property) in Self.ggufKeys where self[keyPath: property] == nil {
            if let id = file.int(key), id >= 0, id < vocabularySize { self[keyPath: property] = Int32(id) }
        }
    }
}
