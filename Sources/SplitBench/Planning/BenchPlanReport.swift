import Foundation
import Split

/// Everything `split-bench plan` measured, as JSON for the plot and as Markdown tables.
public struct BenchPlanReport: Sendable, Codable {
    /// One model's results.
    public struct ModelResult: Sendable, Codable {
        public var model: String
        public var shape: String
        public var layerCount: Int
        public var networks: [PlanBenchmark.NetworkResult]
        public var layerErrors: [PlanBenchmark.LayerError]

        /// Makes a result.
        public init(model: String, shape: String, layerCount: Int, networks: [PlanBenchmark.NetworkResult],
                    layerErrors: [PlanBenchmark.LayerError]) {
            self.model = model
            self.shape = shape
            self.layerCount = layerCount
            self.networks = networks
            self.layerErrors = layerErrors
        }
    }

    public var device: String
    public var models: [ModelResult] = []
    public var agreement: [ActivationAgreement.Row]?
    public var agreementModel: String?
    public var agreementTexts: Int?

    /// An empty report for `device`.
    public init(device: String) {
        self.device = device
    }

    /// Predicted against measured per network, then the per-layer profile check.
    public static func text(shape: ModelShape, results: [PlanBenchmark.NetworkResult], errors: [PlanBenchmark.LayerError],
                            device: DeviceProfile) -> String {
        func ms(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1e3) }
        func percent(_ value: Double) -> String { String(format: "%+.0f%%", value * 100) }
        var lines = ["## \(shape.name) (\(shape.signature)), edge = cloud = \(device.name)", ""]
        for result in results {
            lines.append("### \(result.network): RTT \(result.roundTripMilliseconds) ms, \(result.uplinkMegabitsPerSecond) Mbit/s")
            lines.append("")
            lines.append("| k | encoding | predicted ms/token | measured ms/token | error | predicted TTFT ms | measured TTFT ms | bytes sent/token |")
            lines.append("|---|---|---|---|---|---|---|---|")
            for row in result.rows {
                lines.append("| \(row.splitLayer)\(row.planned ? " (plan)" : "") | \(row.encoding ?? "local") | \(ms(row.predictedDecodeSeconds)) | "
                    + "\(ms(row.measuredDecodeSeconds)) | \(percent(row.decodeError)) | \(ms(row.predictedFirstTokenSeconds)) | "
                    + "\(ms(row.measuredFirstTokenSeconds)) | \(String(format: "%.0f", row.bytesSentPerToken)) |")
            }
            lines.append("")
            lines.append("planner: \(result.planned) measured \(ms(result.plannedMeasuredDecodeSeconds)) ms/token; best measured: "
                + "\(result.bestMeasured) \(ms(result.bestMeasuredDecodeSeconds)) ms/token; within 10%: \(result.plannedWithinTenPercent ? "yes" : "NO")")
            lines.append("")
        }
        if !errors.isEmpty {
            lines.append("### \(device.name): measured per-layer times against the roofline from its own kernel figures")
            lines.append("")
            lines.append("| layer | prefill measured ms | prefill predicted ms | error | decode measured ms | decode predicted ms | error |")
            lines.append("|---|---|---|---|---|---|---|")
            let picked = Array(Set([0, 1, errors.count / 2, errors.count - 1])).sorted().filter { errors.indices.contains($0) }
            func row(_ label: String, _ mp: Double, _ pp: Double, _ md: Double, _ pd: Double) -> String {
                "| \(label) | \(String(format: "%.3f", mp * 1e3)) | \(String(format: "%.3f", pp * 1e3)) | \(percent((pp - mp) / mp)) | "
                    + "\(String(format: "%.4f", md * 1e3)) | \(String(format: "%.4f", pd * 1e3)) | \(percent((pd - md) / md)) |"
            }
            for index in picked {
                let e = errors[index]
                lines.append(row("\(e.layer)", e.measuredPrefillSeconds, e.predictedPrefillSeconds, e.measuredDecodeSeconds, e.predictedDecodeSeconds))
            }
            lines.append(row("all \(errors.count)", errors.map(\.measuredPrefillSeconds).reduce(0, +),
                             errors.map(\.predictedPrefillSeconds).reduce(0, +), errors.map(\.measuredDecodeSeconds).reduce(0, +),
                             errors.map(\.predictedDecodeSeconds).reduce(0, +)))
            let meanAbsolute = errors.map { abs($0.predictedDecodeSeconds - $0.measuredDecodeSeconds) / $0.measuredDecodeSeconds }
                .reduce(0, +) / Double(errors.count)
            lines.append("")
            lines.append(String(format: "mean |error| of the per-layer decode prediction: %.0f%%", meanAbsolute * 100))
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// The encoding agreement table.
    public static func agreementText(_ rows: [ActivationAgreement.Row], model: String, texts: Int) -> String {
        var lines = ["## Activation encodings on \(model): greedy next-token agreement with f32 transfer (\(texts) held-out files)", "",
                     "| k | encoding | payload bytes/token | request bytes/token | positions | agree with f32 | max abs error |",
                     "|---|---|---|---|---|---|---|"]
        for row in rows {
            lines.append("| \(row.splitLayer) | \(row.encoding) | \(row.payloadBytesPerToken) | \(row.requestBytesPerToken) | \(row.positions) | "
                + String(format: "%.2f%% (%d)", row.agreement * 100, row.agreeing) + " | " + String(format: "%.4f", row.maxAbsoluteError) + " |")
        }
        return lines.joined(separator: "\n")
    }
}
