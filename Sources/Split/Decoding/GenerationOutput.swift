import Dispatch

/// A piece of generated text that became final, with the tokens (and their provenance) that
/// produced it since the previous piece.
public struct GeneratedText: Sendable, Equatable {
    public var text: String
    public var tokens: [Int32]
    public var provenance: [TokenProvenance]
}

/// The tokens a generation has produced so far and the rules that end it (budget, end of text,
/// stop strings), shared by every decoding loop so they end in the same way.
struct GenerationOutput {
    let budget: Int
    let endOfText: Int32?
    let tokenBytes: (Int32) -> [UInt8]
    private(set) var tokens: [Int32] = []
    private(set) var provenance: [TokenProvenance] = []
    private(set) var stream: TextStream
    var finish = FinishReason.length
    /// When the first token was taken (time to first token, and the start of decoding).
    private(set) var firstTokenTime: DispatchTime?
    /// Tokens whose text has not been released yet (a UTF-8 sequence or stop-string prefix).
    private var unreleased = 0

    init(budget: Int, stop: [String], tokenizer: TextTokenizer) {
        self.budget = budget
        endOfText = tokenizer.eosTokenID
        tokenBytes = tokenizer.tokenBytes
        stream = TextStream(stopStrings: stop)
    }

    /// Tokens still allowed.
    var remaining: Int { budget - tokens.count }

    /// Takes one token; returns false when the generation is over (this token may have ended it).
    mutating func accept(_ token: Int32, from origin: TokenProvenance, onText: (GeneratedText) -> Void) -> Bool {
        guard tokens.count < budget else { return false }
        if token == endOfText { finish = .endOfText; return false }
        if firstTokenTime == nil { firstTokenTime = DispatchTime.now() }
        tokens.append(token)
        provenance.append(origin)
        unreleased += 1
        release(stream.append(tokenBytes(token)), onText)
        if stream.stopped { finish = .stop; return false }
        return tokens.count < budget
    }

    /// Flushes held-back text at the end.
    mutating func finishText(onText: (GeneratedText) -> Void) {
        release(stream.finish(), onText)
    }

    private mutating func release(_ text: String, _ onText: (GeneratedText) -> Void) {
        guard !text.isEmpty else { return }
        onText(GeneratedText(text: text, tokens: Array(tokens.suffix(unreleased)), provenance: Array(provenance.suffix(unreleased))))
        unreleased = 0
    }
}
