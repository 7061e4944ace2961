import Foundation

/// A reply on the edge node's ZeroMQ client API: one JSON object per message, each carrying
/// the `id` of the request it answers (see docs/CLIENT_API.md).
public enum ClientReply: Sendable, Equatable {
    /// New text of a streamed completion, with the token ids that produced it and, for split
    /// strategies, where each came from.
    case token(id: String, text: String, tokens: [Int32], provenance: [TokenProvenance] = [])
    /// The completion finished; the summary holds the whole text.
    case done(id: String, summary: CompletionSummary)
    /// The request failed or was refused; `id` is nil when the request could not be read.
    case error(id: String?, ClientAPIError)
    /// The answer to a `status` request.
    case status(id: String?, ClientStatus)
    /// The answer to an `act` request: the action chunk.
    case actions(id: String, ActReply)

    /// The reply for a completion's streamed event.
    public init(id: String, event: CompletionEvent) {
        switch event {
        case .text(let text, let tokens, let provenance): self = .token(id: id, text: text, tokens: tokens, provenance: provenance)
        }
    }

    /// The message sent to the client.
    public func encoded() -> Data {
        var wire: WireReply
        switch self {
        case .token(let id, let text, let tokens, let provenance):
            wire = WireReply(type: "token", id: id)
            wire.text = text
            wire.tokens = tokens
            wire.provenance = provenance.isEmpty ? nil : provenance.map(\.description)
        case .done(let id, let summary):
            wire = WireReply(type: "done", id: id)
            wire.text = summary.text
            wire.finishReason = summary.finishReason.wireName
            wire.promptTokens = summary.promptTokenCount
            wire.completionTokens = summary.completionTokenCount
            wire.strategy = summary.strategy
            wire.degraded = summary.degraded
            wire.timeToFirstTokenSeconds = summary.timeToFirstTokenSeconds
            wire.totalSeconds = summary.totalSeconds
            wire.provenance = summary.provenance.isEmpty ? nil : summary.provenance.map(\.description)
            wire.counts = summary.counts
        case .error(let id, let error):
            wire = WireReply(type: "error", id: id)
            wire.code = error.code.rawValue
            wire.message = error.message
            wire.param = error.parameter
        case .status(let id, let status):
            wire = WireReply(type: "status", id: id)
            wire.status = status
        case .actions(let id, let reply):
            wire = WireReply(type: "actions", id: id)
            wire.actions = reply.actions
            wire.latencySeconds = reply.latencySeconds
            wire.strategy = reply.strategy
        }
        return ClientAPIJSON.encode(wire)
    }

    /// Reads a reply back, as a Swift client would.
    /// - Throws: `ClientAPIError` when the message is not a well-formed reply.
    public static func decode(_ message: Data, limits: ClientAPILimits = .standard) throws -> ClientReply {
        let wire = try ClientAPIJSON.decode(WireReply.self, from: message, limits: limits)
        func require<Value>(_ value: Value?, _ name: String) throws -> Value {
            guard let value else { throw ClientAPIError(.invalidRequest, "\(name) is required in a \(wire.type) reply", parameter: name) }
            return value
        }
        switch wire.type {
        case "token":
            return .token(id: try require(wire.id, "id"), text: try require(wire.text, "text"), tokens: wire.tokens ?? [],
                          provenance: try TokenProvenance.parse(wire.provenance ?? []))
        case "done":
            let reasonName = try require(wire.finishReason, "finish_reason")
            guard let reason = FinishReason(wireName: reasonName) else {
                throw ClientAPIError(.invalidRequest, "unknown finish_reason \"\(reasonName)\"", parameter: "finish_reason")
            }
            let summary = CompletionSummary(
                text: try require(wire.text, "text"), promptTokenCount: try require(wire.promptTokens, "prompt_tokens"),
                completionTokenCount: try require(wire.completionTokens, "completion_tokens"), finishReason: reason,
                strategy: try require(wire.strategy, "strategy"), degraded: wire.degraded ?? false,
                timeToFirstTokenSeconds: wire.timeToFirstTokenSeconds ?? 0, totalSeconds: wire.totalSeconds ?? 0,
                provenance: try TokenProvenance.parse(wire.provenance ?? []), counts: wire.counts)
            return .done(id: try require(wire.id, "id"), summary: summary)
        case "error":
            let codeName = try require(wire.code, "code")
            let code = ClientAPIError.Code(rawValue: codeName) ?? .internalError
            return .error(id: wire.id, ClientAPIError(code, try require(wire.message, "message"), parameter: wire.param))
        case "status":
            return .status(id: wire.id, try require(wire.status, "status"))
        case "actions":
            return .actions(id: try require(wire.id, "id"), ActReply(
                actions: try require(wire.actions, "actions"), latencySeconds: wire.latencySeconds ?? 0,
                strategy: wire.strategy ?? ""))
        default:
            throw ClientAPIError(.notFound, "unknown reply type \"\(wire.type)\"", parameter: "type")
        }
    }
}

/// The JSON object of a reply, field names as on the wire. A status reply carries the
/// `ClientStatus` fields at the top level, beside `type` and `id`.
private struct WireReply: Codable {
    var type: String
    var id: String?
    var text: String?
    var tokens: [Int32]?
    var finishReason: String?
    var promptTokens: Int?
    var completionTokens: Int?
    var strategy: String?
    var degraded: Bool?
    var timeToFirstTokenSeconds: Double?
    var totalSeconds: Double?
    var code: String?
    var message: String?
    var param: String?
    var status: ClientStatus?
    var actions: [[Double]]?
    var latencySeconds: Double?
    var provenance: [String]?
    var counts: ProvenanceCounts?

    private enum CodingKeys: String, CodingKey {
        case type, id, text, tokens, strategy, degraded, code, message, param, actions, provenance, counts
        case latencySeconds = "latency_seconds"
        case finishReason = "finish_reason", promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
        case timeToFirstTokenSeconds = "time_to_first_token_seconds", totalSeconds = "total_seconds"
    }

    init(type: String, id: String?) {
        self.type = type
        self.id = id
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        tokens = try c.decodeIfPresent([Int32].self, forKey: .tokens)
        finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
        promptTokens = try c.decodeIfPresent(Int.self, forKey: .promptTokens)
        completionTokens = try c.decodeIfPresent(Int.self, forKey: .completionTokens)
        strategy = try c.decodeIfPresent(String.self, forKey: .strategy)
        degraded = try c.decodeIfPresent(Bool.self, forKey: .degraded)
        timeToFirstTokenSeconds = try c.decodeIfPresent(Double.self, forKey: .timeToFirstTokenSeconds)
        totalSeconds = try c.decodeIfPresent(Double.self, forKey: .totalSeconds)
        code = try c.decodeIfPresent(String.self, forKey: .code)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        param = try c.decodeIfPresent(String.self, forKey: .param)
        actions = try c.decodeIfPresent([[Double]].self, forKey: .actions)
        latencySeconds = try c.decodeIfPresent(Double.self, forKey: .latencySeconds)
        provenance = try c.decodeIfPresent([String].self, forKey: .provenance)
        counts = try c.decodeIfPresent(ProvenanceCounts.self, forKey: .counts)
        // "message" is shared: in an error it is the error's, in a status the status note.
        status = type == "status" ? try ClientStatus(from: decoder) : nil
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(text, forKey: .text)
        try c.encodeIfPresent(tokens, forKey: .tokens)
        try c.encodeIfPresent(finishReason, forKey: .finishReason)
        try c.encodeIfPresent(promptTokens, forKey: .promptTokens)
        try c.encodeIfPresent(completionTokens, forKey: .completionTokens)
        try c.encodeIfPresent(strategy, forKey: .strategy)
        try c.encodeIfPresent(degraded, forKey: .degraded)
        try c.encodeIfPresent(timeToFirstTokenSeconds, forKey: .timeToFirstTokenSeconds)
        try c.encodeIfPresent(totalSeconds, forKey: .totalSeconds)
        try c.encodeIfPresent(code, forKey: .code)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(provenance, forKey: .provenance)
        try c.encodeIfPresent(counts, forKey: .counts)
        try c.encodeIfPresent(param, forKey: .param)
        try c.encodeIfPresent(actions, forKey: .actions)
        try c.encodeIfPresent(latencySeconds, forKey: .latencySeconds)
        try status?.encode(to: encoder)
    }
}
