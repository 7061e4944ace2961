import Foundation

/// Turns a conversation into the token ids a model expects, with its chat template, and knows
/// where the model's reply ends: its end-of-generation tokens (EOS, EOT, `<|im_end|>`, ...)
/// and the first special token the template puts after an assistant's message.
public struct ChatPrompt: Sendable {
    public let template: ChatTemplate
    /// Tokens that end a reply (besides the tokenizer's EOS, which always does).
    public let endTokens: [Int32]
    private let tokenizer: BPETokenizer

    /// The prompt builder for `tokenizer`'s model; `configuredTemplate` (the operator's
    /// `--chat-template`) replaces the model's own.
    /// - Throws: `ChatTemplateError.noTemplate` when there is neither, or the template's parse error.
    public init(tokenizer: BPETokenizer, configuredTemplate: String? = nil) throws {
        guard let source = configuredTemplate ?? tokenizer.chatTemplate else { throw ChatTemplateError.noTemplate }
        let text = { (id: Int32?) in id.flatMap { tokenizer.tokenString($0) } ?? "" }
        template = try ChatTemplate(source: source, bosToken: text(tokenizer.bosTokenID), eosToken: text(tokenizer.eosTokenID))
        var ends = tokenizer.specialTokenIDs.endOfGeneration
        if let eos = tokenizer.eosTokenID { ends.insert(eos) }
        if let after = template.textAfterAssistantMessage(),
           let endOfTurn = tokenizer.encode(after).first(where: { tokenizer.isSpecial($0) }) {
            ends.insert(endOfTurn)
        }
        endTokens = ends.sorted()
        self.tokenizer = tokenizer
    }

    /// The prompt's token ids: the template rendered with the generation prompt, special tokens
    /// parsed, BOS in front when the tokenizer adds one and the template did not write it.
    /// - Throws: `ChatTemplateError` (the template refused the conversation, or failed).
    public func tokens(for messages: [ChatMessage], now: Date = Date()) throws -> [Int32] {
        var tokens = tokenizer.encode(try template.render(messages, addGenerationPrompt: true, now: now))
        if tokenizer.addsBOSToken, let bos = tokenizer.bosTokenID, tokens.first != bos { tokens.insert(bos, at: 0) }
        return tokens
    }
}
