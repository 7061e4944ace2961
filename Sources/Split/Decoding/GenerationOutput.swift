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
    let bounds: GenerationBounds
    let tokenBytes: (Int32) -> [UInt8]
    private(set) var tokens: [Int32] = []
    private(set) var provenance: [TokenProvenance] = []
    private(set) var stream: TextStream
    var finish = FinishReason.length
    /// Whether the generation stopped because its cancellation flag was set (the caller throws
    /// `CancellationError` once it has closed what it opened).
    private(set) var cancelled = false
    /// When the first token was taken (time to first token, and the start of decoding).
    private(set) var firstTokenTime: DispatchTime?
    /// Tokens whose text has not been released yet (a UTF-8 sequence or stop-string prefix).
    private var unreleased = 0

    /// After a line break, generating longer than this since the first token ends the generation.
    let predictTimeLimitSeconds: Double?

    init(budget: Int, stop: [String], tokenizer: TextTokenizer, bounds: GenerationBounds = .none,
         minimumIndent: Int = 0, predictTimeLimitSeconds: Double? = nil) {
        self.budget = budget
        self.predictTimeLimitSeconds = predictTimeLimitSeconds
        self.bounds = bounds
        endOfText = tokenizer.eosTokenID
        tokenBytes = tokenizer.tokenBytes
        stream = TextStream(stopStrings: stop, minimumIndent: minimumIndent)
    }

    /// Tokens still allowed.
    var remaining: Int { budget - tokens.count }

    /// Takes one token; returns false when the generation is over (this token may have ended it).
    mutating func accept(_ token: Int32, from origin: TokenProvenance, onText: (GeneratedText) -> Void) -> Bool {
        guard tokens.count < budget else { return false }
        if bounds.isCancelled { cancelled = true; return false }
        if token == endOfText || bounds.ends(at: token) { finish = .endOfText; return false }
        if firstTokenTime == nil { firstTokenTime = DispatchTime.now() }
        tokens.append(token)
        provenance.append(origin)
        unreleased += 1
        release(stream.append(tokenBytes(token)), onText)
        if stream.stopped { finish = .stop; return false }
        if let limit = predictTimeLimitSeconds, stream.sawLineBreak, let start = firstTokenTime,
           Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 > limit {
            return false
        }
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
