/// What an editor sends for a fill-in-the-middle completion: the code around the cursor,
/// other files as context, and text already typed at the cursor.
public struct InfillInput: Sendable, Codable, Equatable {
    /// The code before the cursor (`input_prefix`).
    public var prefix: String
    /// The code after the cursor (`input_suffix`).
    public var suffix: String
    /// Other files or snippets the editor gathered (`input_extra`), oldest first.
    public var extraFiles: [InfillFile]
    /// Text placed right after the prefix (`prompt`); llama.vim sends the typed part of the
    /// current line here. Special tokens in it are parsed, as llama.cpp does.
    public var prompt: String

    /// An input; everything but the prefix and suffix is optional.
    public init(prefix: String, suffix: String, extraFiles: [InfillFile] = [], prompt: String = "") {
        self.prefix = prefix
        self.suffix = suffix
        self.extraFiles = extraFiles
        self.prompt = prompt
    }
}

/// One extra file of an infill request (`{"filename": ..., "text": ...}`).
public struct InfillFile: Sendable, Codable, Equatable {
    public var filename: String
    public var text: String

    /// A file; llama.cpp names a chunk without a filename "tmp".
    public init(filename: String = "tmp", text: String) {
        self.filename = filename
        self.text = text
    }
}

/// Where the suffix goes relative to the prefix.
public enum FIMLayout: String, Sendable, Equatable, CaseIterable {
    /// Prefix, suffix, middle: `PRE prefix SUF suffix MID` (what FIM models are mostly trained on).
    case prefixSuffixMiddle = "psm"
    /// Suffix, prefix, middle: `SUF suffix PRE prefix MID` (llama.cpp's `--spm-infill`).
    case suffixPrefixMiddle = "spm"
}

/// Builds the token ids of a fill-in-the-middle prompt exactly as llama.cpp's server does
/// (`format_infill` in examples/server/utils.hpp), so a model behind Split sees what it would
/// see behind llama.cpp:
///
///     [REP]myproject\n [SEP]name0\n text0 … [SEP]filename\n [BOS] PRE prefix prompt SUF suffix MID
///
/// The repository and file-separator parts appear only when the model has those tokens; without
/// a separator each extra chunk is introduced by "\n\n--- snippet ---\n\n".
public struct FIMPrompt: Sendable {
    /// How many tokens of the input are kept, as llama.cpp counts them.
    public struct Window: Sendable, Equatable {
        /// llama.cpp's `n_batch`: the prefix keeps its last 3/4 of this, the suffix (with the
        /// prompt and two FIM tokens) its first 1/4.
        public var batchTokens: Int
        /// The model's context (`n_ctx`); extra files fill what the batch and twice the
        /// generation budget leave of it.
        public var contextTokens: Int
        /// A prefix longer than its share is cut at a multiple of this many tokens from its
        /// start, so that the cut stays put while a user types and successive prompts share
        /// their beginning (prompt reuse); 1 cuts exactly at the share, as llama.cpp does (it
        /// shifts its KV cache instead, `--cache-reuse`). The prefix then keeps between its
        /// share less `prefixStep - 1` tokens and its share.
        public var prefixStep: Int

        /// A window of `batchTokens` within `contextTokens`.
        public init(batchTokens: Int, contextTokens: Int, prefixStep: Int = 1) {
            self.batchTokens = batchTokens
            self.contextTokens = contextTokens
            self.prefixStep = prefixStep
        }

        /// llama.cpp's default batch of 2048, but never more than half the context, so that a
        /// small model's prompt leaves room to generate (with the whole context as batch, prefix
        /// and suffix alone could fill it).
        public static func standard(contextTokens: Int) -> Window {
            Window(batchTokens: min(2048, contextTokens / 2), contextTokens: contextTokens)
        }
    }

    /// The model's FIM tokens.
    public let tokens: FIMTokens
    public let tokenizer: BPETokenizer
    public let layout: FIMLayout

    /// A builder for `tokenizer`'s model.
    /// - Throws: `FIMError.unsupportedModel` when the model has no FIM tokens.
    public init(tokenizer: BPETokenizer, layout: FIMLayout = .prefixSuffixMiddle) throws {
        self.tokens = try FIMTokens(tokenizer: tokenizer)
        self.tokenizer = tokenizer
        self.layout = layout
    }

    /// The ids of the prompt for `input`, generating at most `maxNewTokens`, and whether any of
    /// the input was cut to fit `window`.
    public func build(_ input: InfillInput, window: Window, maxNewTokens: Int) -> (tokens: [Int32], truncated: Bool) {
        let plain = { (text: String) in tokenizer.encode(text, parsingSpecialTokens: false) }
        var extra: [Int32] = []
        if let repository = tokens.repository {
            // llama.cpp names every repository "myproject" (a TODO there); kept for parity.
            extra.append(repository)
            extra += plain("myproject\n")
        }
        for file in input.extraFiles {
            if let separator = tokens.fileSeparator {
                extra.append(separator)
                extra += plain(file.filename + "\n")
            } else {
                extra += plain("\n\n--- snippet ---\n\n")
            }
            extra += plain(file.text)
        }
        if let separator = tokens.fileSeparator {
            // The file being edited; llama.cpp calls it "filename" (a TODO there).
            extra.append(separator)
            extra += plain("filename\n")
        }
        let prefix = plain(input.prefix)
        let suffix = plain(input.suffix)
        let prompt = tokenizer.encode(input.prompt, parsingSpecialTokens: true)

        let batch = max(0, window.batchTokens)
        var prefixTake = min(prefix.count, 3 * (batch / 4))
        if prefixTake < prefix.count, prefixTake > 0, window.prefixStep > 1 {
            let step = min(window.prefixStep, prefixTake)
            prefixTake = prefix.count - (prefix.count - prefixTake + step - 1) / step * step
        }
        // llama.cpp gives the suffix what the batch's quarter leaves after the prompt and two FIM
        // tokens. In SPM the suffix comes first, and a share that shrinks with every token typed
        // at the cursor (llama.vim sends the cursor's line as `prompt`) would change each prompt
        // near its start, so nothing of the last one could be reused: there the prompt does not
        // shrink the suffix's share (it adds its length to the batch instead).
        let promptInSuffixShare = layout == .suffixPrefixMiddle ? 0 : prompt.count
        let suffixTake = min(suffix.count, max(0, batch / 4 - (2 + promptInSuffixShare)))
        let extraTake = min(max(0, window.contextTokens - batch - 2 * maxNewTokens), extra.count)

        let prefixPart = [tokens.prefix] + prefix.suffix(prefixTake) + prompt
        let suffixPart = [tokens.suffix] + suffix.prefix(suffixTake)
        var ids = Array(extra.suffix(extraTake))
        // llama.cpp puts BOS after the extra context, right before the first FIM part.
        if tokenizer.addsBOSToken, let bos = tokenizer.bosTokenID { ids.append(bos) }
        switch layout {
        case .prefixSuffixMiddle: ids += prefixPart + suffixPart
        case .suffixPrefixMiddle: ids += suffixPart + prefixPart
        }
        ids.append(tokens.middle)
        let truncated = prefixTake < prefix.count || suffixTake < suffix.count || extraTake < extra.count
        return (ids, truncated)
    }
}
