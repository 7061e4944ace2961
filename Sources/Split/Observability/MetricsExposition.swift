/// Reading the Prometheus text format back: benchmarks and tests that check what the daemons'
/// `/metrics` says.
public enum MetricsExposition {
    /// The value of the sample whose name and labels are exactly `series` (e.g.
    /// `split_edge_requests_total{outcome="completed"}`) in `text`, or nil when it is absent.
    public static func value(of series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
