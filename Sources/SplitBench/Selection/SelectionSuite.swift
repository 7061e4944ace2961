import Foundation
import Split

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

    /// How busy the cloud is while a task runs: `backgroundSessions` other tenants
    /// (`CloudBackgroundLoad`) decoding on it, on the networks named (every network when nil).
    public struct CloudLoad: Sendable, Codable, Equatable {
        public var name: String
        public var backgroundSessions: Int
        public var networks: [String]?
        public init(name: String, backgroundSessions: Int, networks: [String]? = nil) {
            self.name = name
            self.backgroundSessions = backgroundSessions
            self.networks = networks
        }

        /// A cloud serving no one else.
        public static let idle = CloudLoad(name: "idle", backgroundSessions: 0)

        /// Whether the suite measures this load over `network`.
        public func applies(to network: String) -> Bool { networks?.contains(network) ?? true }
    }

    public var devices: [Device]
    public var networks: [NetworkProfile]
    public var workloads: [Workload]
    public var requirements: [QualityRequirement]
    public var cloudLoads: [CloudLoad]
    /// Robot action-chunk tasks, measured on every device and network on an idle cloud: their
    /// workloads (a `ControlReaction` scenario by name; the prompt is the policy's input tokens,
    /// the output its chunk) and requirements (exact: sync only; agreement ≥ 0: async allowed).
    public var controlWorkloads: [Workload]
    public var controlRequirements: [QualityRequirement]

    public init(devices: [Device], networks: [NetworkProfile], workloads: [Workload], requirements: [QualityRequirement],
                cloudLoads: [CloudLoad] = [.idle], controlWorkloads: [Workload] = [], controlRequirements: [QualityRequirement] = []) {
        self.devices = devices
        self.networks = networks
        self.workloads = workloads
        self.requirements = requirements
        self.cloudLoads = cloudLoads
        self.controlWorkloads = controlWorkloads
        self.controlRequirements = controlRequirements
    }

    private enum CodingKeys: String, CodingKey {
        case devices, networks, workloads, requirements, cloudLoads, controlWorkloads, controlRequirements
    }

    /// Decodes a suite; one written before cloud loads were varied had an idle cloud throughout.
    /// - Throws: decoding errors.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        devices = try container.decode([Device].self, forKey: .devices)
        networks = try container.decode([NetworkProfile].self, forKey: .networks)
        workloads = try container.decode([Workload].self, forKey: .workloads)
        requirements = try container.decode([QualityRequirement].self, forKey: .requirements)
        cloudLoads = try container.decodeIfPresent([CloudLoad].self, forKey: .cloudLoads) ?? [.idle]
        controlWorkloads = try container.decodeIfPresent([Workload].self, forKey: .controlWorkloads) ?? []
        controlRequirements = try container.decodeIfPresent([QualityRequirement].self, forKey: .controlRequirements) ?? []
    }

    /// The requirements the tasks of a kind are evaluated under.
    public func requirements(for kind: TaskKind) -> [QualityRequirement] {
        kind == .actionChunk ? controlRequirements : requirements
    }

    /// The (cloud load, network) pairs the suite measures, loads outermost.
    public var loadedNetworks: [(load: CloudLoad, network: NetworkProfile)] {
        cloudLoads.flatMap { load in networks.filter { load.applies(to: $0.name) }.map { (load, $0) } }
    }

    /// The suite of BENCHMARKS.md: three device speeds (×1, ×6, ×24), the ethernet-lan, wifi,
    /// 5g and lte profiles plus a constrained uplink (40 ms, 2 Mbit/s, where the encoding
    /// matters), four workloads with few generated tokens (the machine is shared), and three
    /// requirements (exact; 90 % agreement; 40 % agreement, e.g. inline suggestions); the cloud
    /// idle, and over the two fast links (where the cloud is worth reaching) also busy with
    /// `busyCloudSessions` other tenants. With `controlHorizon` (the policy's chunk length), also
    /// robot action-chunk tasks: the fixed course on every device and network, exact (sync
    /// only) or with async allowed.
    /// - Throws: `ProfileError` when a profile is missing from `store`.
    public static func standard(store: ProfileStore, busyCloudSessions: Int = 8, controlHorizon: Int? = nil) throws -> SelectionSuite {
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
            requirements: [.exact, .agreement(0.9), .agreement(0.4)],
            cloudLoads: [.idle] + (busyCloudSessions > 0
                ? [CloudLoad(name: "busy", backgroundSessions: busyCloudSessions, networks: ["ethernet-lan", "wifi"])] : []),
            controlWorkloads: controlHorizon.map { [Workload(name: "course", promptTokens: PolicyInput.tokenCount, outputTokens: $0)] } ?? [],
            controlRequirements: controlHorizon == nil ? [] : [.exact, .agreement(0)])
    }
}
