import Foundation

/// The model listing and description routes Ollama clients call before they complete anything
/// (Continue's Ollama provider, Open WebUI, the `ollama` libraries), with the field names of
/// docs.ollama.com/api/tags, /api/show and /api/version (ollama docs/api.md).
enum OllamaModelRoutes {
    /// What `GET /api/version` reports. Clients gate features on it (Open WebUI asks for 0.1.16
    /// or later); the routes here follow the API as Ollama 0.6 documents it.
    static let version = "0.6.0"
}

/// `details` of a model: `parent_model`, `format`, `family`, `families`, `parameter_size`,
/// `quantization_level`.
public struct OllamaModelDetails: Sendable, Codable, Equatable {
    public var parentModel: String
    public var format: String
    public var family: String
    public var families: [String]
    public var parameterSize: String
    public var quantizationLevel: String

    enum CodingKeys: String, CodingKey {
        case format, family, families
        case parentModel = "parent_model", parameterSize = "parameter_size", quantizationLevel = "quantization_level"
    }

    /// The details of `model`.
    init(_ model: ServedModel) {
        parentModel = ""
        format = model.format
        family = model.family
        families = model.family.isEmpty ? [] : [model.family]
        parameterSize = model.parameterSize
        quantizationLevel = model.quantizationLevel
    }
}

/// The body of `GET /api/tags`: `{"models": [{name, model, modified_at, size, digest, details}]}`,
/// holding the one model a node serves.
public struct OllamaModelList: Sendable, Codable, Equatable {
    /// One model entry.
    public struct Model: Sendable, Codable, Equatable {
        public var name: String
        public var model: String
        /// RFC 3339.
        public var modifiedAt: String
        public var size: Int
        /// SHA-256 of the model file in hexadecimal, empty when unknown.
        public var digest: String
        public var details: OllamaModelDetails

        enum CodingKeys: String, CodingKey {
            case name, model, size, digest, details
            case modifiedAt = "modified_at"
        }
    }

    public var models: [Model]

    /// The list holding `model`.
    init(_ model: ServedModel) {
        models = [Model(name: model.name, model: model.name, modifiedAt: OllamaResponse.rfc3339(model.modifiedAt ?? Date()),
                        size: model.sizeBytes, digest: model.digest, details: OllamaModelDetails(model))]
    }
}

/// The body of `POST /api/show`: `{"model": ...}`, or the older `{"name": ...}`.
struct OllamaShowRequest: Decodable {
    var model: String

    private enum CodingKeys: String, CodingKey { case model, name }

    /// Parses a body; the model named is checked by the route.
    /// - Throws: `ClientAPIError` for a malformed body or a missing name.
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> OllamaShowRequest {
        try ClientAPIJSON.decode(OllamaShowRequest.self, from: body, limits: limits)
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let name = try c.decodeField(String.self, forKey: .model) ?? c.decodeField(String.self, forKey: .name), !name.isEmpty else {
            throw ClientAPIError(.invalidRequest, "model is required", parameter: "model")
        }
        model = name
    }
}

/// The body of `POST /api/show`'s answer: `details`, `model_info` (the GGUF-style keys
/// `general.architecture`, `general.parameter_count`, `<family>.context_length` where known),
/// `capabilities` and `modified_at`. `modelfile`, `parameters` and `template` are Ollama's own
/// formats, which a Split node has none of: they are empty.
public struct OllamaShowResponse: Sendable, Codable, Equatable {
    public var modelfile: String
    public var parameters: String
    public var template: String
    public var details: OllamaModelDetails
    public var modelInfo: [String: ModelInfoValue]
    public var capabilities: [String]
    public var modifiedAt: String

    /// A `model_info` value: a string or a number.
    public enum ModelInfoValue: Sendable, Codable, Equatable {
        case string(String)
        case integer(Int)

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let number = try? c.decode(Int.self) { self = .integer(number) } else { self = .string(try c.decode(String.self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let text): try c.encode(text)
            case .integer(let number): try c.encode(number)
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case modelfile, parameters, template, details, capabilities
        case modelInfo = "model_info", modifiedAt = "modified_at"
    }

    /// The description of `model`.
    init(_ model: ServedModel) {
        modelfile = ""
        parameters = ""
        template = ""
        details = OllamaModelDetails(model)
        var info: [String: ModelInfoValue] = [:]
        if !model.family.isEmpty {
            info["general.architecture"] = .string(model.family)
            if let length = model.contextLength { info["\(model.family).context_length"] = .integer(length) }
        }
        if let count = model.parameterCount { info["general.parameter_count"] = .integer(count) }
        modelInfo = info
        capabilities = model.capabilities
        modifiedAt = OllamaResponse.rfc3339(model.modifiedAt ?? Date())
    }
}
