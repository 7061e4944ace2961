/// The token ids a model uses for fill-in-the-middle (FIM) code completion, and the ids that end
/// a FIM generation. Taken from the GGUF ids (`tokenizer.ggml.fim_pre_token_id`, ...) when the
/// file names them, else from the usual spellings in the vocabulary, as llama.cpp's
/// `llama_vocab::impl::load` finds them.
public struct FIMTokens: Sendable, Equatable {
    /// Starts the code before the cursor.
    public var prefix: Int32
    /// Starts the code after the cursor.
    public var suffix: Int32
    /// Asks for the middle; generation starts after it.
    public var middle: Int32
    /// Padding (an end-of-generation token when present).
    public var pad: Int32?
    /// Starts a repository name (`<|repo_name|>`): repo-level prompts.
    public var repository: Int32?
    /// Starts a file (`<|file_sep|>`): each extra file, and the file being edited.
    public var fileSeparator: Int32?
    /// Tokens that end a FIM generation: end of text, end of turn, FIM pad, repository and file
    /// separator (a model that starts a new file has finished the middle), in ascending order.
    public var endTokens: [Int32]

    /// Spellings of each FIM token across model families: Qwen2.5-Coder, StarCoder, the
    /// dashed form, DeepSeek-Coder, CodeLlama (plain and with SentencePiece's "▁").
    static let prefixSpellings = ["<|fim_prefix|>", "<fim_prefix>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>"]
    static let suffixSpellings = ["<|fim_suffix|>", "<fim_suffix>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>"]
    static let middleSpellings = ["<|fim_middle|>", "<fim_middle>", "<fim-middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>"]
    static let padSpellings = ["<|fim_pad|>", "<fim_pad>", "<fim-pad>", "<PAD>"]
    static let repositorySpellings = ["<|repo_name|>", "<|fim_repo|>", "<repo_name>", "<reponame>", "<fim-repo>", "<REPO>"]
    static let fileSeparatorSpellings = ["<|file_sep|>", "<file_sep>"]
    /// End-of-generation spellings llama.cpp recognises (`special_eog_ids`), with CodeLlama's "▁<EOT>".
    static let endSpellings = ["<|endoftext|>", "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|eom_id|>",
                               "<EOT>", "▁<EOT>", "<|EOT|>"]

    /// The FIM tokens of `tokenizer`.
    /// - Throws: `FIMError.unsupportedModel` naming the missing tokens when the vocabulary has no
    ///   prefix, suffix or middle token: such a model was not trained for FIM, and no prompt
    ///   spelled in another model's tokens would mean anything to it.
    public init(tokenizer: BPETokenizer) throws {
        let named = tokenizer.specialTokenIDs
        func find(_ id: Int32?, _ spellings: [String]) -> Int32? {
            id ?? spellings.lazy.compactMap { tokenizer.tokenID($0) }.first
        }
        let prefix = find(named.fimPrefix, Self.prefixSpellings)
        let suffix = find(named.fimSuffix, Self.suffixSpellings)
        let middle = find(named.fimMiddle, Self.middleSpellings)
        guard let prefix, let suffix, let middle else {
            let missing = [("prefix", prefix), ("suffix", suffix), ("middle", middle)].filter { $0.1 == nil }.map(\.0)
            throw FIMError.unsupportedModel(missing: missing)
        }
        self.prefix = prefix
        self.suffix = suffix
        self.middle = middle
        pad = find(named.fimPad, Self.padSpellings)
        repository = find(named.fimRepository, Self.repositorySpellings)
        fileSeparator = find(named.fimSeparator, Self.fileSeparatorSpellings)
        var ends = Set([pad, repository, fileSeparator, tokenizer.eosTokenID, named.endOfTurn, named.endOfMessage]
            .compactMap { $0 })
        for spelling in Self.endSpellings {
            if let id = tokenizer.tokenID(spelling) { ends.insert(id) }
        }
        endTokens = ends.sorted()
    }
}

/// Why a fill-in-the-middle request cannot be served.
public enum FIMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model's vocabulary has no FIM tokens for the named parts.
    case unsupportedModel(missing: [String])

    /// A message for the user.
    public var description: String {
        switch self {
        case .unsupportedModel(let missing):
            return "this model does not support fill-in-the-middle: its vocabulary has no FIM "
                + missing.joined(separator: ", ") + " token (tokenizer.ggml.fim_pre/suf/mid_token_id or a known spelling)"
        }
    }
}
