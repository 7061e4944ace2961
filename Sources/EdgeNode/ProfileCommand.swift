import ArgumentParser
import Foundation
import Split
import SplitCLI

/// `edge-node profile`: measures this machine (and optionally the link to a cloud) and writes
/// the device (and network) profile YAML the planner reads.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile", abstract: "Measure this machine (and a link to a cloud node) and write profiles for the planner.")

    @Option(name: .long, help: "Model whose per-layer prefill and decode times to measure (omit for kernels only).")
    var model: String?

    @Option(name: .long, help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Name of the device profile.")
    var name = "this-machine"

    @Option(name: .long, help: "Device profile to write; calibrations it already holds for other models are kept.")
    var out = "profiles/devices/this-machine.yaml"

    @Option(name: .long, help: "Prompt tokens of the per-layer prefill measurement.")
    var promptTokens = 64

    @Option(name: .long, help: "Measured passes over the layers (after one warm-up).")
    var repetitions = 3

    @Option(name: .long, help: "Cloud node endpoint to measure the link to (e.g. tcp://host:5555).")
    var link: String?

    @Option(name: .long, help: "The cloud's public key file (with --link).")
    var cloudKey: String?

    @Option(name: .long, help: "This edge's CURVE secret key file (with --link).")
    var key: String?

    @Flag(name: .long, help: "Measure the link without CURVE (tests only).")
    var insecure = false

    @Option(name: .long, help: "Network profile to write (with --link).")
    var networkOut = "profiles/networks/measured.yaml"

    @Option(name: .long, help: "Name of the network profile (with --link).")
    var networkName = "measured"

    @Option(name: .long, help: "Kilobytes of each throughput probe (with --link).")
    var probeKilobytes = 2048

    func validate() throws {
        if link != nil && !insecure && (cloudKey == nil || key == nil) {
            throw ValidationError("--link needs --cloud-key and --key (or --insecure)")
        }
        guard promptTokens > 0, repetitions > 0, probeKilobytes > 0 else {
            throw ValidationError("--prompt-tokens, --repetitions and --probe-kilobytes must be positive")
        }
    }

    func run() throws {
        if let threads { Parallel.setThreads(threads) }
        let bar = ProgressBar()
        var loaded: (TransformerModel, ModelShape)?
        if let model {
            let file = try ModelFile(path: model)
            let transformer = try file.load()
            loaded = (transformer, ModelShape(model: transformer, name: (model as NSString).lastPathComponent))
        }
        let previous = try? ProfileStore().device(out)
        let profiler = DeviceProfiler(promptTokens: promptTokens, repetitions: repetitions, progress: bar.update)
        let profile = try profiler.profile(name: name, model: loaded?.0, shape: loaded?.1, previous: previous)
        bar.finish()
        try write(try ProfileStore.yaml(profile), to: out)
        print(String(format: "sgemm %.1f GFLOP/s, GEMV %.2f GB/s, memcpy %.2f GB/s -> %@", profile.gemmGFLOPPerSecond.value,
                     profile.gemvBandwidthGBPerSecond?.value ?? 0, profile.memoryBandwidthGBPerSecond.value, out))
        if let loaded, let calibration = profile.calibration(for: loaded.1) {
            print(String(format: "%@: %d layers, decode %.3f ms/token (layers), prefill of %d tokens %.1f ms (layers)",
                         loaded.1.name, calibration.layerDecodeSeconds.count, calibration.layerDecodeSeconds.reduce(0, +) * 1e3,
                         calibration.promptTokens, calibration.layerPrefillSeconds.reduce(0, +) * 1e3))
        }
        if let link {
            let clientKeys = insecure ? nil : try key.map { try CurveKeyPair.read(secretFile: $0) }
            let serverKey = insecure ? nil : try cloudKey.map { try CurveKeyPair.readPublicKey(file: $0) }
            let endpoint = CloudEndpoint(address: link, serverKey: serverKey)
            let configuration = EdgeLinkConfiguration(endpoints: [endpoint], clientKeys: clientKeys, deadAfterSeconds: 10)
            let linkBar = ProgressBar()
            let measurement = try LinkProfiler(endpoint: endpoint, link: configuration, probeBytes: probeKilobytes << 10,
                                               progress: linkBar.update).measure()
            linkBar.finish()
            let network = LinkProfiler.networkProfile(name: networkName, endpoint: link, measurement: measurement)
            try write(try ProfileStore.yaml(network), to: networkOut)
            print(String(format: "link %@: round trip %.3f ms, jitter %.3f ms, uplink %.1f Mbit/s -> %@", link,
                         network.roundTripMilliseconds.value, network.jitterMilliseconds.value,
                         network.uplinkMegabitsPerSecond.value, networkOut))
        }
    }

    private func write(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
