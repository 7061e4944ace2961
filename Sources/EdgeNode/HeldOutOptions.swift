import ArgumentParser
import Split

/// Where the held-out line-completion files are (shared by bench-exit and calibrate).
struct HeldOutOptions: ParsableArguments {
    @Option(name: .long, help: "Held-out file list (paths relative to --stdlib).")
    var heldOut = "tools/train/splits/valid.txt"

    @Option(name: .long, help: "Directory the held-out paths are relative to (default: python3's stdlib).")
    var stdlib: String?

    /// `count` deterministic line-completion cases.
    func cases(_ count: Int, tokenizer: TextTokenizer) throws -> LineCompletionSet {
        try LineCompletionSet(listPath: heldOut, root: try stdlib ?? LineCompletionSet.standardLibraryPath(), count: count,
                              tokenizer: tokenizer)
    }
}
