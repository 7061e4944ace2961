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

        /// "replace" or "blend(w)".
        public var description: String {
            switch self {
            case .replace: return "replace"
            case .blend(let w): return "blend(\(w))"
            }
        }
    }

    /// One buffered action: the command and the step whose observation produced it.
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
        for (i, action) in actions.enumerated() where startStep + i >= notBefore {
            let step = startStep + i
            var command = action
            if case .blend(let w) = aggregation, let old = entries[step] {
                command = w * action + (1 - w) * old.command
            }
            entries[step] = Entry(command: command, observedAtStep: observedAtStep)
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
