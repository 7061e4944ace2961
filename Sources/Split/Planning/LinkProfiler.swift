import Foundation

/// Measures the link to a cloud node for a network profile: heartbeat round trips (median and
/// jitter), and uplink throughput by timing large forward requests the cloud refuses as soon as
/// it has received them (no hello was sent, so no model work is done).
public struct LinkProfiler: Sendable {
    public var endpoint: CloudEndpoint
    public var link: EdgeLinkConfiguration
    /// Heartbeat round trips measured.
    public var pingSamples: Int
    /// Bytes of each throughput probe.
    public var probeBytes: Int
    /// Throughput probes sent.
    public var probes: Int
    /// Told the fraction done and what is being measured.
    public var progress: @Sendable (Double, String) -> Void

    /// What was measured.
    public struct Measurement: Sendable, Equatable, Codable {
        public var roundTripSeconds: Double
        /// Half the spread between the 90th and 10th percentile round trips.
        public var jitterSeconds: Double
        public var uplinkBitsPerSecond: Double
        public var pingSamples: Int
        public var probes: Int
    }

    /// A profiler for one endpoint.
    public init(endpoint: CloudEndpoint, link: EdgeLinkConfiguration, pingSamples: Int = 50, probeBytes: Int = 2 << 20,
                probes: Int = 3, progress: @escaping @Sendable (Double, String) -> Void = { _, _ in }) {
        self.endpoint = endpoint
        self.link = link
        self.pingSamples = max(3, pingSamples)
        self.probeBytes = max(4096, probeBytes)
        self.probes = max(1, probes)
        self.progress = progress
    }

    /// Measures the link.
    /// - Throws: `LinkError.peerDead` when the cloud does not answer, other `LinkError`s.
    public func measure() throws -> Measurement {
        let context = try ZMQContext()
        let connection = try CloudConnection(context: context, endpoint: endpoint, configuration: link)
        defer { connection.close() }
        _ = try connection.ping()
        var pings: [Double] = []
        for index in 0..<pingSamples {
            progress(0.5 * Double(index) / Double(pingSamples), "round trip \(index + 1)/\(pingSamples)")
            pings.append(try connection.ping())
        }
        pings.sort()
        let roundTrip = pings[pings.count / 2]
        let jitter = (pings[pings.count * 9 / 10] - pings[pings.count / 10]) / 2

        // 1024-wide f32 rows: the probe is as many rows as make probeBytes.
        let hiddenSize = 1024
        let rows = max(1, min(link.limits.maxRowsPerMessage, probeBytes / (hiddenSize * 4)))
        let activations = try EncodedActivations(encoding: .f32, rows: rows, hiddenSize: hiddenSize,
                                                 payload: [UInt8](repeating: 0, count: rows * hiddenSize * 4))
        var rates: [Double] = []
        for index in 0..<probes {
            progress(0.5 + 0.5 * Double(index) / Double(probes), "throughput probe \(index + 1)/\(probes)")
            let request = WireMessage.ForwardRequest(sessionID: 1, requestID: connection.makeRequestID(), startPosition: 0,
                                                     activations: activations)
            let sentBefore = connection.bytesSent
            let start = MonotonicClock.nanoseconds()
            do {
                _ = try connection.forward(.prefill(request))
            } catch LinkError.remote {
                // Expected: the cloud refuses a session it has no hello for, once it has it all.
            }
            let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
            let bytes = Double(connection.bytesSent - sentBefore)
            // The round trip is paid once whatever the size; what is left is serialisation.
            rates.append(bytes * 8 / max(seconds - roundTrip, seconds * 0.05))
        }
        progress(1, "done")
        return Measurement(roundTripSeconds: roundTrip, jitterSeconds: jitter, uplinkBitsPerSecond: SampleStatistics.median(rates),
                           pingSamples: pings.count, probes: rates.count)
    }

    /// A network profile from a measurement (the downlink is taken to equal the uplink: the
    /// protocol has no large reply to time).
    public static func networkProfile(name: String, endpoint: String, measurement m: Measurement) -> NetworkProfile {
        let command = DeviceProfiler.commandLine
        return NetworkProfile(
            name: name, description: "link to \(endpoint) as measured by edge-node profile --link",
            roundTripMilliseconds: ProfileFigure((m.roundTripSeconds * 1e6).rounded() / 1e3, source: command + " (median of \(m.pingSamples) heartbeats)"),
            jitterMilliseconds: ProfileFigure((m.jitterSeconds * 1e6).rounded() / 1e3, source: command + " (half the p10-p90 spread)"),
            uplinkMegabitsPerSecond: ProfileFigure((m.uplinkBitsPerSecond / 1e3).rounded() / 1e3, source: command + " (median of \(m.probes) large requests)"),
            downlinkMegabitsPerSecond: ProfileFigure((m.uplinkBitsPerSecond / 1e3).rounded() / 1e3,
                                                     source: "assumed equal to the measured uplink (no large reply exists to time)"))
    }
}
