import Foundation

/// The body of `POST /infill` as llama.cpp's server reads it, and as llama.vim and
/// llama.vscode send it: `input_prefix`, `input_suffix`, `input_extra`, `prompt`, `n_predict`,
/// `n_indent`, `t_max_prompt_ms`, `t_max_predict_ms`, `cache_prompt`, `id_slot`, `samplers`, `stream`,
/// the sampling fields, plus Split's `strategy`, `allow_degraded` and `quality`. Unknown
/// fields are ignored, as llama.cpp ignores them.
public struct LlamaInfillRequest: Sendable, Decodable, Equatable {
    /// The shared completion fields, with `infill` set.
    public var fields: CompletionFields
    /// Whether to answer with server-sent events.
    public var stream: Bool
    /// llama.cpp's `n_indent`: a generated line indented less than this ends the completion.
    public var minimumIndent: Int
    /// llama.cpp's `t_max_predict_ms`: once a line is complete, generating past this ends it.
    public var predictTimeLimitMilliseconds: Int?

    private enum CodingKeys: String, CodingKey {
        case prompt, temperature, seed, stop, stream, strategy, quality, samplers
        case inputPrefix = "input_prefix", inputSuffix = "input_suffix", inputExtra = "input_extra"
        case nPredict = "n_predict", nIndent = "n_indent", topK = "top_k", topP = "top_p"
        case maxPromptMilliseconds = "t_max_prompt_ms", maxPredictMilliseconds = "t_max_predict_ms"
        case cachePrompt = "cache_prompt", idSlot = "id_slot", allowDegraded = "allow_degraded"
    }

    /// One `input_extra` chunk: `text` is required, `filename` optional.
    private struct ExtraChunk: Decodable {
        var filename: String?
        var text: String?
    }

    /// Parses and checks a body against `limits`.
    /// - Throws: `ClientAPIError` naming the field at fault.
    public static func decode(_ body: Data, limits: ClientAPILimits = .standard) throws -> (request: CompletionRequest, stream: Bool) {
        let wire = try ClientAPIJSON.decode(LlamaInfillRequest.self, from: body, limits: limits)
        var request = try wire.fields.makeRequest(limits: limits, defaults: .infill)
        request.minimumIndent = wire.minimumIndent
        request.predictTimeLimitSeconds = wire.predictTimeLimitMilliseconds.map { Double($0) / 1000 }
        return (request, wire.stream)
    }

    /// Decodes the fields, checking what llama.cpp checks: both inputs present, `input_extra`
    /// an array of chunks with a string `text`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let prefix = try c.decodeField(String.self, forKey: .inputPrefix) else {
            throw ClientAPIError(.invalidRequest, "\"input_prefix\" is required", parameter: "input_prefix")
        }
        guard let suffix = try c.decodeField(String.self, forKey: .inputSuffix) else {
            throw ClientAPIError(.invalidRequest, "\"input_suffix\" is required", parameter: "input_suffix")
        }
        let chunks = try c.decodeField([ExtraChunk].self, forKey: .inputExtra) ?? []
        let files = try chunks.map { chunk -> InfillFile in
            guard let text = chunk.text else {
                throw ClientAPIError(.invalidRequest, "each input_extra chunk must have a \"text\" string", parameter: "input_extra")
            }
            return InfillFile(filename: chunk.filename ?? "tmp", text: text)
        }
        let prompt = try c.decodeField(String.self, forKey: .prompt) ?? ""
        // llama.cpp: n_predict -1 means "no limit"; Split's is the default budget.
        let nPredict = try c.decodeField(Int.self, forKey: .nPredict)
        // llama.cpp: a negative seed means "random".
        let seed = try c.decodeField(Int64.self, forKey: .seed).flatMap { $0 >= 0 ? UInt64($0) : nil }
        stream = try c.decodeField(Bool.self, forKey: .stream) ?? false
        minimumIndent = try c.decodeField(Int.self, forKey: .nIndent) ?? 0
        guard minimumIndent >= 0 else {
            throw ClientAPIError(.invalidRequest, "n_indent must be 0 or more, not \(minimumIndent)", parameter: "n_indent")
        }
        // Non-positive means no limit, as in llama.cpp.
        predictTimeLimitMilliseconds = try c.decodeField(Int.self, forKey: .maxPredictMilliseconds).flatMap { $0 > 0 ? $0 : nil }
        // Read for their types only. `t_max_prompt_ms` is accepted and not enforced, as in
        // llama.cpp (a TODO there); `samplers` names llama.cpp's sampler chain: Split samples
        // with temperature, top_k and top_p as given.
        _ = try c.decodeField(Int.self, forKey: .maxPromptMilliseconds)
        _ = try c.decodeField([String].self, forKey: .samplers)
        fields = CompletionFields(
            prompt: prompt,
            maxTokens: nPredict.flatMap { $0 < 0 ? nil : $0 },
            temperature: try c.decodeField(Double.self, forKey: .temperature),
            topP: try c.decodeField(Double.self, forKey: .topP),
            topK: try c.decodeField(Int.self, forKey: .topK),
            seed: seed,
            stop: try c.decodeField(StringOrStrings.self, forKey: .stop)?.strings,
            strategy: try c.decodeField(String.self, forKey: .strategy),
            allowDegraded: try c.decodeField(Bool.self, forKey: .allowDegraded),
            quality: try c.decodeField(String.self, forKey: .quality),
            infill: InfillInput(prefix: prefix, suffix: suffix, extraFiles: files, prompt: prompt),
            cachePrompt: try c.decodeField(Bool.self, forKey: .cachePrompt),
            slot: try c.decodeField(Int.self, forKey: .idSlot))
    }
}
