import Foundation

/// The body of Ollama's `POST /api/generate` as Ollama reads it and Continue sends it:
/// `model`, `prompt`, `suffix`, `system`, `raw`, `stream` (true unless false, as in Ollama),
/// `options` (read as `OllamaOptions`, shared with `/api/chat`), `keep_alive`
/// (accepted; the edge keeps its model loaded), plus Split's `strategy`, `allow_degraded`
/// and `quality`.
///
/// - A non-empty `suffix` makes a fill-in-the-middle request built with the model's FIM tokens.
/// - Otherwise `raw: true` sends `prompt` as it is; without `raw`, as Ollama applies the
///   model's template, `system` and `prompt` become a conversation rendered with the model's
///   chat template, or `prompt` as it is for a model that has none.
/// - `template`, `context`, `images` and `format` are refused: the edge cannot honour them.
public struct OllamaGenerateRequest: Sendable, Decodable, Equatable {
    public var model: String?
    public var fields: CompletionFields
    public var stream: Bool

    private enum CodingKeys: String, CodingKey {
        case model, prompt, suffix, system, raw, stream, template, context, images, format
    }

    /// Parses and checks a body against `limits`.
    /// - Throws: `ClientAPIError` naming the field at fault.
    public static func decode(_ body: Data, limits: ClientAPILimits = .standard) throws -> (request: CompletionRequest, stream: Bool) {
        let wire = try ClientAPIJSON.decode(OllamaGenerateRequest.self, from: body, limits: limits)
        return (try wire.fields.makeRequest(limits: limits, defaults: .ollama), wire.stream)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeField(String.self, forKey: .model)
        stream = try c.decodeField(Bool.self, forKey: .stream) ?? true
        let prompt = try c.decodeField(String.self, forKey: .prompt) ?? ""
        let suffix = try c.decodeField(String.self, forKey: .suffix) ?? ""
        let system = try c.decodeField(String.self, forKey: .system)
        let raw = try c.decodeField(Bool.self, forKey: .raw) ?? false
        for refused in [CodingKeys.template, .format] where c.contains(refused) {
            throw ClientAPIError(.unsupported, "\(refused.stringValue) is not supported by this server", parameter: refused.stringValue)
        }
        for refused in [CodingKeys.context, .images] {
            if let items = try? c.decodeIfPresent([IgnoredJSON].self, forKey: refused), !items.isEmpty {
                throw ClientAPIError(.unsupported, "\(refused.stringValue) is not supported by this server", parameter: refused.stringValue)
            }
        }
        var infill: InfillInput?
        var chat: [ChatMessage]?
        if !suffix.isEmpty {
            infill = InfillInput(prefix: prompt, suffix: suffix)
        } else if !raw, !prompt.isEmpty {
            chat = (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + [ChatMessage(role: "user", content: prompt)]
        }
        fields = try CompletionFields(ollamaFieldsFrom: decoder)
        fields.prompt = prompt
        fields.infill = infill
        fields.chat = chat
    }
}

extension CompletionFields.Defaults {
    /// Ollama's `/api/generate`: temperature 0.8 as Ollama; 128 tokens (Ollama has no limit,
    /// an editor waiting on a suggestion is better served by a bounded one).
    public static let ollama = CompletionFields.Defaults(maxTokens: 128, temperature: 0.8)
}
