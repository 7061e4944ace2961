import Testing
@testable import Split

/// How the cloud shares one forward pass between decode steps and prompts (`CloudSessionStore.passRows`).
@Suite("Rows per batched pass")
struct PassRowsTests {
    @Test("decode steps always run; a long prompt fills what is left of the pass")
    func stepsFirstThenPrompt() {
        let rows = CloudSessionStore.passRows(remaining: [1000] + [Int](repeating: 1, count: 16), maxRows: 64)
        #expect(rows == [48] + [Int](repeating: 1, count: 16))
    }

    @Test("sixteen prompts arriving together are spread over passes of about maxRows rows, fewest rows left first")
    func promptsShareTheBudget() {
        let remaining = [40, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32]
        let rows = CloudSessionStore.passRows(remaining: remaining, maxRows: 64)
        #expect(rows.reduce(0, +) <= 64 + 16)
        #expect(rows[1] == 32 && rows[2] == 32)
        #expect(rows[0] == 16, "the oldest prompt left out still advances")
        #expect(rows[3...].allSatisfy { $0 == 0 })
    }

    @Test("a prompt still advances behind sixty-four decoding sessions")
    func promptNeverStarves() {
        let rows = CloudSessionStore.passRows(remaining: [Int](repeating: 1, count: 64) + [500], maxRows: 64)
        #expect(rows.prefix(64).allSatisfy { $0 == 1 })
        #expect(rows[64] == 16)
    }

    @Test("jobs with at most a quarter of the pass left run whole: verify batches and the ends of prompts")
    func shortJobsRunWhole() {
        let rows = CloudSessionStore.passRows(remaining: [5, 16, 5, 17, 3], maxRows: 64)
        #expect(rows == [5, 16, 5, 17, 3])
    }

    @Test("without a bound every job runs all its rows")
    func unbounded() {
        #expect(CloudSessionStore.passRows(remaining: [700, 1, 3000], maxRows: .max) == [700, 1, 3000])
    }
}
