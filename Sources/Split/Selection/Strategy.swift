import Foundation

/// The strategies an edge can serve a request with: the one place that lists them, with their
/// parameters, their names in the client API's `"strategy"` field and whether they are exact.
public enum Strategy: Sendable, Equatable, CustomStringConvertible {
    /// The whole model on the edge; no network.
    case local
    /// The edge only embeds; the cloud runs every layer (a split at k = 0), one round trip per token.
    case cloud(encoding: ActivationEncoding)
    /// Layers [0, k) on the edge, [k, L) on the cloud; one round trip per token.
    case split(layer: Int, encoding: ActivationEncoding)
    /// As split, but a token whose exit head is confident (≥ `threshold`) at an eligible layer
    /// in [`minExitLayer`, k] is answered on the edge; its hidden state reaches the cloud later,
    /// batched with the next request. Approximate.
    case splitExit(layer: Int, threshold: Float, minExitLayer: Int?, encoding: ActivationEncoding)
    /// The edge drafts `draftLength` tokens with its exit head at layer k and the cloud verifies
    /// them all in one batch; exact (greedy: identical tokens; sampling: the speculative rule).
    case splitSpec(layer: Int, draftLength: Int, adaptive: Bool, encoding: ActivationEncoding)
    /// A robot action-chunk task: the policy run as `placement` (local, cloud or split), and
    /// the control loop overlapping inference with motion as `mode`. Exact only in sync mode
    /// (the robot acts on chunks computed from the state it observed) with an exact placement.
    indirect case control(mode: ControlMode, placement: Strategy)

    /// Longest draft a client may ask for.
    public static let maxDraftLength = 16

    /// The layer the cloud starts at, or nil for local.
    public var splitLayer: Int? {
        switch self {
        case .local: return nil
        case .cloud: return 0
        case .split(let k, _), .splitExit(let k, _, _, _), .splitSpec(let k, _, _, _): return k
        case .control(_, let placement): return placement.splitLayer
        }
    }

    /// How hidden states travel, or nil for local.
    public var encoding: ActivationEncoding? {
        switch self {
        case .local: return nil
        case .cloud(let e), .split(_, let e), .splitExit(_, _, _, let e), .splitSpec(_, _, _, let e): return e
        case .control(_, let placement): return placement.encoding
        }
    }

    /// The kind of task the strategy serves: action chunks for the control strategies.
    public var taskKind: TaskKind {
        if case .control = self { return .actionChunk }
        return .completion
    }

    /// Whether the output is the full model's: true for every strategy but split-exit and the
    /// async control modes (given an exact activation encoding; f16/int8 round the hidden state
    /// the cloud sees).
    public var isExact: Bool {
        switch self {
        case .splitExit: return false
        case .control(let mode, let placement): return mode == .sync && placement.isExact
        default: return true
        }
    }

    /// The canonical name, which `parse` reads back.
    public var description: String {
        switch self {
        case .local: return "local"
        case .cloud(let e): return "cloud(\(e))"
        case .split(let k, let e): return "split(k=\(k),\(e))"
        case .splitExit(let k, let tau, let minLayer, let e):
            let from = minLayer.map { ",min=\($0)" } ?? ""
            return "split-exit(k=\(k),tau=\(Self.format(tau))\(from),\(e))"
        case .splitSpec(let k, let gamma, let adaptive, let e):
            return "split-spec(k=\(k),gamma=\(gamma)\(adaptive ? ",adaptive" : ""),\(e))"
        case .control(let mode, let placement): return "\(mode.rawValue)@\(placement)"
        }
    }

    private static func format(_ value: Float) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static let grammar = "local, cloud[(enc)], split(k=N[,enc]), split-exit(k=N,tau=X[,min=M][,enc]), "
        + "split-spec(k=N,gamma=G[,adaptive][,enc]); enc is f32, f16, int8-32 or int8-64; for robot action chunks "
        + "MODE@PLACE, MODE sync, naive-async or future-state-async, PLACE local, cloud(enc) or split(k=N,enc)"

    /// Parses a strategy name such as "local", "split(k=4,int8-32)", "split-spec(k=2,gamma=4)",
    /// "split-exit(k=3,tau=0.8)". Parameters a name leaves out come from `fallback` (the edge's
    /// default strategy) where it has them; nil or "" gives `fallback` itself. A split-exit
    /// without τ or a split-spec without γ takes it from `calibration` (`edge-node calibrate`).
    /// - Throws: `CompletionError.invalidRequest` naming what could not be read.
    public static func parse(_ name: String?, default fallback: String, calibration: ExitCalibration? = nil) throws -> Strategy {
        let text = (name?.isEmpty == false ? name! : fallback).lowercased().replacingOccurrences(of: " ", with: "")
        if let at = text.firstIndex(of: "@") {
            guard let mode = ControlMode(rawValue: String(text[..<at])) else {
                throw invalid(text, "unknown control mode '\(text[..<at])'")
            }
            let placement = try parse(String(text[text.index(after: at)...]), default: "local")
            switch placement {
            case .local, .cloud, .split: return .control(mode: mode, placement: placement)
            case .splitExit, .splitSpec, .control: throw invalid(text, "a policy runs local, cloud or split")
            }
        }
        let defaults = fallback.lowercased() == text ? nil : try? parse(fallback, default: "local")
        let kind: Substring
        var arguments: [Substring] = []
        if let open = text.firstIndex(of: "(") {
            guard text.hasSuffix(")") else { throw invalid(text, "a '(' without its closing ')'") }
            kind = text[..<open]
            arguments = text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: ",")
        } else {
            kind = Substring(text)
        }
        var layer = defaults?.splitLayer.flatMap { $0 > 0 ? $0 : nil }
        var encoding: ActivationEncoding?
        var threshold: Float?, minLayer: Int?, gamma: Int?, adaptive = false
        for argument in arguments {
            let pair = argument.split(separator: "=", maxSplits: 1)
            let key = pair.count == 2 ? String(pair[0]) : nil
            let value = pair.count == 2 ? String(pair[1]) : String(argument)
            switch key {
            case "k"?:
                guard let k = Int(value), k >= 0 else { throw invalid(text, "split layer '\(value)' is not a layer number") }
                layer = k
            case "tau"?:
                guard let tau = Float(value), tau > 0, tau <= 1 else { throw invalid(text, "tau '\(value)' must be in (0, 1]") }
                threshold = tau
            case "min"?:
                guard let m = Int(value), m >= 1 else { throw invalid(text, "min exit layer '\(value)' must be ≥ 1") }
                minLayer = m
            case "gamma"?:
                guard let g = Int(value), (1...maxDraftLength).contains(g) else {
                    throw invalid(text, "gamma '\(value)' must be 1…\(maxDraftLength)")
                }
                gamma = g
            case nil where value == "adaptive":
                adaptive = true
            case nil:
                guard let e = ActivationEncoding(name: value) else { throw invalid(text, "cannot read '\(value)'") }
                encoding = e
            default:
                throw invalid(text, "unknown parameter '\(key!)'")
            }
        }
        func allow(_ keys: Bool...) throws {
            guard !keys.contains(true) else { throw invalid(text, "parameter not used by \(kind)") }
        }
        func requireLayer() throws -> Int {
            guard let layer else { throw invalid(text, "needs a split layer, e.g. \(kind)(k=4)") }
            return layer
        }
        let inherited = defaults?.encoding ?? .f16
        switch kind {
        case "local":
            try allow(!arguments.isEmpty)
            return .local
        case "cloud":
            try allow(layer != nil && arguments.contains { $0.hasPrefix("k=") }, threshold != nil, gamma != nil, minLayer != nil, adaptive)
            return .cloud(encoding: encoding ?? inherited)
        case "split":
            try allow(threshold != nil, gamma != nil, minLayer != nil, adaptive)
            return .split(layer: try requireLayer(), encoding: encoding ?? inherited)
        case "split-exit":
            try allow(gamma != nil, adaptive)
            let k = try requireLayer()
            guard k >= 1 else { throw invalid(text, "an edge exit needs at least one edge layer (k ≥ 1)") }
            guard let threshold = threshold ?? calibration?.threshold else {
                throw invalid(text, "needs a confidence threshold, e.g. split-exit(k=\(k),tau=0.8), or a calibration (edge-node calibrate)")
            }
            if let minLayer, minLayer > k { throw invalid(text, "min exit layer \(minLayer) is above k=\(k)") }
            return .splitExit(layer: k, threshold: threshold, minExitLayer: minLayer, encoding: encoding ?? inherited)
        case "split-spec":
            try allow(threshold != nil, minLayer != nil)
            let k = try requireLayer()
            guard k >= 1 else { throw invalid(text, "drafting needs at least one edge layer (k ≥ 1)") }
            // f32 unless asked otherwise: the point of split-spec is the full model's exact output.
            return .splitSpec(layer: k, draftLength: gamma ?? calibration?.draftLength ?? 4, adaptive: adaptive,
                              encoding: encoding ?? .f32)
        default:
            throw CompletionError.invalidRequest("unknown strategy '\(text)' (known: \(grammar))")
        }
    }

    private static func invalid(_ text: String, _ problem: String) -> CompletionError {
        .invalidRequest("strategy '\(text)': \(problem) (known: \(grammar))")
    }
}
