import Testing
@testable import Split

@Suite("The strategy catalogue")
struct StrategyTests {
    @Test("every strategy's name reads back as itself", arguments: [
        Strategy.local, .cloud(encoding: .f16), .split(layer: 4, encoding: .int8Block32),
        .splitExit(layer: 3, threshold: 0.8, minExitLayer: nil, encoding: .f16),
        .splitExit(layer: 4, threshold: 0.95, minExitLayer: 2, encoding: .f32),
        .splitSpec(layer: 2, draftLength: 4, adaptive: false, encoding: .f32),
        .splitSpec(layer: 4, draftLength: 6, adaptive: true, encoding: .f16),
    ])
    func roundTrip(strategy: Strategy) throws {
        #expect(try Strategy.parse(strategy.description, default: "local") == strategy)
    }

    @Test("the issue's spellings and the old ones parse")
    func spellings() throws {
        #expect(try Strategy.parse("split-spec(k=2,gamma=4)", default: "local") == .splitSpec(layer: 2, draftLength: 4, adaptive: false, encoding: .f32))
        #expect(try Strategy.parse("split-exit(k=3,tau=0.8)", default: "local") == .splitExit(layer: 3, threshold: 0.8, minExitLayer: nil, encoding: .f16))
        #expect(try Strategy.parse("split", default: "split(k=4,f16)") == .split(layer: 4, encoding: .f16))
        #expect(try Strategy.parse("split(k=2)", default: "split(k=4,int8-32)") == .split(layer: 2, encoding: .int8Block32))
        #expect(try Strategy.parse(nil, default: "split(k=4,f32)") == .split(layer: 4, encoding: .f32))
        #expect(try Strategy.parse("split-spec", default: "split(k=4,f16)") == .splitSpec(layer: 4, draftLength: 4, adaptive: false, encoding: .f32))
        #expect(try Strategy.parse("cloud", default: "local") == .cloud(encoding: .f16))
        #expect(try Strategy.parse(" Local ", default: "split(k=4)") == .local)
        #expect(Strategy.splitExit(layer: 3, threshold: 0.8, minExitLayer: nil, encoding: .f16).isExact == false)
        #expect(Strategy.splitSpec(layer: 3, draftLength: 2, adaptive: false, encoding: .f16).isExact)
        #expect(Strategy.cloud(encoding: .f16).splitLayer == 0)
    }

    @Test("bad strategy strings are refused with a message naming the problem", arguments: [
        ("fast", "unknown strategy"), ("split(k=-1)", "not a layer number"), ("split-exit(k=3)", "threshold"),
        ("split-exit(k=3,tau=1.5)", "tau"), ("split-spec(k=2,gamma=0)", "gamma"), ("split-spec(k=2,gamma=99)", "gamma"),
        ("split-spec(k=0)", "k ≥ 1"), ("split(k=2,tau=0.5)", "not used"), ("split(k=2", "closing"),
        ("split-spec(k=2,zeta=3)", "unknown parameter"), ("split(k=2,f12)", "cannot read"), ("split-exit(k=2,tau=0.9,min=3)", "above"),
        ("local(k=2)", "not used"), ("split", "needs a split layer"),
    ])
    func refused(text: String, fragment: String) {
        do {
            _ = try Strategy.parse(text, default: "local")
            Issue.record("'\(text)' was accepted")
        } catch let error as CompletionError {
            #expect(error.description.contains(fragment), "\(error)")
            #expect(error.description.contains("known:"), "the message lists what is known")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite("Provenance in client API replies")
struct ProvenanceReplyTests {
    @Test("token and done replies carry each token's side and layer, and the counters, and read back")
    func roundTrip() throws {
        let provenance = [TokenProvenance(side: .draft, layer: 4), TokenProvenance(side: .cloud, layer: 8),
                          TokenProvenance(side: .edge, layer: 3)]
        var counts = ProvenanceCounts()
        counts.tokens = 3; counts.edgeAnswered = 1; counts.drafted = 2; counts.acceptedDrafts = 1; counts.roundTrips = 1
        let token = ClientReply.token(id: "a", text: "x = 1", tokens: [5, 6, 7], provenance: provenance)
        #expect(try ClientReply.decode(token.encoded()) == token)
        let json = String(decoding: token.encoded(), as: UTF8.self)
        #expect(json.contains("\"draft@4\"") && json.contains("\"edge@3\""))
        let summary = CompletionSummary(text: "x = 1", promptTokenCount: 9, completionTokenCount: 3, finishReason: .controllerStop,
                                        strategy: "split-exit(k=4,tau=0.8,f16)", timeToFirstTokenSeconds: 0.1, totalSeconds: 0.2,
                                        provenance: provenance, counts: counts)
        let done = ClientReply.done(id: "a", summary: summary)
        #expect(try ClientReply.decode(done.encoded()) == done)
        let doneJSON = String(decoding: done.encoded(), as: UTF8.self)
        #expect(doneJSON.contains("\"edge_answered_fraction\"") && doneJSON.contains("\"controller_stop\""))
        #expect(throws: ClientAPIError.self) { try TokenProvenance.parse(["cloud8"]) }
        #expect(throws: ClientAPIError.self) { try TokenProvenance.parse(["moon@8"]) }
    }
}

@Suite("Calibrated defaults")
struct CalibrationDefaultsTests {
    @Test("a split-exit without τ, or a split-spec without γ, takes the calibrated value; without a calibration τ is required")
    func defaults() throws {
        let calibration = ExitCalibration(splitLayer: 4, threshold: 0.45, draftLength: 6, agreementTarget: 0.9,
                                          roundTripMilliseconds: 40, thresholds: [], draftLengths: [])
        #expect(try Strategy.parse("split-exit(k=4)", default: "local", calibration: calibration)
                == .splitExit(layer: 4, threshold: 0.45, minExitLayer: nil, encoding: .f16))
        #expect(try Strategy.parse("split-spec(k=4)", default: "local", calibration: calibration)
                == .splitSpec(layer: 4, draftLength: 6, adaptive: false, encoding: .f32))
        #expect(throws: CompletionError.self) { try Strategy.parse("split-exit(k=4)", default: "local") }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let model = directory.file("m.gguf")
        try calibration.write(to: ExitCalibration.path(forModel: model))
        #expect(try ExitCalibration.load(forModel: model) == calibration)
        var bad = calibration
        bad.draftLength = 99
        try bad.write(to: ExitCalibration.path(forModel: model))
        #expect(throws: ModelError.self) { try ExitCalibration.load(forModel: model) }
    }

    static func candidate(_ tau: Double, edge: Double, agreement: Double, exactMatch: Double, editSimilarity: Double)
        -> ExitCalibration.Candidate {
        ExitCalibration.Candidate(value: tau, tokenAgreement: agreement, agreement: agreement, edgeAnsweredFraction: edge,
                                  roundTripsPerToken: 1 - edge, acceptanceRate: 0, lineExactMatch: exactMatch,
                                  lineEditSimilarity: editSimilarity, estimatedCompletionSeconds: 0)
    }

    @Test("line-match picks the τ with the most tokens on the edge whose exact match and edit similarity stay within the tolerances")
    func lineMatchCriterion() {
        let candidates = [
            Self.candidate(0.1, edge: 0.6, agreement: 0.5, exactMatch: 0.10, editSimilarity: 0.40),  // EM 3 points down
            Self.candidate(0.2, edge: 0.45, agreement: 0.7, exactMatch: 0.12, editSimilarity: 0.30),  // edit sim 10 down
            Self.candidate(0.3, edge: 0.35, agreement: 0.85, exactMatch: 0.12, editSimilarity: 0.39),
            Self.candidate(0.5, edge: 0.2, agreement: 0.95, exactMatch: 0.13, editSimilarity: 0.40),
        ]
        let rule = ExitCalibration.Criterion.lineMatch(exactMatchTolerance: 0.015, editSimilarityTolerance: 0.015)
        #expect(ExitCalibration.chooseThreshold(candidates, criterion: rule, fullLineExactMatch: 0.13, fullLineEditSimilarity: 0.40) == 0.3)
        #expect(ExitCalibration.chooseThreshold(candidates, criterion: rule, fullLineExactMatch: 0.5, fullLineEditSimilarity: 0.40) == nil)
        #expect(ExitCalibration.chooseThreshold(candidates, criterion: .agreement(target: 0.8), fullLineExactMatch: 0,
                                                fullLineEditSimilarity: 0) == 0.3)
    }

    @Test("the calibration and test halves of the held-out list share no file and together make the whole")
    func heldOutHalvesAreDisjoint() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let names = (0..<6).map { "f\($0).py" }
        for name in names {
            let lines = (0..<40).map { "    value_\($0) = compute(\($0), name=\"\(name)\")" }
            try lines.joined(separator: "\n").write(toFile: directory.file(name), atomically: true, encoding: .utf8)
        }
        let list = directory.file("list.txt")
        try names.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        func files(_ part: LineCompletionSet.Part) throws -> Set<String> {
            Set(try LineCompletionSet(listPath: list, root: directory.path, count: 30, part: part).cases.map(\.file))
        }
        let calibration = try files(.calibration), test = try files(.test)
        #expect(calibration == ["f0.py", "f2.py", "f4.py"])
        #expect(test == ["f1.py", "f3.py", "f5.py"])
        #expect(try files(.all) == calibration.union(test))
    }
}
