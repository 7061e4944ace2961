import Prometheus

/// The cloud node's Prometheus metrics (`GET /metrics` on `cloud-node serve --http-port`):
/// traffic, compute, batch sizes, queue time, KV memory, evictions and rebuilds.
public final class CloudMetrics: Sendable {
    /// Where every metric below is registered; `emitToString()` gives the exposition text.
    public let registry: PrometheusCollectorRegistry
    /// Messages taken from the ROUTER socket (heartbeats included).
    public let received: Counter
    /// Messages refused for their content (undecodable, extra frames, unusable values).
    public let malformed: Counter
    /// Of those, frames past the message-size limit (up to the transport cap).
    public let oversized: Counter
    /// Connections the ZAP handler refused (key not allow-listed, or no CURVE).
    public let authenticationDenied: Counter
    /// Messages for a session (or on a connection) another authenticated client created.
    public let foreignSession: Counter
    /// Requests refused as replays (request id not after the session's last).
    public let replayed: Counter
    /// Requests refused because the compute queue was full.
    public let overloaded: Counter
    /// Replies sent back to edges.
    public let replies: Counter
    /// Forward passes of the tail layers, and the positions (rows) they computed.
    public let forwardPasses: Counter
    public let positions: Counter
    /// Rows per forward pass: how much work one pass over the weights did.
    public let batchRows: ValueHistogram
    /// From arrival on the socket to the start of compute.
    public let queueSeconds: DurationHistogram
    /// Compute time of one request (tail layers + head).
    public let computeSeconds: DurationHistogram
    /// KV bytes held, the most ever held at once, live sessions and connections with a hello.
    public let kvBytes: Gauge
    public let kvPeakBytes: Gauge
    public let sessions: Gauge
    public let connections: Gauge
    /// Requests waiting for compute now.
    public let queueDepth: Gauge
    /// Sessions evicted under the KV budget; replies asking an edge to rebuild a session.
    public let evictions: Counter
    public let rebuilds: Counter
    /// 1 for the instruction-set path the C kernels run (`split_cloud_kernel_path{path="avx2"} 1`).
    public let kernelPath: Gauge
    /// Seconds the compute thread spent in each phase of its loop (where a pass's time goes).
    public let phaseSeconds: [ComputePhase: Counter]

    /// The phases of the compute loop, each timed into `split_cloud_compute_phase_seconds_total`.
    public enum ComputePhase: String, CaseIterable, Sendable {
        /// Taking requests from the queue: decoding activations, checks, KV admission.
        case admit
        /// Waiting for the requests of sessions just answered, so that they share the next pass.
        case gather
        /// The tail layers over every row of the pass.
        case layers
        /// Final norm, LM head and sampling of the rows whose tokens are needed.
        case head
        /// Encoding the replies and handing them to the network thread.
        case reply

        /// The exposition series of this phase's counter.
        public var series: String { "split_cloud_compute_phase_seconds_total{phase=\"\(rawValue)\"}" }
    }

    /// Registers the metrics in `registry` (a fresh one by default).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        received = registry.makeCounter(descriptor: .cloud("messages_received", unit: "total", help: "Messages received from edges, heartbeats included."))
        malformed = registry.makeCounter(descriptor: .cloud("messages_malformed", unit: "total", help: "Messages refused for their content."))
        oversized = registry.makeCounter(descriptor: .cloud("messages_oversized", unit: "total", help: "Frames past the message-size limit."))
        authenticationDenied = registry.makeCounter(descriptor: .cloud("authentication_denied", unit: "total", help: "Connections refused by the ZAP handler."))
        foreignSession = registry.makeCounter(descriptor: .cloud("foreign_session_messages", unit: "total", help: "Messages for a session another client created."))
        replayed = registry.makeCounter(descriptor: .cloud("replayed_requests", unit: "total", help: "Requests refused as replays within a session."))
        overloaded = registry.makeCounter(descriptor: .cloud("requests_overloaded", unit: "total", help: "Requests refused because the compute queue was full."))
        replies = registry.makeCounter(descriptor: .cloud("replies", unit: "total", help: "Replies sent to edges."))
        forwardPasses = registry.makeCounter(descriptor: .cloud("forward_passes", unit: "total", help: "Forward passes of the tail layers."))
        positions = registry.makeCounter(descriptor: .cloud("positions", unit: "total", help: "Positions (rows) computed by the tail layers."))
        batchRows = registry.makeValueHistogram(descriptor: .cloud("batch_rows", unit: "", help: "Rows per forward pass."), buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
        let latencyBuckets: [Duration] = [.microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                          .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                          .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
        queueSeconds = registry.makeDurationHistogram(descriptor: .cloud("queue", unit: "seconds", help: "Time a request waited for compute."), buckets: latencyBuckets)
        computeSeconds = registry.makeDurationHistogram(descriptor: .cloud("compute", unit: "seconds", help: "Compute time of one request."), buckets: latencyBuckets)
        kvBytes = registry.makeGauge(descriptor: .cloud("kv", unit: "bytes", help: "KV-cache bytes held by all sessions."))
        kvPeakBytes = registry.makeGauge(descriptor: .cloud("kv_peak", unit: "bytes", help: "Most KV-cache bytes held at once since start."))
        sessions = registry.makeGauge(descriptor: .cloud("sessions", unit: "", help: "Live sessions."))
        connections = registry.makeGauge(descriptor: .cloud("connections", unit: "", help: "Edge connections with a hello on record."))
        queueDepth = registry.makeGauge(descriptor: .cloud("queue_depth", unit: "", help: "Requests waiting for compute."))
        evictions = registry.makeCounter(descriptor: .cloud("evictions", unit: "total", help: "Sessions evicted under the KV budget."))
        rebuilds = registry.makeCounter(descriptor: .cloud("rebuilds", unit: "total", help: "Replies asking an edge to rebuild a session."))
        kernelPath = registry.makeGauge(descriptor: .cloud("kernel_path", unit: "", help: "1 for the instruction-set path the kernels run."),
                                        labels: [("path", KernelPath.current.name)])
        kernelPath.set(to: 1.0)
        phaseSeconds = Dictionary(uniqueKeysWithValues: ComputePhase.allCases.map { phase in
            (phase, registry.makeCounter(descriptor: .cloud("compute_phase_seconds", unit: "total",
                                                            help: "Seconds the compute thread spent in each phase of its loop."),
                                         labels: [("phase", phase.rawValue)]))
        })
    }
}

extension MetricNameDescriptor {
    /// `split_cloud_<name>_<unit>`.
    static func cloud(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "split", subsystem: "cloud", metricName: name, unitName: unit, helpText: help)
    }

    /// `split_edge_<name>_<unit>`.
    static func edge(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "split", subsystem: "edge", metricName: name, unitName: unit, helpText: help)
    }
}
