import Foundation

/// Measuring a calibration, kept apart from the type itself: it runs `ExitBenchmark` over a
/// loopback cloud (and so needs the serving stack), while parsing a strategy needs only the
/// stored values (the fuzz build compiles the client API without the serving stack).
extension ExitCalibration {
    /// Measures every τ and γ at split layer `k` on `cases` (through the trained exit heads at
    /// `exitHeadsPath` when given) and picks τ by `criterion` (the
    /// highest τ tried when none qualifies) and the γ with the shortest estimated completion at
    /// `roundTripMilliseconds`.
    /// - Throws: model or socket errors.
    public static func run(modelPath: String, cases: [LineCompletionSet.Case], splitLayer k: Int, thresholds: [Float],
                           draftLengths: [Int], criterion: Criterion, roundTripMilliseconds: Double,
                           maxTokens: Int = 32, useController: Bool = true, exitHeadsPath: String? = nil) throws -> ExitCalibration {
        let exits = thresholds.sorted().map { Strategy.splitExit(layer: k, threshold: $0, minExitLayer: nil, encoding: .f32) }
        let specs = draftLengths.sorted().map { Strategy.splitSpec(layer: k, draftLength: $0, adaptive: false, encoding: .f32) }
        var benchmark = ExitBenchmark(modelPath: modelPath, cases: cases, maxTokens: maxTokens, roundTripMilliseconds: [0],
                                      bandwidthBitsPerSecond: nil, strategies: exits + specs, useController: useController,
                                      exitHeadsPath: exitHeadsPath)
        // Trained heads replace the shared head: τ and γ are chosen for what the edge will run.
        benchmark.measuresSharedHead = false
        let all = try benchmark.run()
        let full = all[0], rows = all.dropFirst()  // the first row is the full model itself
        func candidate(_ row: ExitBenchmark.Row, _ value: Double) -> Candidate {
            let roundTrips = row.roundTripsPerToken * Double(row.tokens) / Double(max(1, row.completions))
            return Candidate(value: value, tokenAgreement: row.tokenAgreement, agreement: row.agreement,
                             edgeAnsweredFraction: row.edgeAnsweredFraction, roundTripsPerToken: row.roundTripsPerToken,
                             acceptanceRate: row.acceptanceRate, lineExactMatch: row.lineExactMatch,
                             lineEditSimilarity: row.lineEditSimilarity,
                             estimatedCompletionSeconds: row.meanCompletionSeconds + roundTrips * roundTripMilliseconds / 1000)
        }
        let exitRows = zip(thresholds.sorted(), rows.prefix(exits.count)).map { candidate($1, Double($0)) }
        let specRows = zip(draftLengths.sorted(), rows.dropFirst(exits.count)).map { candidate($1, Double($0)) }
        let tau = chooseThreshold(exitRows, criterion: criterion, fullLineExactMatch: full.lineExactMatch,
                                  fullLineEditSimilarity: full.lineEditSimilarity) ?? Double(thresholds.max() ?? 1)
        var agreementTarget = 0.0, name = "line-match", tolerances: (Double, Double)?
        switch criterion {
        case .agreement(let target): (agreementTarget, name) = (target, "agreement")
        case .lineMatch(let exactMatch, let editSimilarity): tolerances = (exactMatch, editSimilarity)
        }
        let gamma = specRows.min { $0.estimatedCompletionSeconds < $1.estimatedCompletionSeconds }?.value ?? 4
        return ExitCalibration(splitLayer: k, threshold: Float(tau), draftLength: Int(gamma), agreementTarget: agreementTarget,
                               criterion: name, exactMatchTolerance: tolerances?.0, editSimilarityTolerance: tolerances?.1,
                               fullLineExactMatch: full.lineExactMatch, fullLineEditSimilarity: full.lineEditSimilarity,
                               cases: cases.count, roundTripMilliseconds: roundTripMilliseconds, thresholds: exitRows,
                               draftLengths: specRows, exitHeads: exitHeadsPath.map { ($0 as NSString).lastPathComponent })
    }
}
