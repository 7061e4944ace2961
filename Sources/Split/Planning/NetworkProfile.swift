/// What a link between edge and cloud does: round trip, jitter, bandwidth each way, loss.
///
/// Read from `profiles/networks/NAME.yaml`; every figure carries its source.
public struct NetworkProfile: Sendable, Equatable, Codable {
    /// Short identifier, also the file name (`lte`).
    public var name: String
    /// One line saying what the link is.
    public var description: String
    /// Median round-trip time, milliseconds.
    public var roundTripMilliseconds: ProfileFigure
    /// Typical variation of the one-way delay, milliseconds.
    public var jitterMilliseconds: ProfileFigure
    /// Edge-to-cloud throughput, Mbit/s.
    public var uplinkMegabitsPerSecond: ProfileFigure
    /// Cloud-to-edge throughput, Mbit/s.
    public var downlinkMegabitsPerSecond: ProfileFigure
    /// Packet loss, percent; none when absent.
    public var lossPercent: ProfileFigure?

    enum CodingKeys: String, CodingKey {
        case name, description
        case roundTripMilliseconds = "round_trip_ms"
        case jitterMilliseconds = "jitter_ms"
        case uplinkMegabitsPerSecond = "uplink_mbit_per_second"
        case downlinkMegabitsPerSecond = "downlink_mbit_per_second"
        case lossPercent = "loss_percent"
    }

    /// Makes a profile.
    public init(name: String, description: String, roundTripMilliseconds: ProfileFigure, jitterMilliseconds: ProfileFigure,
                uplinkMegabitsPerSecond: ProfileFigure, downlinkMegabitsPerSecond: ProfileFigure, lossPercent: ProfileFigure? = nil) {
        self.name = name
        self.description = description
        self.roundTripMilliseconds = roundTripMilliseconds
        self.jitterMilliseconds = jitterMilliseconds
        self.uplinkMegabitsPerSecond = uplinkMegabitsPerSecond
        self.downlinkMegabitsPerSecond = downlinkMegabitsPerSecond
        self.lossPercent = lossPercent
    }

    /// Round trip in seconds.
    public var roundTripSeconds: Double { roundTripMilliseconds.value / 1e3 }
    /// Jitter in seconds.
    public var jitterSeconds: Double { jitterMilliseconds.value / 1e3 }
    /// Uplink in bits per second.
    public var uplinkBitsPerSecond: Double { uplinkMegabitsPerSecond.value * 1e6 }
    /// Downlink in bits per second.
    public var downlinkBitsPerSecond: Double { downlinkMegabitsPerSecond.value * 1e6 }
    /// Loss as a probability per packet.
    public var lossRate: Double { (lossPercent?.value ?? 0) / 100 }

    /// Checks every figure; `path` names the file in the error.
    /// - Throws: `ProfileError.invalidField` for an empty name, a negative, zero bandwidth,
    ///   non-finite or source-less figure, or a loss of 100 % or more.
    public func validate(path: String) throws(ProfileError) {
        guard !name.isEmpty else { throw .invalidField(path: path, field: "name", reason: "is empty") }
        try roundTripMilliseconds.check(path: path, field: "round_trip_ms", positive: false)
        try jitterMilliseconds.check(path: path, field: "jitter_ms", positive: false)
        try uplinkMegabitsPerSecond.check(path: path, field: "uplink_mbit_per_second", positive: true)
        try downlinkMegabitsPerSecond.check(path: path, field: "downlink_mbit_per_second", positive: true)
        try lossPercent?.check(path: path, field: "loss_percent", positive: false, maximum: 99)
    }
}
