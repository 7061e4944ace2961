import Foundation

/// The body of `POST /v1/completions` in OpenAI's legacy completions shape, plus Split's
/// extensions `top_k`, `strategy`, `allow_degraded` and `quality`, and llama.cpp's `cache_prompt`
/// and `id_slot`. A non-empty `suffix` makes it
/// a fill-in-the-middle request (`prompt` before the cursor, `suffix` after), built with the
/// model's FIM tokens as `/infill` builds it. Unknown fields are ignored, as OpenAI clients send
/// many; fields whose values this server cannot honour are refused.
public struct OpenAICompletionRequest: Sendable, Decodable, Equatable {
    /// The model the client named; any name is accepted, the node serves its own model.
    public var model: String?
    /// The shared completion fields.
    public var fields: CompletionFields
    /// Whether to answer with server-sent events.
    public var stream: Bool

    private enum CodingKeys: String, CodingKey {
        case model, prompt, stream, n, echo, logprobs, suffix
        case maxTokens = "max_tokens", bestOf = "best_of"
    }

    /// Parses and checks a body against `limits`.
    /// - Throws: `ClientAPIError` naming the field at fault.
    public static func decode(_ body: Data, limits: ClientAPILimits = .standard) throws -> (request: CompletionRequest, stream: Bool) {
        let wire = try ClientAPIJSON.decode(OpenAICompletionRequest.self, from: body, limits: limits)
        return (try wire.fields.makeRequest(limits: limits, defaults: .openAI), wire.stream)
    }

    /// Decodes the fields; `prompt` may be a string or an array holding one string.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeField(String.self, forKey: .model)
        stream = try c.decodeField(Bool.self, forKey: .stream) ?? false
        var prompt: String?
        if let prompts = try c.decodeField(StringOrStrings.self, forKey: .prompt) {
            guard prompts.strings.count == 1 else {
                throw ClientAPIError(.unsupported, "prompt must be a string or an array of exactly one string (batches are not supported)",
                                     parameter: "prompt")
            }
            prompt = prompts.strings[0]
        }
        var infill: InfillInput?
        if let suffix = try c.decodeField(String.self, forKey: .suffix), !suffix.isEmpty {
            infill = InfillInput(prefix: prompt ?? "", suffix: suffix)
        }
        fields = try CompletionFields(openAIFieldsFrom: decoder, maxTokens: try c.decodeField(Int.self, forKey: .maxTokens))
        fields.prompt = prompt
        fields.infill = infill
        try Self.refuseUnsupported(c)
    }

    /// Refuses options whose honest answer this server cannot give, rather than ignore them
    /// and return something the client did not ask for.
    private static func refuseUnsupported(_ c: KeyedDecodingContainer<CodingKeys>) throws {
        if let n = try c.decodeField(Int.self, forKey: .n), n != 1 {
            throw ClientAPIError(.unsupported, "n must be 1: one completion per request", parameter: "n")
        }
        if let bestOf = try c.decodeField(Int.self, forKey: .bestOf), bestOf != 1 {
            throw ClientAPIError(.unsupported, "best_of must be 1", parameter: "best_of")
        }
        if try c.decodeField(Bool.self, forKey: .echo) == true {
            throw ClientAPIError(.unsupported, "echo is not supported", parameter: "echo")
        }
        if let logprobs = try c.decodeField(Int.self, forKey: .logprobs), logprobs > 0 {
            throw ClientAPIError(.unsupported, "logprobs are not supported", parameter: "logprobs")
        }
    }
}
