import ArgumentParser
import Split

/// Where the held-out line-completion files are (shared by bench-exit and calibrate).
struct HeldOutOptions: ParsableArguments {
    @Option(name: .long, help: "Held-out file list (paths relative to --stdlib).")
    var heldOut = "tools/train/splits/valid.txt"

    @Option(name: .long, help: "Directory the held-out paths are relative to (default: python3's stdlib).")
    var stdlib: String?

    @Option(name: .long, help: "Which held-out files: all, calibration (even positions in the list) or test (odd positions); `calibrate` and `bench-exit` default to disjoint halves.")
    var heldOutPart: String?

    /// `count` deterministic line-completion cases from `heldOutPart`, else from `defaultPart`.
    func cases(_ count: Int, tokenizer: TextTokenizer, defaultPart: LineCompletionSet.Part) throws -> LineCompletionSet {
        guard let part = heldOutPart.map({ LineCompletionSet.Part(rawValue: $0) }) ?? defaultPart else {
            throw ValidationError("--held-out-part must be all, calibration or test")
        }
        return try LineCompletionSet(listPath: heldOut, root: try stdlib ?? LineCompletionSet.standardLibraryPath(), count: count,
                                     tokenizer: tokenizer, part: part)
    }
}
