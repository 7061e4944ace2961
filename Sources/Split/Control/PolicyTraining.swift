/// What a robot policy file says it was trained on: GGUF `split.policy.robot` as
/// tools/train/train_policy.py writes it ("point-mass dt=… tau=… vmax=…"; the arm policy adds
/// " amax=… demo-pace=… next-waypoint").
public struct PolicyTraining: Sendable, Equatable {
    /// The GGUF metadata key.
    public static let metadataKey = "split.policy.robot"
    /// The metadata's text; nil for a file without the key.
    public let robot: String?

    /// The training record of a policy with `configuration`.
    public init(_ configuration: ModelConfiguration) { robot = configuration.policyRobot }

    /// The record `robot` (the metadata's text, nil for none).
    public init(robot: String?) { self.robot = robot }

    private var words: [Substring] { robot?.split(separator: " ") ?? [] }

    /// Whether token features 2–3 held the waypoint after the target in training. The older
    /// policies saw zeros there; a file without the key counts as not trained with it.
    public var sawNextWaypoint: Bool { words.contains("next-waypoint") }

    /// The demonstrations' acceleration limit (`amax=`, the arm); nil for the unlimited point mass.
    public var accelerationLimit: Double? {
        words.first { $0.hasPrefix("amax=") }.flatMap { Double($0.dropFirst("amax=".count)) }
    }
}
