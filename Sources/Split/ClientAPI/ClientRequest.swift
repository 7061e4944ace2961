import Foundation

/// A request on the edge node's ZeroMQ client API: one JSON object per message (see
/// docs/CLIENT_API.md). Parsing is pure and bounded; the socket lives elsewhere.
public enum ClientRequest: Sendable, Equatable {
    /// Run a completion; replies are `token` events (when `stream`) and then `done` or `error`.
    case complete(id: String, request: CompletionRequest, stream: Bool)
    /// Ask for the node's status; the reply is one `status` event.
    case status(id: String?)
    /// Ask the robot policy for an action chunk; the reply is one `actions` event.
    case act(id: String, ActRequest)

    /// The client's id for this request, echoed in every reply.
    public var id: String? {
        switch self {
        case .complete(let id, _, _): return id
        case .status(let id): return id
        case .act(let id, _): return id
        }
    }

    /// Parses one message, checking every field against `limits`.
    /// - Throws: `ClientAPIError` saying what is wrong and in which field; its `id` can be
    ///   recovered with `bestEffortID(in:)` to address the error reply.
    public static func decode(_ message: Data, limits: ClientAPILimits = .standard) throws -> ClientRequest {
        let wire = try ClientAPIJSON.decode(WireRequest.self, from: message, limits: limits)
        if let id = wire.id, id.isEmpty || id.utf8.count > limits.maxIDBytes {
            throw ClientAPIError(.invalidRequest, "id must be 1 to \(limits.maxIDBytes) bytes", parameter: "id")
        }
        switch wire.type {
        case "complete":
            guard let id = wire.id else { throw ClientAPIError(.invalidRequest, "id is required", parameter: "id") }
            let fields = CompletionFields(
                prompt: wire.prompt, maxTokens: wire.maxTokens, temperature: wire.temperature, topP: wire.topP,
                topK: wire.topK, seed: wire.seed, stop: wire.stop?.strings, strategy: wire.strategy,
                allowDegraded: wire.allowDegraded, quality: wire.quality, infill: try wire.infill())
            var request = try fields.makeRequest(limits: limits, defaults: .socket)
            if let indent = wire.minimumIndent {
                guard indent >= 0 else {
                    throw ClientAPIError(.invalidRequest, "n_indent must be 0 or more, not \(indent)", parameter: "n_indent")
                }
                request.minimumIndent = indent
            }
            // Non-positive means no limit, as on /infill.
            request.predictTimeLimitSeconds = wire.predictTimeLimitMilliseconds.flatMap { $0 > 0 ? Double($0) / 1000 : nil }
            return .complete(id: id, request: request, stream: wire.stream ?? true)
        case "status":
            return .status(id: wire.id)
        case "act":
            guard let id = wire.id else { throw ClientAPIError(.invalidRequest, "id is required", parameter: "id") }
            guard let state = wire.state else { throw ClientAPIError(.invalidRequest, "state is required", parameter: "state") }
            guard let target = wire.target else { throw ClientAPIError(.invalidRequest, "target is required", parameter: "target") }
            return .act(id: id, ActRequest(state: state, target: target, horizon: wire.horizon, quality: wire.quality,
                                           strategy: wire.strategy))
        default:
            throw ClientAPIError(.notFound, "unknown request type \"\(wire.type)\"; expected \"complete\", \"act\" or \"status\"",
                                 parameter: "type")
        }
    }

    /// The request's `id`, when the message is JSON with a string `id` of acceptable size, so
    /// an error reply for an otherwise bad request can still name it.
    public static func bestEffortID(in message: Data, limits: ClientAPILimits = .standard) -> String? {
        guard message.count <= limits.maxMessageBytes,
              let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any],
              let id = object["id"] as? String, !id.isEmpty, id.utf8.count <= limits.maxIDBytes
        else { return nil }
        return id
    }

    /// The message a client sends for this request (what `decode` reads back).
    public func encoded() -> Data {
        switch self {
        case .status(let id):
            return ClientAPIJSON.encode(WireRequest(type: "status", id: id))
        case .act(let id, let act):
            var wire = WireRequest(type: "act", id: id)
            wire.state = act.state
            wire.target = act.target
            wire.horizon = act.horizon
            wire.quality = act.quality
            wire.strategy = act.strategy
            return ClientAPIJSON.encode(wire)
        case .complete(let id, let request, let stream):
            var wire = WireRequest(type: "complete", id: id)
            wire.prompt = request.infill?.prompt ?? request.prompt
            wire.inputPrefix = request.infill?.prefix
            wire.inputSuffix = request.infill?.suffix
            wire.inputExtra = request.infill.flatMap { $0.extraFiles.isEmpty ? nil : $0.extraFiles.map(WireExtraFile.init) }
            wire.minimumIndent = request.minimumIndent > 0 ? request.minimumIndent : nil
            wire.predictTimeLimitMilliseconds = request.predictTimeLimitSeconds.map { Int(($0 * 1000).rounded()) }
            wire.maxTokens = request.maxTokens
            wire.temperature = Double(request.sampling.temperature)
            wire.topK = request.sampling.topK
            wire.topP = Double(request.sampling.topP)
            wire.seed = request.sampling.seed
            wire.stop = request.stop.isEmpty ? nil : StringOrStrings(request.stop)
            wire.strategy = request.strategy
            wire.allowDegraded = request.allowDegraded
            wire.quality = request.quality
            wire.stream = stream
            return ClientAPIJSON.encode(wire)
        }
    }
}

/// The JSON object of a request, field names as on the wire.
private struct WireRequest: Codable {
    var type: String
    var id: String?
    var prompt: String?
    var maxTokens: Int?
    var temperature: Double?
    var topK: Int?
    var topP: Double?
    var seed: UInt64?
    var stop: StringOrStrings?
    var strategy: String?
    var allowDegraded: Bool?
    var quality: String?
    var stream: Bool?
    var state: [Double]?
    var target: [Double]?
    var horizon: Int?
    /// Fill-in-the-middle, as on `/infill`: the code around the cursor and extra files.
    var inputPrefix: String?
    var inputSuffix: String?
    var inputExtra: [WireExtraFile]?
    var minimumIndent: Int?
    var predictTimeLimitMilliseconds: Int?

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case type, id, prompt, temperature, seed, stop, strategy, quality, stream, state, target, horizon
        case maxTokens = "max_tokens", topK = "top_k", topP = "top_p", allowDegraded = "allow_degraded"
        case inputPrefix = "input_prefix", inputSuffix = "input_suffix", inputExtra = "input_extra"
        case minimumIndent = "n_indent", predictTimeLimitMilliseconds = "t_max_predict_ms"
    }

    init(type: String, id: String?) {
        self.type = type
        self.id = id
    }

    init(from decoder: any Decoder) throws {
        try ClientAPIJSON.rejectUnknownKeys(in: decoder, known: Set(CodingKeys.allCases.map(\.rawValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let type = try c.decodeField(String.self, forKey: .type) else {
            throw ClientAPIError(.invalidRequest, "type is required (\"complete\" or \"status\")", parameter: "type")
        }
        self.type = type
        id = try c.decodeField(String.self, forKey: .id)
        prompt = try c.decodeField(String.self, forKey: .prompt)
        maxTokens = try c.decodeField(Int.self, forKey: .maxTokens)
        temperature = try c.decodeField(Double.self, forKey: .temperature)
        topK = try c.decodeField(Int.self, forKey: .topK)
        topP = try c.decodeField(Double.self, forKey: .topP)
        seed = try c.decodeField(UInt64.self, forKey: .seed)
        stop = try c.decodeField(StringOrStrings.self, forKey: .stop)
        strategy = try c.decodeField(String.self, forKey: .strategy)
        allowDegraded = try c.decodeField(Bool.self, forKey: .allowDegraded)
        quality = try c.decodeField(String.self, forKey: .quality)
        stream = try c.decodeField(Bool.self, forKey: .stream)
        state = try c.decodeField([Double].self, forKey: .state)
        target = try c.decodeField([Double].self, forKey: .target)
        horizon = try c.decodeField(Int.self, forKey: .horizon)
        inputPrefix = try c.decodeField(String.self, forKey: .inputPrefix)
        inputSuffix = try c.decodeField(String.self, forKey: .inputSuffix)
        inputExtra = try c.decodeField([WireExtraFile].self, forKey: .inputExtra)
        minimumIndent = try c.decodeField(Int.self, forKey: .minimumIndent)
        predictTimeLimitMilliseconds = try c.decodeField(Int.self, forKey: .predictTimeLimitMilliseconds)
    }

    /// The fill-in-the-middle input, when the request has `input_prefix` or `input_suffix`
    /// (then both are required, as on `/infill`; `prompt` is the text at the cursor).
    /// - Throws: `ClientAPIError.invalidRequest` naming the missing field.
    func infill() throws -> InfillInput? {
        guard inputPrefix != nil || inputSuffix != nil || inputExtra != nil else { return nil }
        guard let inputPrefix else { throw ClientAPIError(.invalidRequest, "input_prefix is required with input_suffix", parameter: "input_prefix") }
        guard let inputSuffix else { throw ClientAPIError(.invalidRequest, "input_suffix is required with input_prefix", parameter: "input_suffix") }
        return InfillInput(prefix: inputPrefix, suffix: inputSuffix, extraFiles: (inputExtra ?? []).map(\.file), prompt: prompt ?? "")
    }
}

/// One `input_extra` chunk: `text` required, `filename` optional (llama.cpp calls it "tmp" then).
private struct WireExtraFile: Codable {
    var filename: String?
    var text: String

    init(_ file: InfillFile) {
        filename = file.filename
        text = file.text
    }

    var file: InfillFile { InfillFile(filename: filename ?? "tmp", text: text) }
}
