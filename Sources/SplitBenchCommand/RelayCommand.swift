import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench relay`: the user-space link emulator as a process (this kernel has no netem), e.g.
/// between an edge and a cloud on loopback: `--listen-port 6555 --target-port 5555 --rtt-ms 40`.
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay", abstract: "Relay TCP with added delay, jitter and a bandwidth cap (link emulator).")

    @Option(name: .long, help: "Loopback port to listen on (0 = any; printed).")
    var listenPort: UInt16 = 0

    @Option(name: .long, help: "Host to forward to.")
    var targetHost: String = "127.0.0.1"

    @Option(name: .long, help: "Port to forward to.")
    var targetPort: UInt16

    @Option(name: .long, help: "Round-trip time to add, in milliseconds (half each way).")
    var rttMs: Double = 0

    @Option(name: .long, help: "Jitter of each one-way delay, in milliseconds.")
    var jitterMs: Double = 0

    @Option(name: .long, help: "Bandwidth cap each way, in Mbit/s (0 = none).")
    var bandwidthMbit: Double = 0

    @Option(name: .long, help: "Seed of the jitter.")
    var seed: UInt64 = 1

    func run() throws {
        var configuration = LinkEmulatorConfiguration(
            targetHost: targetHost, targetPort: targetPort, oneWayDelaySeconds: rttMs / 2000,
            jitterSeconds: jitterMs / 1000, bandwidthBitsPerSecond: bandwidthMbit > 0 ? bandwidthMbit * 1e6 : nil)
        configuration.listenPort = listenPort
        configuration.seed = seed
        let relay = LinkEmulator(configuration: configuration)
        let port = try relay.start()
        print("relaying 127.0.0.1:\(port) -> \(targetHost):\(targetPort), RTT +\(rttMs) ms, jitter \(jitterMs) ms, "
              + (bandwidthMbit > 0 ? "\(bandwidthMbit) Mbit/s" : "unlimited"))
        _ = ShutdownSignals.wait()
        relay.stop()
        let statistics = relay.statistics
        print("relayed \(statistics.bytesToTarget) bytes out, \(statistics.bytesToClient) bytes back, \(statistics.connections) connections")
    }
}
