import ArgumentParser
import Split

/// Where the held-out line-completion files are (shared by bench-exit and calibrate).
public struct HeldOutOptions: ParsableArguments {
    @Option(name: .long, help: "Held-out file list (paths relative to --stdlib).")
    public var heldOut = "tools/train/splits/valid.txt"

    @Option(name: .long, help: "Directory the held-out paths are relative to (default: python3's stdlib).")
    public var stdlib: String?

    @Option(name: .long, help: "Which held-out files: all, calibration (even positions in the list) or test (odd positions); `calibrate` and `bench-exit` default to disjoint halves.")
    public var heldOutPart: LineCompletionSet.Part?

    public init() {}

    /// `count` deterministic line-completion cases from `heldOutPart`, else from `defaultPart`.
    public func cases(_ count: Int, tokenizer: TextTokenizer, defaultPart: LineCompletionSet.Part) throws -> LineCompletionSet {
        let part = heldOutPart ?? defaultPart
        return try LineCompletionSet(listPath: heldOut, root: try stdlib ?? LineCompletionSet.standardLibraryPath(), count: count,
                                     tokenizer: tokenizer, part: part)
    }
}
