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

    init(budget: Int, stop: [String], tokenizer: TextTokenizer) {
        self.budget = budget
        endOfText = tokenizer.eosTokenID
        tokenBytes = tokenizer.tokenBytes
        stream = TextStream(stopStrings: stop)
    }

    /// Tokens still allowed.
    var remaining: Int { budget - tokens.count }

    /// Takes one token; returns false when the generation is over (this token may have ended it).
    mutating func accept(_ token: Int32, from origin: TokenProvenance, onText: (String) -> Void) -> Bool {
        guard tokens.count < budget else { return false }
        if token == endOfText { finish = .endOfText; return false }
        tokens.append(token)
        provenance.append(origin)
        onText(stream.append(tokenBytes(token)))
        if stream.stopped { finish = .stop; return false }
        return tokens.count < budget
    }

    /// Flushes held-back text at the end.
    mutating func finishText(onText: (String) -> Void) {
        onText(stream.finish())
    }
}
