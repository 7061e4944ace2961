/// What decoding needs from a tokenizer. `BPETokenizer` is the implementation.
public protocol TextTokenizer: Sendable {
    /// Token ids for `text`.
    func encode(_ text: String) -> [Int32]
    /// The raw bytes a token stands for (may be part of a UTF-8 sequence).
    func tokenBytes(_ id: Int32) -> [UInt8]
    /// The end-of-text token, if the vocabulary has one.
    var eosTokenID: Int32? { get }
    /// The beginning-of-text token, if the vocabulary has one.
    var bosTokenID: Int32? { get }
    /// Whether prompts start with the BOS token (`add_bos_token`).
    var addsBOSToken: Bool { get }
}

extension BPETokenizer: TextTokenizer {
    public func encode(_ text: String) -> [Int32] { encode(text, parsingSpecialTokens: true) }
}
