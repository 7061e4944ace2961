import Foundation

/// The body of Ollama's `POST /api/generate` as Ollama reads it and Continue sends it:
/// `model`, `prompt`, `suffix`, `system`, `raw`, `stream` (true unless false, as in Ollama),
/// `options` (`num_predict`, `temperature`, `top_p`, `top_k`, `seed`, `stop`; Ollama's other
/// model options, `num_ctx` or `repeat_penalty`, are accepted and not applied), `keep_alive`
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
        case model, prompt, suffix, system, raw, stream, options, template, context, images, format, strategy, quality
        case allowDegraded = "allow_degraded"
    }

    /// The model options Split applies; the rest of Ollama's are read for their presence only.
    private struct Options: Decodable {
        var numPredict: Int?
        var temperature: Double?
        var topP: Double?
        var topK: Int?
        var seed: Int64?
        var stop: StringOrStrings?

        enum CodingKeys: String, CodingKey {
            case temperature, seed, stop
            case numPredict = "num_predict", topP = "top_p", topK = "top_k"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numPredict = try c.decodeField(Int.self, forKey: .numPredict)
            temperature = try c.decodeField(Double.self, forKey: .temperature)
            topP = try c.decodeField(Double.self, forKey: .topP)
            topK = try c.decodeField(Int.self, forKey: .topK)
            seed = try c.decodeField(Int64.self, forKey: .seed)
            stop = try c.decodeField(StringOrStrings.self, forKey: .stop)
        }
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
        let options = try c.decodeField(Options.self, forKey: .options)
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
        fields = CompletionFields(
            prompt: prompt,
            // Ollama: -1 is "until the end", -2 "until the context fills"; Split's default budget.
            maxTokens: options?.numPredict.flatMap { $0 < 0 ? nil : $0 },
            temperature: options?.temperature, topP: options?.topP, topK: options?.topK,
            // Ollama: a negative seed is random.
            seed: options?.seed.flatMap { $0 >= 0 ? UInt64($0) : nil },
            stop: options?.stop?.strings,
            strategy: try c.decodeField(String.self, forKey: .strategy),
            allowDegraded: try c.decodeField(Bool.self, forKey: .allowDegraded),
            quality: try c.decodeField(String.self, forKey: .quality),
            infill: infill, chat: chat)
    }
}

extension CompletionFields.Defaults {
    /// Ollama's `/api/generate`: temperature 0.8 as Ollama; 128 tokens (Ollama has no limit,
    /// an editor waiting on a suggestion is better served by a bounded one).
    public static let ollama = CompletionFields.Defaults(maxTokens: 128, temperature: 0.8)
}
