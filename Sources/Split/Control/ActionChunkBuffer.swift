import Foundation

/// The actions the robot will execute, keyed by absolute control step. New chunks are spliced in
/// at the step they were predicted for; where they overlap what is already buffered, the
/// aggregation decides (replace, or a weighted blend as LeRobot's async inference does).
public struct ActionChunkBuffer: Sendable {
    /// How an incoming chunk combines with actions already buffered for the same steps.
    public enum Aggregation: Sendable, Equatable, CustomStringConvertible {
        /// The newer chunk wins.
        case replace
        /// `newWeight · new + (1 − newWeight) · old`.
        case blend(newWeight: Double)
        /// Real-time chunking's soft mask (Black et al., 2025, "Real-Time Execution of Action
        /// Chunking Flow Policies"), applied as a blend: over the old chunk's remaining actions
        /// the old one's weight falls from nearly 1 (the first step the new chunk can act on) to
        /// nearly 0 (its last action), then the new one alone.
        case softMask

        /// "replace", "blend(w)" or "soft-mask".
        public var description: String {
            switch self {
            case .replace: return "replace"
            case .blend(let w): return "blend(\(w))"
            case .softMask: return "soft-mask"
            }
        }

        /// The old chunk's weight at `step` when its buffered actions run from `firstStep` to
        /// `endStep` (exclusive) and the new chunk is spliced from `firstStep`.
        func oldWeight(at step: Int, firstStep: Int, endStep: Int) -> Double {
            switch self {
            case .replace: return 0
            case .blend(let w): return 1 - w
            case .softMask:
                guard step < endStep else { return 0 }
                // RTC: c = (H − s − i) / (H − s − d + 1), W = c (e^c − 1) / (e − 1), with i − d
                // the steps since the new chunk can first act and H − s − d the overlap left.
                let c = Double(endStep - step) / Double(endStep - firstStep + 1)
                return c * (exp(c) - 1) / (M_E - 1)
            }
        }
    }

    /// One buffered action: the command, and the step of the observation that dominates it (the
    /// chunk with the larger weight in a blend; the only chunk otherwise). An action *responds*
    /// to a change at step j when this observation was taken at or after j.
    public struct Entry: Sendable, Equatable {
        public var command: Point2
        public var observedAtStep: Int
    }

    /// How overlaps combine.
    public var aggregation: Aggregation
    private var entries: [Int: Entry] = [:]

    /// An empty buffer.
    public init(aggregation: Aggregation = .replace) {
        self.aggregation = aggregation
    }

    /// The action for `step`, if any.
    public func action(at step: Int) -> Entry? { entries[step] }

    /// Buffered actions for steps `step` and later that follow each other without a gap.
    public func remaining(from step: Int) -> Int {
        var count = 0
        while entries[step + count] != nil { count += 1 }
        return count
    }

    /// Splices `actions` so that `actions[i]` is for step `startStep + i`; actions for steps
    /// before `notBefore` (already executed) are dropped. Returns how many were kept.
    @discardableResult
    public mutating func splice(_ actions: [Point2], startStep: Int, observedAtStep: Int, notBefore: Int) -> Int {
        var kept = 0
        let firstStep = max(startStep, notBefore)
        let endStep = firstStep + remaining(from: firstStep)
        for (i, action) in actions.enumerated() where startStep + i >= notBefore {
            let step = startStep + i
            var entry = Entry(command: action, observedAtStep: observedAtStep)
            if let old = entries[step] {
                let w = aggregation.oldWeight(at: step, firstStep: firstStep, endStep: endStep)
                entry.command = (1 - w) * action + w * old.command
                if w > 0.5 { entry.observedAtStep = old.observedAtStep }
            }
            entries[step] = entry
            kept += 1
        }
        return kept
    }

    /// Forgets every action before `step` (executed).
    public mutating func discard(before step: Int) {
        entries = entries.filter { $0.key >= step }
    }

    /// Forgets everything.
    public mutating func clear() { entries.removeAll() }
}
