import Foundation

/// Line-completion cases cut from held-out source files: the prompt is the text before a line
/// (its indentation included), the target the rest of that line. Deterministic: the same files
/// always give the same cases, so benchmarks and tests can be re-run after the model changes.
public struct LineCompletionSet: Sendable {
    /// One case.
    public struct Case: Sendable, Equatable {
        public var file: String
        public var prompt: String
        /// The line's text after the prompt, without its newline.
        public var target: String
    }
    public var cases: [Case]

    /// Which of the listed files cases come from: all, or one of two disjoint halves, so that a
    /// default chosen on one half (calibration) can be checked on the other (test).
    public enum Part: String, Sendable, CaseIterable {
        case all
        /// The files at even positions of the list.
        case calibration
        /// The files at odd positions of the list.
        case test

        func includes(_ index: Int) -> Bool {
            switch self {
            case .all: return true
            case .calibration: return index % 2 == 0
            case .test: return index % 2 == 1
            }
        }
    }

    /// Cases from the files listed in `listPath` (one path a line, relative to `root`).
    /// - Parameters:
    ///   - count: cases wanted, spread evenly over the files and over each file's lines.
    ///   - maxPromptCharacters: the prompt keeps at most this many characters before the line,
    ///     cut at a line start.
    ///   - maxPromptTokens: with `tokenizer`, whole lines are dropped from the prompt's start
    ///     until it has at most this many tokens.
    ///   - part: the files used (all, or the calibration or test half of the list).
    /// - Throws: `ModelError.invalidConfiguration` when the list or a file cannot be read.
    public init(listPath: String, root: String, count: Int, maxPromptCharacters: Int = 600,
                tokenizer: TextTokenizer? = nil, maxPromptTokens: Int = 160, part: Part = .all) throws {
        guard let list = try? String(contentsOfFile: listPath, encoding: .utf8) else {
            throw ModelError.invalidConfiguration("cannot read the held-out file list \(listPath)")
        }
        let files = list.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            .enumerated().filter { part.includes($0.offset) }.map(\.element)
        guard !files.isEmpty, count > 0 else { throw ModelError.invalidConfiguration("no held-out files in \(listPath)") }
        let perFile = (count + files.count - 1) / files.count
        var cases: [Case] = []
        for file in files {
            let path = (root as NSString).appendingPathComponent(file)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ModelError.invalidConfiguration("cannot read held-out file \(path)")
            }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for index in Self.linesToComplete(lines, count: perFile, distinct: false) {
                let line = lines[index]
                let indentation = String(line.prefix { $0 == " " || $0 == "\t" })
                var before = lines[..<index].joined(separator: "\n") + "\n"
                if before.count > maxPromptCharacters {
                    before = String(before.suffix(maxPromptCharacters))
                    if let cut = before.firstIndex(of: "\n") { before = String(before[before.index(after: cut)...]) }
                }
                while let tokenizer, tokenizer.encode(before + indentation).count > maxPromptTokens,
                      let cut = before.firstIndex(of: "\n"), before.index(after: cut) < before.endIndex {
                    before = String(before[before.index(after: cut)...])
                }
                cases.append(Case(file: file, prompt: before + indentation, target: String(line.dropFirst(indentation.count))))
            }
        }
        self.cases = Array(cases.prefix(count))
    }

    /// Indices of `count` lines of a file worth completing (some code after the indentation, and
    /// at least 8 lines of context before), spread evenly over it. When the file has fewer such
    /// lines, they repeat, or with `distinct` each is given once.
    static func linesToComplete<Line: StringProtocol>(_ lines: [Line], count: Int, distinct: Bool) -> [Int] {
        let candidates = lines.indices.filter { i in
            i >= 8 && lines[i].trimmingCharacters(in: .whitespaces).count >= 8
        }
        let count = distinct ? min(count, candidates.count) : count
        guard !candidates.isEmpty, count > 0 else { return [] }
        return (0..<count).map { j in candidates[(j * 2 + 1) * candidates.count / (2 * count)] }
    }

    /// The Python standard library directory (`sysconfig.get_paths()["stdlib"]`), from
    /// `SPLIT_STDLIB` or by asking `python3`.
    /// - Throws: `ModelError.invalidConfiguration` when neither gives a directory.
    public static func standardLibraryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["SPLIT_STDLIB"], !path.isEmpty { return path }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ModelError.invalidConfiguration("cannot run python3 to find the standard library (set SPLIT_STDLIB): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        var isDirectory: ObjCBool = false
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw ModelError.invalidConfiguration("python3 gave no standard library directory (set SPLIT_STDLIB)")
        }
        return path
    }

    /// Edit similarity 1 − Levenshtein(a, b) / max(|a|, |b|) over characters (1 for two empty strings).
    public static func editSimilarity(_ a: String, _ b: String) -> Double {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty || !y.isEmpty else { return 1 }
        var previous = Array(0...y.count)
        var current = previous
        for i in 1...max(1, x.count) where !x.isEmpty {
            current[0] = i
            for j in stride(from: 1, through: y.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        let distance = x.isEmpty ? y.count : previous[y.count]
        return 1 - Double(distance) / Double(max(x.count, y.count))
    }
}
