import Prometheus

/// The edge node's Prometheus metrics (`GET /metrics` on its HTTP port): requests by outcome,
/// tokens, failovers, degraded answers and the round-trip time to the cloud.
public final class EdgeMetrics: Sendable {
    /// Where every metric below is registered; `emitToString()` gives the exposition text.
    public let registry: PrometheusCollectorRegistry
    /// Requests by outcome: completed, failed, or refused because the queue was full.
    public let completed: Counter
    public let failed: Counter
    public let overloaded: Counter
    /// Generations stopped (`split_edge_cancelled_total`) because their client went away
    /// (`reason="client_gone"`) or a newer request on the same slot replaced them (`"superseded"`).
    public let cancelled: Counter
    public let superseded: Counter
    /// Completed requests answered by the edge's exit head alone, no cloud being left.
    public let degraded: Counter
    /// Prompt and generated tokens of finished requests.
    public let promptTokens: Counter
    public let generatedTokens: Counter
    /// Prompt tokens of finished requests continued from a kept session instead of computed
    /// (prompt reuse); the rest of `promptTokens` was computed.
    public let cachedPromptTokens: Counter
    /// Moves of a generation to the next cloud endpoint.
    public let failovers: Counter
    /// Requests being generated now, and waiting for a worker.
    public let active: Gauge
    public let queued: Gauge
    /// One forward request to the cloud until its result: network plus the cloud's work.
    public let roundTripSeconds: DurationHistogram
    /// Whole requests, from the worker picking them up to the last token.
    public let requestSeconds: DurationHistogram
    /// Re-plans because the measured link drifted; the split layer in force (L = local); the
    /// link's round trip and bandwidth the latest re-plan measured.
    public let replans: Counter
    public let planSplitLayer: Gauge
    public let linkRoundTripSeconds: Gauge
    public let linkBitsPerSecond: Gauge
    /// 1 for the instruction-set path the C kernels run (`split_edge_kernel_path{path="avx2"} 1`).
    public let kernelPath: Gauge

    /// Registers the metrics in `registry` (a fresh one by default).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let requests = MetricNameDescriptor.edge("requests", unit: "total", help: "Finished requests by outcome.")
        completed = registry.makeCounter(descriptor: requests, labels: [("outcome", "completed")])
        failed = registry.makeCounter(descriptor: requests, labels: [("outcome", "failed")])
        degraded = registry.makeCounter(descriptor: .edge("degraded_answers", unit: "total", help: "Completed requests answered by the edge alone (no cloud left)."))
        overloaded = registry.makeCounter(descriptor: requests, labels: [("outcome", "overloaded")])
        let cancellations = MetricNameDescriptor.edge("cancelled", unit: "total",
                                                      help: "Generations stopped: client gone, or superseded by a newer request on its slot.")
        cancelled = registry.makeCounter(descriptor: cancellations, labels: [("reason", CancellationReason.clientGone.rawValue)])
        superseded = registry.makeCounter(descriptor: cancellations, labels: [("reason", CancellationReason.superseded.rawValue)])
        promptTokens = registry.makeCounter(descriptor: .edge("prompt_tokens", unit: "total", help: "Prompt tokens of finished requests."))
        cachedPromptTokens = registry.makeCounter(
            descriptor: .edge("cached_prompt_tokens", unit: "total", help: "Prompt tokens continued from a kept session instead of computed."))
        generatedTokens = registry.makeCounter(descriptor: .edge("generated_tokens", unit: "total", help: "Tokens generated for finished requests."))
        failovers = registry.makeCounter(descriptor: .edge("failovers", unit: "total", help: "Generations moved to the next cloud endpoint."))
        active = registry.makeGauge(descriptor: .edge("active_requests", unit: "", help: "Requests being generated."))
        queued = registry.makeGauge(descriptor: .edge("queued_requests", unit: "", help: "Requests waiting for a worker."))
        roundTripSeconds = registry.makeDurationHistogram(
            descriptor: .edge("cloud_round_trip", unit: "seconds", help: "Forward request to result, network and cloud compute together."),
            buckets: [.microseconds(250), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
                      .milliseconds(40), .milliseconds(80), .milliseconds(160), .milliseconds(320), .seconds(1), .seconds(5)])
        requestSeconds = registry.makeDurationHistogram(
            descriptor: .edge("request", unit: "seconds", help: "Whole requests, first worker step to last token."),
            buckets: [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                      .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(120)])
        replans = registry.makeCounter(descriptor: .edge("replans", unit: "total", help: "Re-plans of the split because the measured link drifted."))
        planSplitLayer = registry.makeGauge(descriptor: .edge("plan_split_layer", unit: "", help: "Split layer new sessions use (the layer count = local)."))
        linkRoundTripSeconds = registry.makeGauge(descriptor: .edge("link_round_trip", unit: "seconds", help: "Round trip to the cloud the latest re-plan measured."))
        linkBitsPerSecond = registry.makeGauge(descriptor: .edge("link_bandwidth", unit: "bits_per_second", help: "Bandwidth to the cloud the latest re-plan assumed."))
        kernelPath = registry.makeGauge(descriptor: .edge("kernel_path", unit: "", help: "1 for the instruction-set path the kernels run."),
                                        labels: [("path", KernelPath.current.name)])
        kernelPath.set(to: 1.0)
    }
}
