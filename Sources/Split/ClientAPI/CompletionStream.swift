/// One completion run in the background, its callbacks turned into an async sequence. The
/// first item is handed over on its own, so a front end can see whether the run failed before
/// it commits to a streamed "200 OK" (and answer 503 instead).
struct CompletionStream: Sendable {
    /// What the run produces, in order: text events, then `done` or `failed`.
    enum Item: Sendable {
        case event(CompletionEvent)
        case done(CompletionSummary)
        case failed(ClientAPIError)
    }

    /// The first item the run produced (`failed` if it ended before producing any).
    let first: Item
    /// Every item after the first. Dropping it before the end cancels the run.
    let rest: AsyncStream<Item>

    /// Starts `request` on `service` and waits for its first item.
    static func start(_ request: CompletionRequest, on service: some CompletionService) async -> CompletionStream {
        let (opening, openingContinuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(1))
        let (rest, restContinuation) = AsyncStream.makeStream(of: Item.self)
        // `CompletionService` may call back from any thread, so "first" is decided under a lock.
        let firstClaimed = Locked(false)
        @Sendable func deliver(_ item: Item) {
            let isFirst = firstClaimed.withLock { claimed in
                defer { claimed = true }
                return !claimed
            }
            if isFirst {
                openingContinuation.yield(item)
                openingContinuation.finish()
            } else {
                restContinuation.yield(item)
            }
        }
        let run = Task {
            do {
                let summary = try await service.complete(request) { deliver(.event($0)) }
                deliver(.done(summary))
            } catch {
                deliver(.failed(ClientAPIError(serviceError: error)))
            }
            restContinuation.finish()
        }
        // The reader of `rest` went away (the client disconnected): stop generating.
        restContinuation.onTermination = { reason in
            if case .cancelled = reason { run.cancel() }
        }
        var firstItem: Item = .failed(ClientAPIError(.internalError, "the completion ended without a result"))
        for await item in opening {
            firstItem = item
        }
        return CompletionStream(first: firstItem, rest: rest)
    }
}
