import Testing
@testable import SplitBench
import Split

@Suite("Editor session replay: the requests an editor sends while a region is typed")
struct EditorSessionTests {
    static let text = (1...30).map { "line_\($0) = \($0)\n" }.joined()

    @Test("every request is the document with the region typed up to the cursor; every line end asks; the same seed gives the same session")
    func requestsFollowTheTyping() {
        let session = EditorSession(text: Self.text, lineCount: 5, pauseProbability: 0.2, maxRequests: 1000, seed: 3)
        let lines = Self.text.split(separator: "\n").map { $0 + "\n" }
        let before = lines[..<session.firstLine].joined()
        let region = lines[session.firstLine..<(session.firstLine + 5)].joined()
        let after = lines[(session.firstLine + 5)...].joined()
        #expect(session.requests.filter(\.atLineEnd).count == 5)
        #expect(session.requests.count > 5, "no pause inside a line at probability 0.2")
        var typed = 0
        for request in session.requests {
            #expect(request.suffix == after)
            #expect(request.prefix.hasPrefix(before))
            let cursor = request.prefix.count - before.count
            #expect(cursor > typed && region.hasPrefix(request.prefix.dropFirst(before.count)))
            #expect(request.atLineEnd == request.prefix.hasSuffix("\n"))
            typed = cursor
        }
        #expect(session.requests.last?.prefix == before + region)
        let again = EditorSession(text: Self.text, lineCount: 5, pauseProbability: 0.2, maxRequests: 1000, seed: 3)
        #expect(again.requests == session.requests && again.firstLine == session.firstLine)
        #expect(EditorSession(text: Self.text, lineCount: 5, pauseProbability: 0.2, maxRequests: 3, seed: 3).requests.count == 3)
    }

    @Test("a suggestion's full line is its first non-blank line with its line break")
    func fullLineNeedsContentAndABreak() {
        #expect(!InfillClient.hasCompleteLine("\n   \n"))
        #expect(!InfillClient.hasCompleteLine("    return x"))
        #expect(InfillClient.hasCompleteLine("\n    return x\n"))
    }
}

@Suite("Editor session replay: llama.vim's requests")
struct LlamaVimSessionTests {
    static let text = (1...400).map { $0 % 7 == 0 ? "\n" : "    value_\($0) = \($0)\n" }.joined()

    @Test("a llama.vim request holds the 256 lines above the cursor's line, the typed part of the line as prompt, and the 64 lines below")
    func requestsCutAsLlamaVimCuts() {
        let session = EditorSession(text: Self.text, lineCount: 3, contextLines: 300, pauseProbability: 0.3, maxRequests: 1000,
                                    seed: 5, shape: .llamaVim)
        let lines = Self.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        let below = lines[(session.firstLine + 3)...].prefix(64)
        #expect(session.requests.filter(\.atLineEnd).count == 3)
        for request in session.requests {
            #expect(request.suffix == "\n" + below.joined(separator: "\n") + "\n")
            let above = request.prefix.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
            #expect(above.count == 256 && request.prefix.hasSuffix("\n"))
            if request.atLineEnd {
                #expect(request.prompt.isEmpty && request.indent == 0)
            } else {
                #expect(request.indent == request.prompt.prefix(while: { $0 == " " }).count)
            }
            // The document: the lines above, the cursor's line, the lines below, in file order.
            #expect(lines.joined(separator: "\n").contains(above.suffix(3).joined(separator: "\n")))
        }
        #expect(session.requests.last?.prefix.hasSuffix(lines[session.firstLine + 2] + "\n") == true)
    }

    @Test("llama.vim's ring buffer holds a chunk of 33 consecutive lines of each visited file, the oldest first")
    func ringChunksAreConsecutiveLines() {
        let files = [InfillFile(filename: "a.py", text: Self.text), InfillFile(filename: "b.py", text: "x = 1\ny = 2\nz = 3\n")]
        let chunks = EditorSession.ringChunks(of: files, seed: 2)
        #expect(chunks.map(\.filename) == ["a.py", "b.py"])
        #expect(chunks[0].text.split(separator: "\n", omittingEmptySubsequences: false).count == 34)
        #expect(Self.text.contains(chunks[0].text))
        #expect(EditorSession.ringChunks(of: files, seed: 2) == chunks)
    }
}

@Test("answers with and without reuse agree when equal, or when a limit ended the shorter at the start of the longer")
func answersAgreeUpToATimeLimit() {
    func answer(_ text: String, _ stop: String) -> InfillExchange {
        InfillExchange(firstTextSeconds: nil, lineSeconds: 0, totalSeconds: 0, text: text, promptTokens: 0, cachedTokens: 0,
                       generatedTokens: 0, edgeFirstTokenSeconds: nil, stopType: stop)
    }
    #expect(answer("a = 1\n", "eos").agrees(with: answer("a = 1\n", "eos")))
    #expect(answer("a = 1\nb", "limit").agrees(with: answer("a = 1\nb = 2\n", "eos")))
    #expect(answer("a = 1\nb = 2\n", "eos").agrees(with: answer("a = 1\nb", "limit")))
    #expect(!answer("a = 1\nb", "eos").agrees(with: answer("a = 1\nb = 2\n", "eos")))
    #expect(!answer("a = 2", "limit").agrees(with: answer("a = 1\nb = 2\n", "eos")))
}
