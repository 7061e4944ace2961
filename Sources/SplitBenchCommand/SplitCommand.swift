import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench split`: split(k) against local on a real socket, optionally over an emulated link.
struct SplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split", abstract: "Measure split generation against local, over loopback or an emulated link.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Split layers to measure (repeatable; default: 1/4, 1/2, 3/4 of the depth).")
    var splitLayer: [Int] = []

    @Option(name: .long, help: "Activation encodings (repeatable): f32, f16, int8-32, int8-64.")
    var encoding: [String] = ["f32", "f16", "int8-32"]

    @Option(name: .long, help: "Prompt tokens.")
    var promptTokens: Int = 64

    @Option(name: .long, help: "Tokens to generate.")
    var decodeTokens: Int = 32

    @Option(name: .long, help: "Emulated round-trip time in milliseconds (0 = plain loopback).")
    var rttMs: Double = 0

    @Option(name: .long, help: "Emulated bandwidth each way in Mbit/s (0 = unlimited).")
    var bandwidthMbit: Double = 0

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let file = try modelOptions.open()
        let depth = file.configuration.layerCount
        let layers = splitLayer.isEmpty ? Array(Set([depth / 4, depth / 2, 3 * depth / 4])).sorted() : splitLayer
        let encodings = try encoding.map { name -> ActivationEncoding in
            guard let e = ActivationEncoding(name: name) else { throw ValidationError("unknown encoding \(name)") }
            return e
        }
        var link: LinkEmulatorConfiguration?
        if rttMs > 0 || bandwidthMbit > 0 {
            link = LinkEmulatorConfiguration(targetPort: 0, oneWayDelaySeconds: rttMs / 2000,
                                             bandwidthBitsPerSecond: bandwidthMbit > 0 ? bandwidthMbit * 1e6 : nil)
        }
        let benchmark = SplitBenchmark(modelPath: modelOptions.model, promptTokens: promptTokens, decodeTokens: decodeTokens, link: link)
        let (rows, roundTrip) = try benchmark.run(splitLayers: layers, encodings: encodings)
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(["rows": rows]), as: UTF8.self))
            print(String(decoding: try encoder.encode(roundTrip), as: UTF8.self))
            return
        }
        let linkText = link == nil ? "loopback" : String(format: "emulated RTT %.0f ms, %.0f Mbit/s", rttMs, bandwidthMbit)
        print("model \(modelOptions.model), \(linkText), prompt \(promptTokens), decode \(decodeTokens)")
        print(String(format: "heartbeat round trip: median %.3f ms, p99 %.3f ms (%d samples)",
                     roundTrip.medianSeconds * 1e3, roundTrip.p99Seconds * 1e3, roundTrip.samples))
        print("| strategy | tokens/s | TTFT ms | bytes sent/token | bytes recv/token | round trips/token | same tokens as local |")
        print("|---|---|---|---|---|---|---|")
        for row in rows {
            print(String(format: "| %@ | %.1f | %.1f | %.0f | %.0f | %.2f | %@ |", row.strategy, row.tokensPerSecond,
                         row.timeToFirstTokenSeconds * 1e3, row.bytesSentPerToken, row.bytesReceivedPerToken,
                         row.roundTripsPerToken, row.matchesLocal ? "yes" : "no"))
        }
    }
}
