/// The strategies a selector chooses among for a model: every strategy of `Strategy` with its
/// parameter grid (split k × encoding, split-exit k × τ, split-spec k × γ), and for robot
/// action-chunk tasks the control modes.
public struct StrategyCatalogue: Sendable, Equatable {
    /// Split layers for split(k, encoding).
    public var splitLayers: [Int]
    /// Encodings for cloud and split.
    public var encodings: [ActivationEncoding]
    /// Split layers and thresholds τ for split-exit(k, τ) (f32 activations).
    public var exitLayers: [Int]
    public var exitThresholds: [Float]
    /// Split layers and draft lengths γ for split-spec(k, γ) (f32 activations: exact).
    public var specLayers: [Int]
    public var draftLengths: [Int]

    /// A catalogue with explicit grids (layers outside 1…L−1 are dropped when listing).
    public init(splitLayers: [Int], encodings: [ActivationEncoding], exitLayers: [Int], exitThresholds: [Float],
                specLayers: [Int], draftLengths: [Int]) {
        self.splitLayers = splitLayers
        self.encodings = encodings
        self.exitLayers = exitLayers
        self.exitThresholds = exitThresholds
        self.specLayers = specLayers
        self.draftLengths = draftLengths
    }

    /// The grid used by default for an L-layer model: k at L/4, L/2, 3L/4; f32, f16, int8-32;
    /// split-exit at L/2 with τ 0.5 and 0.9; split-spec at L/4 and L/2 with γ 3 and 6.
    public static func standard(layerCount L: Int) -> StrategyCatalogue {
        let quarter = max(1, L / 4), half = max(1, L / 2), threeQuarters = max(1, 3 * L / 4)
        return StrategyCatalogue(splitLayers: Array(Set([quarter, half, threeQuarters])).sorted(),
                                 encodings: [.f32, .f16, .int8Block32],
                                 exitLayers: [half], exitThresholds: [0.5, 0.9],
                                 specLayers: Array(Set([quarter, half])).sorted(), draftLengths: [3, 6])
    }

    /// Every completion strategy of the grid for an L-layer model, in a fixed order: local,
    /// cloud per encoding, split, split-exit, split-spec.
    public func strategies(layerCount L: Int) -> [Strategy] {
        let inner = { (layers: [Int]) in layers.filter { (1..<L).contains($0) } }
        var list: [Strategy] = [.local]
        list += encodings.map { Strategy.cloud(encoding: $0) }
        for k in inner(splitLayers) { list += encodings.map { Strategy.split(layer: k, encoding: $0) } }
        for k in inner(exitLayers) {
            list += exitThresholds.map { Strategy.splitExit(layer: k, threshold: $0, minExitLayer: nil, encoding: .f32) }
        }
        for k in inner(specLayers) {
            list += draftLengths.map { Strategy.splitSpec(layer: k, draftLength: $0, adaptive: false, encoding: .f32) }
        }
        return list
    }

    /// Every control strategy for an action-chunk task on an L-layer policy: each control mode
    /// with the policy run locally, on the cloud and split at L/2 (f32 on the link: a policy sends
    /// a few rows, so rounding them saves nothing), placements outermost.
    public static func controlStrategies(layerCount L: Int) -> [Strategy] {
        let placements: [Strategy] = [.local, .cloud(encoding: .f32)] + (L >= 2 ? [.split(layer: L / 2, encoding: .f32)] : [])
        return placements.flatMap { placement in ControlMode.allCases.map { Strategy.control(mode: $0, placement: placement) } }
    }

    /// Robot action-chunk tasks: how the control loop overlaps inference with motion, with
    /// what each guarantees. Sync acts on the observed state (the policy's own output); the
    /// async modes act on chunks computed from a stale or predicted state (approximate).
    public static let controlModes: [(mode: ControlMode, guarantee: OutputGuarantee)] = ControlMode.allCases.map {
        ($0, $0 == .sync ? .exact : .approximate)
    }
}

/// What a task is.
public enum TaskKind: String, Sendable, Codable, CaseIterable {
    /// Text completion (the completion strategies).
    case completion
    /// A robot policy's action chunk (the control modes).
    case actionChunk = "action-chunk"
}
