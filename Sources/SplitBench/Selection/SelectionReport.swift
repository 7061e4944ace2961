import Foundation
import Split

/// The figures of a selection evaluation: per grouping (and over all held-out tasks) and per
/// method, mean latency against the oracle and the single best strategy, the gap closed, top-1
/// accuracy; and the learning curve over history sizes.
public struct SelectionReport: Sendable, Codable {
    /// One method's figures over a set of held-out tasks.
    public struct Row: Sendable, Codable {
        public var grouping: String
        public var method: String
        public var tasks: Int
        public var meanSeconds: Double
        /// Mean latency over the oracle's mean latency (1 = oracle).
        public var ratioToOracle: Double
        /// Geometric mean of the per-task latency ratios to the oracle.
        public var geometricMeanRatio: Double
        /// (single best − method) / (single best − oracle), on mean latency.
        public var gapClosed: Double
        /// Share of tasks where the method chose the oracle's strategy.
        public var top1: Double
        /// Share of tasks where it chose the oracle's or one whose runs overlap the oracle's.
        public var top1OrTied: Double
        /// Share of tasks where the choice measured within 5 % of the oracle.
        public var within5Percent: Double
        /// Choices whose measured agreement missed the requirement.
        public var violations: Int
        public var meanOverheadMicroseconds: Double
    }

    /// The meta-learner and kNN at one training-history size.
    public struct CurvePoint: Sendable, Codable {
        public var historyRecords: Int
        public var method: String
        public var ratioToOracle: Double
        public var gapClosed: Double
        public var top1: Double
    }

    public var rows: [Row]
    /// Per grouping, the share of held-out tasks whose single best strategy is the oracle.
    public var singleBestIsOracle: [String: Double]
    public var curve: [CurvePoint]
    public var loadAverages: [Double]
    /// `SelectionEvaluation.labelRetest()`: tasks and the share whose oracle two halves of the
    /// runs agree on.
    public var labelRetestTasks: Int?
    public var labelRetestAgreement: Double?
    /// The retest per task kind, when the matrix has both.
    public var labelRetestByKind: [String: Double]?

    /// Summarizes outcomes per grouping and over all of them; with both task kinds, also per
    /// kind ("all/action-chunk", "network/completion", …).
    public static func rows(_ outcomes: [SelectionEvaluation.Outcome]) -> [Row] {
        let groupings = [nil] + SelectionEvaluation.Grouping.allCases.map(Optional.some)
        let kinds = TaskKind.allCases.filter { kind in outcomes.contains { $0.kind == kind } }
        var rows: [Row] = []
        for kind in [nil] + (kinds.count > 1 ? kinds.map(Optional.some) : []) {
            for grouping in groupings {
                let selected = outcomes.filter { (grouping == nil || $0.grouping == grouping) && (kind == nil || $0.kind == kind) }
                let name = (grouping?.rawValue ?? "all") + (kind.map { "/\($0.rawValue)" } ?? "")
                for method in SelectionEvaluation.Method.allCases {
                    let mine = selected.filter { $0.method == method }
                    guard !mine.isEmpty else { continue }
                    rows.append(row(mine, grouping: name, method: method.rawValue))
                }
            }
        }
        return rows
    }

    static func row(_ outcomes: [SelectionEvaluation.Outcome], grouping: String, method: String) -> Row {
        let n = Double(outcomes.count)
        let mean = outcomes.reduce(0) { $0 + $1.seconds } / n
        let oracle = outcomes.reduce(0) { $0 + $1.oracleSeconds } / n
        let single = outcomes.reduce(0) { $0 + $1.singleBestSeconds } / n
        let logRatio = outcomes.reduce(0) { $0 + log($1.seconds / $1.oracleSeconds) } / n
        return Row(grouping: grouping, method: method, tasks: outcomes.count, meanSeconds: mean, ratioToOracle: mean / oracle,
                   geometricMeanRatio: exp(logRatio),
                   gapClosed: single > oracle ? (single - mean) / (single - oracle) : 1,
                   top1: outcomes.reduce(0) { $0 + $1.top1 } / n,
                   top1OrTied: outcomes.reduce(0) { $0 + $1.top1OrTied } / n,
                   within5Percent: Double(outcomes.filter { $0.seconds <= 1.05 * $0.oracleSeconds }.count) / n,
                   violations: outcomes.filter(\.violation).count,
                   meanOverheadMicroseconds: outcomes.reduce(0) { $0 + $1.overheadSeconds } / n * 1e6)
    }

    /// Runs the evaluation: the full comparison, then the learning curve of the meta-learner
    /// and kNN at each history size (mean over `seeds` subsamples).
    /// - Throws: selection errors.
    public static func make(_ evaluation: SelectionEvaluation, historySizes: [Int], seeds: Int,
                            progress: (String) -> Void = { _ in }) throws -> (report: SelectionReport, outcomes: [SelectionEvaluation.Outcome]) {
        progress("full history")
        let outcomes = try evaluation.run()
        var singleBestIsOracle: [String: Double] = [:]
        for grouping in SelectionEvaluation.Grouping.allCases {
            let mine = outcomes.filter { $0.grouping == grouping && $0.method == .singleBest }
            guard !mine.isEmpty else { continue }
            singleBestIsOracle[grouping.rawValue] = mine.reduce(0) { $0 + $1.top1 } / Double(mine.count)
        }
        var curve: [CurvePoint] = []
        for size in historySizes {
            progress("history of \(size) records")
            var perMethod: [String: [Row]] = [:]
            for seed in 0..<max(1, size == 0 ? 1 : seeds) {
                let sampled = try evaluation.run(methods: [.oracle, .singleBest, .knn, .meta], historyLimit: size, seed: UInt64(seed + 1))
                for method in [SelectionEvaluation.Method.knn, .meta] {
                    perMethod[method.rawValue, default: []].append(row(sampled.filter { $0.method == method }, grouping: "all",
                                                                       method: method.rawValue))
                }
            }
            for (method, rows) in perMethod.sorted(by: { $0.key < $1.key }) {
                let n = Double(rows.count)
                curve.append(CurvePoint(historyRecords: size, method: method,
                                        ratioToOracle: rows.reduce(0) { $0 + $1.ratioToOracle } / n,
                                        gapClosed: rows.reduce(0) { $0 + $1.gapClosed } / n,
                                        top1: rows.reduce(0) { $0 + $1.top1 } / n))
            }
        }
        let retest = evaluation.labelRetest()
        let kinds = Set(evaluation.tasks.map(\.features.kind))
        let byKind = kinds.count > 1
            ? Dictionary(uniqueKeysWithValues: kinds.compactMap { kind in evaluation.labelRetest(kind: kind).map { (kind.rawValue, $0.agreement) } })
            : nil
        let report = SelectionReport(rows: rows(outcomes), singleBestIsOracle: singleBestIsOracle, curve: curve,
                                     loadAverages: evaluation.matrix.cells.map(\.loadAverage), labelRetestTasks: retest?.tasks,
                                     labelRetestAgreement: retest?.agreement, labelRetestByKind: byKind)
        return (report, outcomes)
    }

    /// The report as Markdown tables.
    public var markdown: String {
        var text = "| held out | method | tasks | mean ms | / oracle | geo-mean / oracle | gap closed | top-1 | top-1 or tied | within 5% "
            + "| violations | overhead µs |\n"
        text += "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for row in rows {
            text += "| \(row.grouping) | \(row.method) | \(row.tasks) | \(String(format: "%.1f", row.meanSeconds * 1e3)) | "
                + "\(String(format: "%.3f", row.ratioToOracle)) | \(String(format: "%.3f", row.geometricMeanRatio)) | "
                + "\(String(format: "%.0f%%", row.gapClosed * 100)) | \(String(format: "%.3f", row.top1)) | "
                + "\(String(format: "%.3f", row.top1OrTied)) | "
                + "\(String(format: "%.3f", row.within5Percent)) | \(row.violations) | \(String(format: "%.0f", row.meanOverheadMicroseconds)) |\n"
        }
        text += "\nShare of held-out tasks whose single best strategy is the oracle: "
            + singleBestIsOracle.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", ") + "\n"
        if let tasks = labelRetestTasks, let agreement = labelRetestAgreement {
            text += "\nOracle label retest (first half of each cell's runs against the rest): the same strategy on "
                + "\(String(format: "%.3f", agreement)) of \(tasks) tasks"
                + (labelRetestByKind.map { " (" + $0.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }
                    .joined(separator: ", ") + ")" } ?? "") + "\n"
        }
        text += "\n| history records | method | / oracle | gap closed | top-1 |\n|---|---|---|---|---|\n"
        for point in curve {
            text += "| \(point.historyRecords) | \(point.method) | \(String(format: "%.3f", point.ratioToOracle)) | "
                + "\(String(format: "%.0f%%", point.gapClosed * 100)) | \(String(format: "%.3f", point.top1)) |\n"
        }
        return text
    }
}
