import Foundation

/// The evaluation's task suite: every combination of an (emulated) edge device, a network
/// profile, a workload and a quality requirement. Devices are this machine slowed by a factor
/// (`DeviceSlowdown`); networks are played by the link emulator.
public struct SelectionSuite: Sendable, Codable, Equatable {
    /// An edge device: this machine's profile slowed `slowdown` times.
    public struct Device: Sendable, Codable, Equatable {
        public var name: String
        public var slowdown: Double
        public init(name: String, slowdown: Double) {
            self.name = name
            self.slowdown = slowdown
        }
    }

    /// A prompt length and a number of tokens to generate.
    public struct Workload: Sendable, Codable, Equatable {
        public var name: String
        public var promptTokens: Int
        public var outputTokens: Int
        public init(name: String, promptTokens: Int, outputTokens: Int) {
            self.name = name
            self.promptTokens = promptTokens
            self.outputTokens = outputTokens
        }
    }

    public var devices: [Device]
    public var networks: [NetworkProfile]
    public var workloads: [Workload]
    public var requirements: [QualityRequirement]

    public init(devices: [Device], networks: [NetworkProfile], workloads: [Workload], requirements: [QualityRequirement]) {
        self.devices = devices
        self.networks = networks
        self.workloads = workloads
        self.requirements = requirements
    }

    /// The suite of BENCHMARKS.md: three device speeds (×1, ×6, ×24), the ethernet-lan, wifi,
    /// 5g and lte profiles plus a constrained uplink (40 ms, 2 Mbit/s, where the encoding
    /// matters), four workloads with few generated tokens (the machine is shared), and three
    /// requirements (exact; 90 % agreement; 40 % agreement, e.g. inline suggestions).
    /// - Throws: `ProfileError` when a profile is missing from `store`.
    public static func standard(store: ProfileStore) throws -> SelectionSuite {
        let constrained = NetworkProfile(
            name: "constrained-uplink", description: "a congested uplink: 40 ms round trip, 2 Mbit/s (synthetic)",
            roundTripMilliseconds: ProfileFigure(40, source: "synthetic: chosen so the activation encoding matters"),
            jitterMilliseconds: ProfileFigure(4, source: "synthetic"),
            uplinkMegabitsPerSecond: ProfileFigure(2, source: "synthetic: a congested LTE uplink"),
            downlinkMegabitsPerSecond: ProfileFigure(10, source: "synthetic"))
        return SelectionSuite(
            devices: [Device(name: "edge-fast", slowdown: 1), Device(name: "edge-mid", slowdown: 6),
                      Device(name: "edge-slow", slowdown: 24)],
            networks: [try store.network("ethernet-lan"), try store.network("wifi"), try store.network("5g"),
                       try store.network("lte"), constrained],
            workloads: [Workload(name: "short", promptTokens: 16, outputTokens: 8),
                        Workload(name: "long-prompt", promptTokens: 128, outputTokens: 6),
                        Workload(name: "code-line", promptTokens: 64, outputTokens: 12),
                        Workload(name: "generate", promptTokens: 24, outputTokens: 20)],
            requirements: [.exact, .agreement(0.9), .agreement(0.4)])
    }
}
