import Foundation
import Split
import SplitBench
import SplitCLI

extension SelectCommand {
    /// Evaluates selection on held-out groups and prints (and writes) the report.
    func evaluate(_ matrix: SelectionMatrix, thisMachine: DeviceProfile, store: ProfileStore) throws {
        let calibration = try ExitCalibration.load(forModel: modelOptions.model)
        let evaluation = try SelectionEvaluation(matrix: matrix, thisMachine: thisMachine, cloud: thisMachine, calibration: calibration)
        let sizes = [0, 25, 50, 100, 200, 400, 800, 1600].filter { $0 < matrix.history().count } + [matrix.history().count]
        let (report, outcomes) = try SelectionReport.make(evaluation, historySizes: sizes, seeds: seeds) { what in
            FileHandle.standardError.write(Data("evaluating: \(what)\n".utf8))
        }
        print(report.markdown)
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            struct Document: Encodable {
                var report: SelectionReport
                var outcomes: [SelectionEvaluation.Outcome]
            }
            try encoder.encode(Document(report: report, outcomes: outcomes)).write(to: URL(fileURLWithPath: out))
        }
    }
}
