import Foundation

/// Ollama's `options` object as `/api/generate` and `/api/chat` share it: the model options
/// Split applies (`num_predict`, `temperature`, `top_p`, `top_k`, `seed`, `stop`); Ollama's
/// others (`num_ctx`, `repeat_penalty`, ...) are accepted and not applied.
struct OllamaOptions: Decodable {
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

extension CompletionFields {
    /// The fields Ollama's `/api/generate` and `/api/chat` share, read from a body: its
    /// `options`, mapped as Ollama means them, and Split's `strategy`, `allow_degraded` and
    /// `quality`. The prompt, infill or conversation is the caller's to set.
    /// - Throws: `ClientAPIError.invalidRequest` naming a field of the wrong type.
    init(ollamaFieldsFrom decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        func field<Value: Decodable>(_ type: Value.Type, _ name: String) throws -> Value? {
            try c.decodeField(type, forKey: AnyCodingKey(stringValue: name))
        }
        let options = try field(OllamaOptions.self, "options")
        self.init(
            // Ollama: -1 is "until the end", -2 "until the context fills"; Split's default budget.
            maxTokens: options?.numPredict.flatMap { $0 < 0 ? nil : $0 },
            temperature: options?.temperature, topP: options?.topP, topK: options?.topK,
            // Ollama: a negative seed is random.
            seed: options?.seed.flatMap { $0 >= 0 ? UInt64($0) : nil },
            stop: options?.stop?.strings,
            strategy: try field(String.self, "strategy"),
            allowDegraded: try field(Bool.self, "allow_degraded"),
            quality: try field(String.self, "quality"))
    }
}
