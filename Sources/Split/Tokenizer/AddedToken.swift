/// A token that is matched verbatim in the input before pre-tokenization (`<|endoftext|>`,
/// chat markers, ...), from tokenizer.json's `added_tokens` or GGUF control tokens.
public struct AddedToken: Sendable, Equatable {
    /// The token's text.
    public let content: String
    /// Its id.
    public let id: Int32
    /// Whether it is a special (control) token, which `decode(skippingSpecialTokens:)` can leave out.
    public let isSpecial: Bool
    /// Whether ASCII whitespace after the token is dropped when it is matched (HF `rstrip`;
    /// llama.cpp sets it for Phi-3's tokens).
    public var stripsWhitespaceAfter: Bool

    /// An added token.
    public init(content: String, id: Int32, isSpecial: Bool, stripsWhitespaceAfter: Bool = false) {
        self.content = content
        self.id = id
        self.isSpecial = isSpecial
        self.stripsWhitespaceAfter = stripsWhitespaceAfter
    }
}
