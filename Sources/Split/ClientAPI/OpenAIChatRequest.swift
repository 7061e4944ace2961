import Foundation

/// The body of `POST /v1/chat/completions` in OpenAI's shape, as the `openai` SDKs and
/// Continue send it: `messages` (content a string or an array of text parts), `max_tokens` or
/// `max_completion_tokens`, `temperature`, `top_p`, `stop`, `seed`, `stream`,
/// `stream_options.include_usage`, plus Split's `top_k`, `strategy`, `allow_degraded` and
/// `quality`. The conversation is rendered with the model's chat template on the edge.
/// Unknown fields are ignored (clients send many); options this server cannot honour (`n` > 1,
/// `logprobs`, `tools`, a JSON `response_format`, image parts) are refused, naming them.
public struct OpenAIChatRequest: Sendable, Decodable, Equatable {
    /// The model the client named; any name is accepted, the node serves its own model.
    public var model: String?
    /// The shared completion fields, with `chat` set.
    public var fields: CompletionFields
    public var stream: Bool
    /// `stream_options.include_usage`: a last chunk with the usage and no choices.
    public var includeUsage: Bool

    private enum CodingKeys: String, CodingKey {
        case model, messages, stream, n, logprobs, tools
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens"
        case streamOptions = "stream_options", responseFormat = "response_format"
    }

    /// One message as sent.
    private struct WireMessage: Decodable {
        var role: String?
        var content: Content?

        /// A string, null, or an array of typed parts of which only `text` is supported.
        enum Content: Decodable {
            case text(String)
            case parts([Part])

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self = .text(text)
                } else {
                    self = .parts(try container.decode([Part].self))
                }
            }
        }

        struct Part: Decodable {
            var type: String?
            var text: String?
        }
    }

    private struct StreamOptions: Decodable {
        var includeUsage: Bool?
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    private struct ResponseFormat: Decodable {
        var type: String?
    }

    /// Parses and checks a body against `limits`.
    /// - Throws: `ClientAPIError` naming the field at fault.
    public static func decode(_ body: Data, limits: ClientAPILimits = .standard) throws -> (request: CompletionRequest, stream: Bool, includeUsage: Bool) {
        let wire = try ClientAPIJSON.decode(OpenAIChatRequest.self, from: body, limits: limits)
        return (try wire.fields.makeRequest(limits: limits, defaults: .openAIChat), wire.stream, wire.includeUsage)
    }

    /// Decodes the fields; each message's text parts are joined into one string.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeField(String.self, forKey: .model)
        stream = try c.decodeField(Bool.self, forKey: .stream) ?? false
        includeUsage = try c.decodeField(StreamOptions.self, forKey: .streamOptions)?.includeUsage ?? false
        guard let wireMessages = try c.decodeField([WireMessage].self, forKey: .messages) else {
            throw ClientAPIError(.invalidRequest, "messages is required", parameter: "messages")
        }
        let messages = try wireMessages.enumerated().map { index, message -> ChatMessage in
            guard let role = message.role, !role.isEmpty else {
                throw ClientAPIError(.invalidRequest, "messages[\(index)].role is required", parameter: "messages[\(index)].role")
            }
            let text: String
            switch message.content {
            case nil: text = ""
            case .text(let string)?: text = string
            case .parts(let parts)?:
                text = try parts.map { part in
                    guard part.type == "text", let text = part.text else {
                        throw ClientAPIError(.unsupported, "messages[\(index)].content: only text parts are supported, not \"\(part.type ?? "untyped")\"",
                                             parameter: "messages[\(index)].content")
                    }
                    return text
                }.joined(separator: "\n")
            }
            // OpenAI's newer name for the system role; chat templates know "system".
            return ChatMessage(role: role == "developer" ? "system" : role, content: text)
        }
        let maxTokens = try c.decodeField(Int.self, forKey: .maxCompletionTokens) ?? c.decodeField(Int.self, forKey: .maxTokens)
        fields = try CompletionFields(openAIFieldsFrom: decoder, maxTokens: maxTokens)
        fields.chat = messages
        if let n = try c.decodeField(Int.self, forKey: .n), n != 1 {
            throw ClientAPIError(.unsupported, "n must be 1: one choice per request", parameter: "n")
        }
        if try c.decodeField(Bool.self, forKey: .logprobs) == true {
            throw ClientAPIError(.unsupported, "logprobs are not supported", parameter: "logprobs")
        }
        if let tools = try? c.decodeIfPresent([IgnoredJSON].self, forKey: .tools), !tools.isEmpty {
            throw ClientAPIError(.unsupported, "tools are not supported: this server does not parse tool calls", parameter: "tools")
        }
        if let format = try c.decodeField(ResponseFormat.self, forKey: .responseFormat)?.type, format != "text" {
            throw ClientAPIError(.unsupported, "response_format \"\(format)\" is not supported; only \"text\"", parameter: "response_format")
        }
    }
}

extension CompletionFields.Defaults {
    /// OpenAI's chat completions: no token limit of its own (the server's applies; 512 here,
    /// enough for a chat answer and bounded for an edge device), temperature 1.
    public static let openAIChat = CompletionFields.Defaults(maxTokens: 512, temperature: 1)
}
