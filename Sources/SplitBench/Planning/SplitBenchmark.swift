import Foundation
import Split
import Logging

/// Measures the split end to end in one process: a cloud server on its own threads, optionally
/// behind the link emulator, and the edge's split generator, against local generation of the
/// same prompt. Real sockets, real CURVE, real model; only the network distance is emulated.
public struct SplitBenchmark: Sendable {
    public var modelPath: String
    public var promptTokens: Int
    public var decodeTokens: Int
    /// One-way delay and bandwidth of the emulated link; nil runs on plain loopback.
    public var link: LinkEmulatorConfiguration?

    public init(modelPath: String, promptTokens: Int = 64, decodeTokens: Int = 32, link: LinkEmulatorConfiguration? = nil) {
        self.modelPath = modelPath
        self.promptTokens = promptTokens
        self.decodeTokens = decodeTokens
        self.link = link
    }

    /// One measured configuration.
    public struct Row: Sendable, Codable {
        public var strategy: String
        public var tokensPerSecond: Double
        public var timeToFirstTokenSeconds: Double
        public var bytesSentPerToken: Double
        public var bytesReceivedPerToken: Double
        public var roundTripsPerToken: Double
        public var matchesLocal: Bool
    }

    /// Heartbeat round trips over the same path (median and 99th percentile, seconds).
    public struct RoundTrip: Sendable, Codable {
        public var medianSeconds: Double
        public var p99Seconds: Double
        public var samples: Int
    }

    /// Runs local generation, then split(k, encoding) for each combination; returns the rows
    /// and the transport round trip.
    /// - Throws: model, key or transport errors.
    public func run(splitLayers: [Int], encodings: [ActivationEncoding], pingSamples: Int = 200) throws -> (rows: [Row], roundTrip: RoundTrip) {
        let file = try ModelFile(path: modelPath)
        guard let tokenizer = file.tokenizer else { throw ModelError.missingMetadata("tokenizer") }
        let model = try file.load()
        let c = model.configuration
        let text = Self.prompt(tokenizer: tokenizer, promptTokens: promptTokens, fitting: c.maxPositions - decodeTokens - 1)
        let request = CompletionRequest(prompt: text, maxTokens: decodeTokens)

        let local = try LocalGenerator(model: model, tokenizer: tokenizer)
        _ = try local.generate(request)  // warm-up: page in the mapping
        let localStart = DispatchTime.now()
        let localResult = try local.generate(request)
        let localSeconds = LocalGenerator.seconds(since: localStart)
        var rows = [Row(strategy: "local", tokensPerSecond: Double(localResult.tokens.count) / localSeconds,
                        timeToFirstTokenSeconds: localResult.prefillSeconds, bytesSentPerToken: 0,
                        bytesReceivedPerToken: 0, roundTripsPerToken: 0, matchesLocal: true)]

        var silent = Logger(label: "split.bench")
        silent.logLevel = .critical
        let cloud = try LoopbackCloud(model: model, modelIdentity: try file.identity(), relay: link.map(EmulatedLink.init))
        defer { cloud.stop() }
        let linkConfiguration = cloud.link
        let context = try ZMQContext()

        let probe = try CloudConnection(context: context, endpoint: linkConfiguration.endpoints[0], configuration: linkConfiguration)
        _ = try probe.ping()
        var pings = try (0..<pingSamples).map { _ in try probe.ping() }
        probe.close()
        pings.sort()
        let roundTrip = RoundTrip(medianSeconds: pings[pings.count / 2],
                                  p99Seconds: pings[min(pings.count - 1, pings.count * 99 / 100)], samples: pings.count)

        for k in splitLayers {
            for encoding in encodings {
                let generator = try SplitGenerator(model: model, tokenizer: tokenizer, splitLayer: k, encoding: encoding,
                                                   modelIdentity: try file.identity(), link: linkConfiguration,
                                                   context: context, logger: silent)
                _ = try generator.generate(CompletionRequest(prompt: text, maxTokens: 2))
                let start = DispatchTime.now()
                let report = try generator.generate(request)
                let seconds = LocalGenerator.seconds(since: start)
                let n = Double(max(1, report.result.tokens.count))
                rows.append(Row(strategy: "split(k=\(k),\(encoding))", tokensPerSecond: n / seconds,
                                timeToFirstTokenSeconds: report.result.prefillSeconds,
                                bytesSentPerToken: Double(report.bytesSent) / n, bytesReceivedPerToken: Double(report.bytesReceived) / n,
                                roundTripsPerToken: Double(report.roundTrips) / n,
                                matchesLocal: report.result.tokens == localResult.tokens))
            }
        }
        return (rows, roundTrip)
    }

    /// A fixed prompt of real text tokens, repeated to `promptTokens` (at most `limit`), as text.
    static func prompt(tokenizer: BPETokenizer, promptTokens: Int, fitting limit: Int) -> String {
        let seed = tokenizer.encode("def add(a, b):\n    return a + b\n\nclass Stack:\n    def push(self, item):\n        self.items.append(item)\n")
        var prompt: [Int32] = []
        while prompt.count < promptTokens { prompt += seed.isEmpty ? [0] : seed }
        prompt = Array(prompt.prefix(max(1, min(promptTokens, limit))))
        return String(decoding: prompt.flatMap { tokenizer.tokenBytes($0) }, as: UTF8.self)
    }
}
