import Testing
@testable import SplitBench

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
