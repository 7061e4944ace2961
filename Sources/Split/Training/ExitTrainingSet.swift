import Foundation

/// What `train-exits` learns from: the frozen model run over the user's code, keeping at each
/// exit layer ℓ every position's state after ℓ layers, and, as the teacher, the full model's
/// top-K next-token probabilities and the true next token.
public struct ExitTrainingSet: Sendable {
    /// Exit layers, ascending.
    public let layers: [Int]
    public let hiddenSize: Int
    /// Positions held.
    public private(set) var count = 0
    /// States by exit layer, `[count × hiddenSize]` each.
    public private(set) var states: [Int: [Float]]
    /// The full model's top-K tokens per position, most probable first (`[count × topK]`), and
    /// their probabilities renormalised over the K.
    public private(set) var teacherTokens: [Int32] = []
    public private(set) var teacherProbabilities: [Float] = []
    /// The true next token per position.
    public private(set) var nextTokens: [Int32] = []
    public let topK: Int

    /// Source files under `folder` (recursively, hidden entries skipped) whose names end in one
    /// of `extensions`, sorted by path, read as UTF-8 (files that are not text are skipped).
    /// - Throws: when the folder cannot be listed or holds no such file.
    public static func sourceTexts(in folder: String, extensions: Set<String>, maxFileBytes: Int = 1 << 20) throws -> [(path: String, text: String)] {
        let root = URL(fileURLWithPath: folder)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw ExitTrainingError.noText("cannot list \(folder)")
        }
        var found: [(String, String)] = []
        for case let url as URL in walker where extensions.contains(url.pathExtension) {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values?.isRegularFile == true, (values?.fileSize ?? 0) <= maxFileBytes,
                  let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8), !text.isEmpty else { continue }
            found.append((url.path, text))
        }
        guard !found.isEmpty else {
            throw ExitTrainingError.noText("no source file ending in \(extensions.sorted().joined(separator: ", ")) under \(folder)")
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Runs `model` over windows of `windowLength` tokens of each text until `positions`
    /// positions are held. `progress` gets the fraction collected.
    /// - Throws: model errors, or `ExitTrainingError` when a layer is not an exit layer of the model.
    public static func collect(model: TransformerModel, tokenizer: TextTokenizer, texts: [String], layers: [Int],
                               positions: Int, windowLength: Int = 128, topK: Int = 32,
                               progress: (Double) -> Void = { _ in }) throws -> ExitTrainingSet {
        let c = model.configuration
        let window = max(2, min(windowLength, c.maxPositions))
        var set = try empty(model: model, layers: layers, topK: topK)
        let k = set.topK
        let workspace = Workspace()
        let cache = model.makeCache(maxPositions: window)
        for text in texts {
            let tokens = tokenizer.encode(text)
            var start = 0
            while start + 1 < tokens.count, set.count < positions {
                let end = min(tokens.count, start + window + 1)
                let input = Array(tokens[start..<(end - 1)])
                let rows = min(input.count, positions - set.count)
                cache.truncate(to: 0)
                var hidden = try model.embed(Array(input[..<rows]), startPosition: 0)
                try set.forwardKeepingStates(model: model, &hidden, rows: rows, startPosition: 0, keptFrom: 0, cache: cache,
                                             workspace: workspace)
                let logits = try model.logits(hidden, rows: rows, workspace: workspace)
                logits.withUnsafeBufferPointer { all in
                    for row in 0..<rows {
                        let slice = UnsafeBufferPointer(rebasing: all[(row * c.vocabularySize)..<((row + 1) * c.vocabularySize)])
                        set.appendTeacher(slice, topK: k)
                    }
                }
                set.nextTokens += tokens[(start + 1)..<(start + 1 + rows)]
                set.count += rows
                start = end - 1
                progress(Double(set.count) / Double(positions))
            }
            if set.count >= positions { break }
        }
        guard set.count > 0 else { throw ExitTrainingError.noText("the texts hold no token to learn from") }
        return set
    }

    /// Self-distillation: the full model's own greedy continuations of line-completion prompts
    /// cut from `texts` (the text before a line, its indentation included, at most
    /// `promptTokens` tokens), `continuation` tokens each or up to the first token holding a
    /// newline, until `positions` positions are held. Each generated position keeps the states
    /// that predicted it and the full model's top K there, and its "true" token is the full
    /// model's greedy one: the sequences split-spec drafts on, which text windows are not.
    /// - Throws: model errors, or `ExitTrainingError` when a layer is not an exit layer of the model
    ///   or `continuation` leaves no prompt token in the model's context.
    public static func collectGreedy(model: TransformerModel, tokenizer: TextTokenizer, texts: [String], layers: [Int],
                                     positions: Int, promptTokens: Int = 160, continuation: Int = 32, topK: Int = 32,
                                     progress: (Double) -> Void = { _ in }) throws -> ExitTrainingSet {
        let c = model.configuration
        // A prompt of at least one token, then `continuation` tokens, the last never fed back.
        guard continuation > 0, continuation < c.maxPositions - 1 else {
            throw ExitTrainingError.invalidOption("""
                --continuation must be 1…\(max(1, c.maxPositions - 2)) for this model (its context holds \(c.maxPositions) \
                positions, and the prompt needs at least one), got \(continuation)
                """)
        }
        guard promptTokens > 0 else { throw ExitTrainingError.invalidOption("prompt tokens must be positive, got \(promptTokens)") }
        var set = try empty(model: model, layers: layers, topK: topK)
        let prompts = linePrompts(texts, tokenizer: tokenizer, maxTokens: min(promptTokens, c.maxPositions - continuation - 1),
                                  wanted: max(1, positions / 8))
        let workspace = Workspace()
        let cache = model.makeCache(maxPositions: min(c.maxPositions, promptTokens + continuation + 1))
        var logitsRow = [Float]()
        prompts: for prompt in prompts {
            cache.truncate(to: 0)
            var input = prompt, start = 0
            for _ in 0..<continuation {
                guard set.count < positions, start + input.count <= c.maxPositions else { break prompts }
                var hidden = try model.embed(input, startPosition: start)
                try set.forwardKeepingStates(model: model, &hidden, rows: input.count, startPosition: start,
                                             keptFrom: input.count - 1, cache: cache, workspace: workspace)
                logitsRow = try model.logits(Array(hidden[((input.count - 1) * c.hiddenSize)...]), rows: 1, workspace: workspace)
                let token = logitsRow.withUnsafeBufferPointer { Int32(Sampler.argmax($0)) }
                logitsRow.withUnsafeBufferPointer { set.appendTeacher($0, topK: set.topK) }
                set.nextTokens.append(token)
                set.count += 1
                progress(Double(set.count) / Double(positions))
                start += input.count
                input = [token]
                if tokenizer.tokenBytes(token).contains(UInt8(ascii: "\n")) || token == tokenizer.eosTokenID { break }
            }
        }
        guard set.count > 0 else { throw ExitTrainingError.noText("the texts hold no line to complete") }
        return set
    }

    /// Runs every layer of `model` over `hidden` (`rows` rows from `startPosition`) one at a time,
    /// appending each exit layer's output rows from `keptFrom` on to that layer's states.
    private mutating func forwardKeepingStates(model: TransformerModel, _ hidden: inout [Float], rows: Int, startPosition: Int,
                                               keptFrom: Int, cache: KVCache, workspace: Workspace) throws {
        for layer in 0..<model.configuration.layerCount {
            try model.forward(&hidden, rows: rows, startPosition: startPosition, layers: layer..<(layer + 1), cache: cache,
                              workspace: workspace)
            if states[layer + 1] != nil { states[layer + 1]! += hidden[(keptFrom * hiddenSize)...] }
        }
    }

    /// An empty set for `layers` of `model` (checked: the whole model, exit layers 1…L−1).
    private static func empty(model: TransformerModel, layers: [Int], topK: Int) throws -> ExitTrainingSet {
        let c = model.configuration
        guard model.layers == 0..<c.layerCount, model.hasEmbedding, model.hasHead else {
            throw ExitTrainingError.invalidOption("train-exits needs the whole model (embedding, every layer, head)")
        }
        let sorted = Array(Set(layers)).sorted()
        guard let first = sorted.first, let last = sorted.last, first >= 1, last < c.layerCount else {
            throw ExitTrainingError.invalidOption("exit layers must be 1…\(c.layerCount - 1), got \(layers)")
        }
        return ExitTrainingSet(layers: sorted, hiddenSize: c.hiddenSize, states: Dictionary(uniqueKeysWithValues: sorted.map { ($0, []) }),
                               topK: max(1, min(topK, c.vocabularySize)))
    }

    /// Line-completion prompts from `texts`: the lines `LineCompletionSet` picks (each once), and
    /// for each the text before it plus its indentation, tokenized and cut to its last `maxTokens`
    /// tokens (where `LineCompletionSet` cuts whole lines off by characters and tokens instead,
    /// so a prompt here may start mid-line); about `wanted` of them, spread over the files and
    /// their lines, taken file by file in turn. None when `maxTokens` is not positive.
    static func linePrompts(_ texts: [String], tokenizer: TextTokenizer, maxTokens: Int, wanted: Int) -> [[Int32]] {
        guard maxTokens > 0 else { return [] }
        let perFile = max(1, (wanted + texts.count - 1) / max(1, texts.count))
        let byFile: [[[Int32]]] = texts.map { text in
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            return LineCompletionSet.linesToComplete(lines, count: perFile, distinct: true).compactMap { index in
                let indentation = lines[index].prefix { $0 == " " || $0 == "\t" }
                let before = String(lines[..<index].joined(separator: "\n").suffix(4 * maxTokens)) + "\n" + indentation
                var tokens = tokenizer.encode(before)
                if tokens.count > maxTokens { tokens.removeFirst(tokens.count - maxTokens) }
                guard !tokens.isEmpty else { return nil }
                if tokenizer.addsBOSToken, let bos = tokenizer.bosTokenID, tokens.first != bos { tokens[0] = bos }
                return tokens
            }
        }
        let rounds = byFile.map(\.count).max() ?? 0
        return (0..<rounds).flatMap { j in byFile.compactMap { j < $0.count ? $0[j] : nil } }
    }

    /// Appends one position's teacher: its top-K tokens and their renormalised probabilities.
    private mutating func appendTeacher(_ logits: UnsafeBufferPointer<Float>, topK k: Int) {
        // A partial selection: the K largest, kept sorted (K is small next to the vocabulary).
        var best: [(logit: Float, token: Int32)] = []
        best.reserveCapacity(k + 1)
        for (token, value) in logits.enumerated() where best.count < k || value > best[best.count - 1].logit {
            let at = best.firstIndex { value > $0.logit } ?? best.count
            best.insert((value, Int32(token)), at: at)
            if best.count > k { best.removeLast() }
        }
        let top = best[0].logit
        let weights = best.map { Foundation.exp($0.logit - top) }
        let total = weights.reduce(0, +)
        teacherTokens += best.map(\.token)
        teacherProbabilities += weights.map { $0 / total }
    }

    /// The full model's greedy token at position `index`.
    public func teacherToken(_ index: Int) -> Int32 { teacherTokens[index * topK] }
}

/// Why `train-exits` could not run.
public enum ExitTrainingError: Error, CustomStringConvertible, Equatable {
    case noText(String)
    case invalidOption(String)
    case unsupportedModel(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case .noText(let message): return "no training text: \(message)"
        case .invalidOption(let message): return "invalid train-exits option: \(message)"
        case .unsupportedModel(let message): return "train-exits cannot train heads for this model: \(message)"
        case .checkpoint(let message): return "train-exits checkpoint: \(message)"
        }
    }
}
