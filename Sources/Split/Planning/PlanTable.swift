import Foundation

/// Text rendering of a plan: the choice, then one Markdown table row per split layer.
public enum PlanTable {
    /// The plan as text; `calibrated` says whether edge and cloud times came from measured layers.
    public static func text(_ plan: SplitPlanner.Plan, calibrated: (edge: Bool, cloud: Bool) = (false, false)) -> String {
        func ms(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1e3) }
        func source(_ measured: Bool) -> String { measured ? "measured layer times" : "roofline" }
        let choice = plan.choice
        var lines = [
            "model \(plan.model), edge \(plan.edge) (\(source(calibrated.edge))), cloud \(plan.cloud) (\(source(calibrated.cloud))), network \(plan.network)",
            "edge memory limit \(megabytes(plan.memoryLimitBytes))",
            "plan: \(choice.strategy): \(ms(choice.decode.totalSeconds)) ms/token predicted, time to first token \(ms(choice.firstToken.totalSeconds)) ms",
            "",
            "| k | encoding | edge ms | transfer ms | cloud ms | ms/token | TTFT ms | bytes up/token | edge memory | fits |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in plan.rows {
            let e = row.estimate
            let mark = e.splitLayer == choice.splitLayer && e.encoding == choice.encoding ? " ←" : ""
            lines.append("| \(e.splitLayer)\(mark) | \(e.encoding ?? "local") | \(ms(e.decode.edgeSeconds)) | \(ms(e.decode.transferSeconds)) | "
                + "\(ms(e.decode.cloudSeconds)) | \(ms(e.decode.totalSeconds)) | \(ms(e.firstToken.totalSeconds)) | "
                + "\(e.uplinkBytesPerToken) | \(megabytes(e.edgeMemoryBytes)) | \(row.fits ? "yes" : "no") |")
        }
        return lines.joined(separator: "\n")
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
