import Foundation

/// When split-exit answers a token on the edge: the exit head's confidence at an eligible
/// layer (its top probability, and optionally its top-1/top-2 margin) reaches the thresholds.
/// When the model ships a trained controller with a head for that layer, its "stop" ends the
/// completion first.
public struct ExitPolicy: Sendable, Equatable {
    /// Smallest top probability of the exit head that answers on the edge.
    public var threshold: Float
    /// Smallest top-1 minus top-2 probability, or 0 for no margin rule.
    public var margin: Float
    /// Earliest layer whose exit may answer (exits are checked at every layer from here to k).
    public var minLayer: Int
    /// The trained stop/exit/continue classifier, used instead of the thresholds when present.
    public var controller: ExitController?

    /// Makes a policy.
    public init(threshold: Float, margin: Float = 0, minLayer: Int, controller: ExitController? = nil) {
        self.threshold = threshold
        self.margin = margin
        self.minLayer = minLayer
        self.controller = controller
    }

    /// What to do with a token at one eligible layer.
    public enum Decision: Sendable, Equatable {
        /// Emit the exit head's token.
        case exit
        /// Run more layers (and the cloud).
        case `continue`
        /// The completion is likely wrong from here: end it.
        case stop
    }

    /// Confidence of one row of exit logits: top probability and top-1/top-2 margin.
    public static func confidence(_ logits: UnsafeBufferPointer<Float>) -> (top: Float, margin: Float) {
        let logSumExp = Sampler.logSumExp(logits)
        var first = -Float.infinity, second = -Float.infinity
        for v in logits {
            if v > first { second = first; first = v } else if v > second { second = v }
        }
        let top = Foundation.exp(first - logSumExp)
        return (top, top - Foundation.exp(second - logSumExp))
    }

    /// The decision at `layer` for a hidden state (before the final norm) and its exit logits.
    public func decide(layer: Int, hidden: UnsafeBufferPointer<Float>, logits: UnsafeBufferPointer<Float>) -> Decision {
        // The controller says when to stop; whether to exit is the confidence rule's. Measured on
        // held-out lines (BENCHMARKS.md), the controller's own "exit" (trained on the true
        // token, as in the paper) agreed with the full model far less than the top probability.
        if let controller, controller.decide(layer: layer, hidden: hidden, logits: logits) == .stop { return .stop }
        let c = Self.confidence(logits)
        return c.top >= threshold && c.margin >= margin ? .exit : .continue
    }
}
