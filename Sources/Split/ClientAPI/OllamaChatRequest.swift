import Foundation

/// The body of Ollama's `POST /api/chat` as docs.ollama.com/api/chat (ollama docs/api.md)
/// gives it: `model`, `messages` (each `role` and `content`), `stream` (true unless false, as
/// in Ollama), `options` (read as `OllamaOptions`, as `/api/generate` reads them),
/// `keep_alive` (accepted; the edge keeps its model loaded), plus Split's `strategy`,
/// `allow_degraded` and `quality`. The conversation is rendered with the model's chat
/// template, as for `/v1/chat/completions`.
///
/// `format`, `tools` and message `images` are refused: the edge cannot honour them.
public struct OllamaChatRequest: Sendable, Decodable, Equatable {
    public var model: String?
    /// The shared completion fields, with `chat` set.
    public var fields: CompletionFields
    public var stream: Bool

    private enum CodingKeys: String, CodingKey {
        case model, messages, stream, format, tools
    }

    /// One message as sent.
    private struct WireMessage: Decodable {
        var role: String?
        var content: String?
        var images: [IgnoredJSON]?
    }

    /// Parses and checks a body against `limits`.
    /// - Throws: `ClientAPIError` naming the field at fault.
    public static func decode(_ body: Data, limits: ClientAPILimits = .standard) throws -> (request: CompletionRequest, stream: Bool) {
        let wire = try ClientAPIJSON.decode(OllamaChatRequest.self, from: body, limits: limits)
        return (try wire.fields.makeRequest(limits: limits, defaults: .ollamaChat), wire.stream)
    }

    /// Decodes the fields and the conversation.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeField(String.self, forKey: .model)
        stream = try c.decodeField(Bool.self, forKey: .stream) ?? true
        if c.contains(.format) {
            throw ClientAPIError(.unsupported, "format is not supported by this server", parameter: "format")
        }
        if let tools = try? c.decodeIfPresent([IgnoredJSON].self, forKey: .tools), !tools.isEmpty {
            throw ClientAPIError(.unsupported, "tools are not supported: this server does not parse tool calls", parameter: "tools")
        }
        guard let wireMessages = try c.decodeField([WireMessage].self, forKey: .messages) else {
            throw ClientAPIError(.invalidRequest, "messages is required", parameter: "messages")
        }
        let messages = try wireMessages.enumerated().map { index, message -> ChatMessage in
            guard let role = message.role, !role.isEmpty else {
                throw ClientAPIError(.invalidRequest, "messages[\(index)].role is required", parameter: "messages[\(index)].role")
            }
            if let images = message.images, !images.isEmpty {
                throw ClientAPIError(.unsupported, "messages[\(index)].images: images are not supported by this server",
                                     parameter: "messages[\(index)].images")
            }
            return ChatMessage(role: role, content: message.content ?? "")
        }
        fields = try CompletionFields(ollamaFieldsFrom: decoder)
        fields.chat = messages
    }
}

extension CompletionFields.Defaults {
    /// Ollama's `/api/chat`: temperature 0.8 as Ollama; 512 tokens (Ollama has no limit; the
    /// same bound as `/v1/chat/completions`, enough for a chat answer on an edge device).
    public static let ollamaChat = CompletionFields.Defaults(maxTokens: 512, temperature: 0.8)
}

/// Ollama's `POST /api/chat`: the text in `message`.
enum OllamaChatDialect: OllamaDialect {
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> DecodedCompletion {
        DecodedCompletion(try OllamaChatRequest.decode(body, limits: limits))
    }

    static var route: OllamaResponse.Route { .chat }
}
