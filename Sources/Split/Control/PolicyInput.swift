/// The policy's input tokens for a state and an observed target, exactly as
/// tools/train/robot_sim.py `policy_tokens` builds them for training:
///
///     state token:  [px, py, vx, vy, 0, 0, 1, 0]
///     target token: [gx − px, gy − py, nx − gx, ny − gy, gx, gy, 0, 1]
///
/// with n the next waypoint (n = g when there is none, as the first policies were trained).
public enum PolicyInput {
    /// Tokens per request.
    public static let tokenCount = 2
    /// Features per token.
    public static let tokenFeatures = 8

    /// The `[2 × 8]` input, row-major.
    public static func tokens(state: RobotState, target: Point2, next: Point2? = nil) -> [Float] {
        let p = state.position, v = state.velocity, onward = (next ?? target) - target
        return [p.x, p.y, v.x, v.y, 0, 0, 1, 0,
                target.x - p.x, target.y - p.y, onward.x, onward.y, target.x, target.y, 0, 1].map { Float($0) }
    }

    /// The commanded positions of a chunk from the action head's output: displacements
    /// `[horizon × 2]` from the state's position.
    /// - Throws: `ControlError.badChunk` when the output is not whole 2-D actions or not finite.
    public static func commands(from output: [Float], state: RobotState) throws -> [Point2] {
        guard !output.isEmpty, output.count % 2 == 0 else {
            throw ControlError.badChunk("the policy returned \(output.count) values, not a whole number of 2-D actions")
        }
        guard output.allSatisfy(\.isFinite) else { throw ControlError.badChunk("the policy returned a NaN or infinity") }
        return stride(from: 0, to: output.count, by: 2).map { i in
            state.position + Point2(Double(output[i]), Double(output[i + 1]))
        }
    }
}

/// Errors of the control client and the act API.
public enum ControlError: Error, Equatable, CustomStringConvertible {
    /// A policy answer that is not a usable chunk.
    case badChunk(String)
    /// A request that cannot be acted on (wrong state size, NaN, chunk length 0, …).
    case invalidRequest(String)
    /// The model is not a robot policy of the expected shape.
    case notAPolicy(String)
    /// An overlap that is not a whole number of steps, "adaptive" or "adaptive>=N".
    case invalidOverlap(String)
    /// A count of a chunk's actions to run that is not a positive whole number or "adaptive".
    case invalidActionSteps(String)

    public var description: String {
        switch self {
        case .badChunk(let message): return "bad action chunk: \(message)"
        case .invalidRequest(let message): return "invalid act request: \(message)"
        case .notAPolicy(let message): return "not a usable robot policy: \(message)"
        case .invalidOverlap(let text):
            return "overlap '\(text)' is not a number of steps (0 or more), 'adaptive' or 'adaptive>=N'"
        case .invalidActionSteps(let text):
            return "action steps '\(text)' is not a number of actions (1 or more) or 'adaptive'"
        }
    }
}
