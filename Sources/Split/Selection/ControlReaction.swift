import Foundation

/// How an action-chunk task is scored and priced: the control loop's mean reaction time on a
/// scenario (from a target's appearance to the first executed action observed after it, the
/// latency a robot task is judged by), given how many control periods each chunk takes to come
/// back. The planner prior of the control strategies reads it from a table made on the
/// simulated clock with the scripted expert as the policy at constant delays; the evaluation
/// harness measures it with the real policy service setting each chunk's delay.
public enum ControlReaction {
    /// The control period (30 Hz, as the robot benchmarks run).
    public static let periodSeconds = 1.0 / 30

    /// The settings every control strategy runs with (the robot benchmarks' defaults).
    public static func settings(_ mode: ControlMode) -> ControlSettings { ControlSettings(mode: mode) }

    /// The periods after which a loop that polls once per period sees a chunk that took
    /// `seconds`: the first period start after the answer (at least the next period).
    public static func delaySteps(seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 1 }
        return max(1, Int(min(1e6, (seconds / periodSeconds).rounded(.up))))
    }

    /// The scenario of a control workload by name: "course" (the fixed 12 waypoints, each shown
    /// when the last is reached) or "tracking" (the drifting, jumping target of seed 1).
    /// - Throws: `SelectionError.invalidFeatures` for another name.
    public static func scenario(named name: String) throws(SelectionError) -> TargetScenario {
        switch name {
        case "course": return .course()
        case "tracking": return .tracking(seed: 1)
        default: throw .invalidFeatures("no control scenario named '\(name)' (known: course, tracking)")
        }
    }

    /// The reaction time the prior expects on the course for `mode` when every chunk takes
    /// `delaySteps` periods: tabulated up to `tabulatedDelays`, extended linearly past it.
    public static func expectedSeconds(mode: ControlMode, delaySteps d: Int) -> Double {
        let row = table[mode] ?? []
        guard row.count >= 2 else { return Double(d) * periodSeconds }
        if d < row.count { return row[max(0, d)] }
        let slope = row[row.count - 1] - row[row.count - 2]
        return row[row.count - 1] + slope * Double(d - row.count + 1)
    }

    static let tabulatedDelays = 45

    /// Makes the table now (≈ 30 ms), so that no selection pays for it.
    public static func prepare() { _ = table.count }

    /// The mean reaction time of a run, seconds; a run that never executed a chunk (naive async
    /// when a chunk takes longer than its own horizon: every action is late on arrival) counts
    /// as never reacting, its whole length.
    public static func seconds(_ trace: ControlTrace) -> Double {
        guard trace.steps.contains(where: { $0.observedAtStep != nil }) else { return Double(max(1, trace.steps.count)) * periodSeconds }
        return ControlMetrics(trace: trace, periodSeconds: periodSeconds).meanReactionSteps * periodSeconds
    }

    /// Mean reaction seconds on the course per mode at delays 0…`tabulatedDelays` (about 150
    /// short simulated runs, made once on first use).
    private static let table: [ControlMode: [Double]] = Dictionary(uniqueKeysWithValues: ControlMode.allCases.map { mode in
        (mode, (0...tabulatedDelays).map { d in
            seconds(SimulatedControlRun.run(scenario: .course(), settings: settings(mode), policy: ScriptedExpert(),
                                            latency: LatencyModel(.constant(steps: d))))
        })
    })
}
