import Foundation
import Logging

/// Line completion on held-out files through every split strategy, side by side in one
/// process: a real cloud node (CURVE, sockets) behind a relay playing each round-trip time
/// (`makeRelay`: the harness's link emulator; 0 ms with no bandwidth cap is plain loopback), against the full model run locally. Measures speed (tokens/s, time per completion,
/// round trips per token), drafts accepted, tokens answered on the edge, and, for the
/// approximate split-exit, agreement with the full model and line exact match / edit similarity.
public struct ExitBenchmark: Sendable {
    public var modelPath: String
    public var cases: [LineCompletionSet.Case]
    public var maxTokens: Int
    /// One-way delays are half of each; bandwidth applies to both directions.
    public var roundTripMilliseconds: [Double]
    public var bandwidthBitsPerSecond: Double?
    public var strategies: [Strategy]
    /// Whether split-exit uses the model's trained controller (when it has one) or only thresholds.
    public var useController: Bool
    /// Trained exit heads (`edge-node train-exits`): each split-spec and split-exit strategy runs
    /// twice, with the shared head and then with these ("+heads"), side by side.
    public var exitHeadsPath: String?
    /// With exit heads: whether the shared head's rows are measured too (false: only "+heads").
    public var measuresSharedHead = true
    /// Further sidecars for the same model, measured side by side after `exitHeadsPath` (rows
    /// marked "+heads2", "+heads3", …): heads trained two ways compared in one run.
    public var comparedExitHeadsPaths: [String] = []
    /// Makes the relay that plays a round trip (milliseconds) and bandwidth; needed only for
    /// round trips above 0 or a bandwidth cap.
    public var makeRelay: (@Sendable (_ roundTripMilliseconds: Double, _ bandwidthBitsPerSecond: Double?) -> any LinkRelay)?

    public init(modelPath: String, cases: [LineCompletionSet.Case], maxTokens: Int, roundTripMilliseconds: [Double],
                bandwidthBitsPerSecond: Double?, strategies: [Strategy], useController: Bool = true, exitHeadsPath: String? = nil,
                makeRelay: (@Sendable (_ roundTripMilliseconds: Double, _ bandwidthBitsPerSecond: Double?) -> any LinkRelay)? = nil) {
        self.makeRelay = makeRelay
        self.useController = useController
        self.exitHeadsPath = exitHeadsPath
        self.modelPath = modelPath
        self.cases = cases
        self.maxTokens = maxTokens
        self.roundTripMilliseconds = roundTripMilliseconds
        self.bandwidthBitsPerSecond = bandwidthBitsPerSecond
        self.strategies = strategies
    }

    /// One strategy at one round-trip time, over every case.
    public struct Row: Sendable, Codable {
        public var roundTripMilliseconds: Double
        public var strategy: String
        public var completions: Int
        public var tokens: Int
        /// Generated tokens over the whole time of the completions (prompt round trip included).
        public var tokensPerSecond: Double
        /// Tokens after the first over the time after the first (what decoding alone sustains).
        public var decodeTokensPerSecond: Double
        public var meanCompletionSeconds: Double
        public var roundTripsPerToken: Double
        public var acceptanceRate: Double
        public var edgeAnsweredFraction: Double
        /// Completions identical to the full model's, and tokens equal position by position.
        public var agreement: Double
        public var tokenAgreement: Double
        public var lineExactMatch: Double
        public var lineEditSimilarity: Double
        /// Completions ended by the stop rule, the exact match of those, and the full model's own
        /// exact match on the same cases (what the stop rule gave up).
        public var controllerStops: Int
        public var controllerStopExactMatch: Double
        public var controllerStopFullExactMatch: Double
    }

    /// Runs local first (the reference), then each strategy at each round-trip time.
    /// - Parameter progress: called with each finished row.
    /// - Throws: model, socket or relay errors.
    public func run(progress: (Row) -> Void = { _ in }) throws -> [Row] {
        let file = try ModelFile(path: modelPath)
        guard let tokenizer = file.tokenizer else { throw ModelError.missingMetadata("tokenizer") }
        let model = try file.load()
        let identity = try file.identity()
        let controller = useController ? try ExitController.load(from: file) : nil
        let heads = try exitHeadsPath.flatMap { try ExitHeads.load(for: file, path: $0) }
        let compared = try comparedExitHeadsPaths.compactMap { try ExitHeads.load(for: file, path: $0) }
        let requests = cases.map { CompletionRequest(prompt: $0.prompt, maxTokens: maxTokens, stop: ["\n"]) }
        let local = try LocalGenerator(model: model, tokenizer: tokenizer)
        _ = try local.generate(requests[0])  // warm-up: page in the mapping
        var reference: [GenerationResult] = []
        let localStart = DispatchTime.now()
        for request in requests { reference.append(try local.generate(request)) }
        let localSeconds = LocalGenerator.seconds(since: localStart)
        var rows = [row(rtt: 0, strategy: "local (full model)", results: reference, reports: nil, seconds: localSeconds,
                        reference: reference)]
        progress(rows[0])

        var silent = Logger(label: "split.bench")
        silent.logLevel = .critical
        let context = try ZMQContext()
        for rtt in roundTripMilliseconds {
            // 0 ms with no bandwidth cap: plain loopback, no relay.
            var relay: (any LinkRelay)?
            if rtt > 0 || bandwidthBitsPerSecond != nil {
                guard let makeRelay else {
                    throw ModelError.invalidConfiguration("a \(rtt) ms round trip needs a link relay (split-bench exit)")
                }
                relay = makeRelay(rtt, bandwidthBitsPerSecond)
            }
            let cloud = try LoopbackCloud(model: model, modelIdentity: identity, relay: relay)
            defer { cloud.stop() }
            for strategy in strategies {
                guard let k = strategy.splitLayer, let encoding = strategy.encoding else { continue }
                let generator = try SplitGenerator(model: model, tokenizer: tokenizer, splitLayer: k, encoding: encoding,
                                                   modelIdentity: identity, link: cloud.link, context: context, logger: silent)
                // With trained heads, an exit strategy runs again with them (and their controller, if any).
                let trainedController = useController ? heads?.controller ?? controller : nil
                var variants: [(heads: ExitHeads?, controller: ExitController?, suffix: String)] = [(nil, controller, "")]
                if let heads, strategy.splitDecoding(controller: nil) != .plain {
                    if !measuresSharedHead { variants = [] }
                    variants.append((heads, trainedController, "+heads"))
                    for (index, other) in compared.enumerated() {
                        variants.append((other, useController ? other.controller ?? controller : nil, "+heads\(index + 2)"))
                    }
                }
                for variant in variants {
                    generator.exitHeads = variant.heads
                    let decoding = strategy.splitDecoding(controller: variant.controller)
                    _ = try generator.generate(CompletionRequest(prompt: cases[0].prompt, maxTokens: 2), decoding: decoding)
                    var reports: [SplitReport] = []
                    let start = DispatchTime.now()
                    for request in requests { reports.append(try generator.generate(request, decoding: decoding)) }
                    let seconds = LocalGenerator.seconds(since: start)
                    let usesController = variant.controller != nil && decoding != .plain && strategy.isExact == false
                    let name = strategy.description + (usesController ? "+controller" : "") + variant.suffix
                    let measured = row(rtt: rtt, strategy: name, results: reports.map(\.result), reports: reports,
                                       seconds: seconds, reference: reference)
                    rows.append(measured)
                    progress(measured)
                }
            }
        }
        return rows
    }

    private func row(rtt: Double, strategy: String, results: [GenerationResult], reports: [SplitReport]?, seconds: Double,
                     reference: [GenerationResult]) -> Row {
        let tokens = results.reduce(0) { $0 + $1.tokens.count }
        let decodeTokens = results.reduce(0) { $0 + max(0, $1.tokens.count - 1) }
        let decodeSeconds = results.reduce(0) { $0 + $1.decodeSeconds }
        var counts = ProvenanceCounts()
        for report in reports ?? [] { counts.add(report.counts) }
        var identical = 0, sameTokens = 0, comparedTokens = 0, exact = 0, stops = 0, stopExact = 0, stopFullExact = 0
        var similarity = 0.0
        for (i, result) in results.enumerated() {
            let want = reference[i].tokens
            if result.tokens == want { identical += 1 }
            comparedTokens += max(want.count, result.tokens.count)
            sameTokens += zip(want, result.tokens).prefix { $0 == $1 }.count
            let line = result.text.trimmingCharacters(in: .whitespaces)
            let target = cases[i].target.trimmingCharacters(in: .whitespaces)
            let isExact = line == target
            if isExact { exact += 1 }
            if result.finishReason == .controllerStop {
                stops += 1
                if isExact { stopExact += 1 }
                if reference[i].text.trimmingCharacters(in: .whitespaces) == target { stopFullExact += 1 }
            }
            similarity += LineCompletionSet.editSimilarity(line, target)
        }
        let n = Double(max(1, results.count))
        return Row(roundTripMilliseconds: rtt, strategy: strategy, completions: results.count, tokens: tokens,
                   tokensPerSecond: Double(tokens) / seconds,
                   decodeTokensPerSecond: decodeSeconds > 0 ? Double(decodeTokens) / decodeSeconds : 0,
                   meanCompletionSeconds: seconds / n, roundTripsPerToken: counts.roundTripsPerToken,
                   acceptanceRate: counts.acceptanceRate, edgeAnsweredFraction: counts.edgeAnsweredFraction,
                   agreement: Double(identical) / n,
                   tokenAgreement: comparedTokens > 0 ? Double(sameTokens) / Double(comparedTokens) : 1,
                   lineExactMatch: Double(exact) / n, lineEditSimilarity: similarity / n,
                   controllerStops: stops, controllerStopExactMatch: stops > 0 ? Double(stopExact) / Double(stops) : 0,
                   controllerStopFullExactMatch: stops > 0 ? Double(stopFullExact) / Double(stops) : 0)
    }

    /// Whether greedy split-spec at layer `k` gives the full model's tokens on every case, over
    /// plain loopback (exactness does not depend on the link). Returns (identical, total).
    /// - Throws: model or socket errors.
    public func exactness(splitLayer k: Int, draftLength: Int, exitHeads: ExitHeads? = nil) throws -> (identical: Int, total: Int, mismatches: [Int]) {
        let file = try ModelFile(path: modelPath)
        guard let tokenizer = file.tokenizer else { throw ModelError.missingMetadata("tokenizer") }
        let model = try file.load()
        let identity = try file.identity()
        let local = try LocalGenerator(model: model, tokenizer: tokenizer)
        let cloud = try LoopbackCloud(model: model, modelIdentity: identity, relay: nil)
        defer { cloud.stop() }
        var silent = Logger(label: "split.bench")
        silent.logLevel = .critical
        let generator = try SplitGenerator(model: model, tokenizer: tokenizer, splitLayer: k, encoding: .f32,
                                           modelIdentity: identity, link: cloud.link, context: try ZMQContext(), logger: silent)
        generator.exitHeads = exitHeads
        var mismatches: [Int] = []
        for (i, item) in cases.enumerated() {
            let request = CompletionRequest(prompt: item.prompt, maxTokens: maxTokens)
            let want = try local.generate(request).tokens
            let got = try generator.generate(request, decoding: .speculative(draftLength: draftLength, adaptive: false)).result.tokens
            if got != want { mismatches.append(i) }
        }
        return (cases.count - mismatches.count, cases.count, mismatches)
    }
}
