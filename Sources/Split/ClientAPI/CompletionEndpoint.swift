import Foundation
import Hummingbird
import NIOCore

/// A completion route (`POST /v1/completions`, `/v1/chat/completions`, `/infill`,
/// `/api/generate`): reads and checks the body in `Dialect`'s shape, runs the completion, and
/// answers with one JSON object or, for `stream: true`, with the dialect's stream of events.
struct CompletionEndpoint<Service: CompletionService, Dialect: CompletionDialect>: Sendable {
    let service: Service
    let limits: ClientAPILimits
    /// Longest wait for a whole body after the request head (slow-body clients get 408).
    let bodyTimeoutSeconds: Double

    /// The response for one request; failures become OpenAI error bodies, never thrown. A
    /// non-streamed completion is cancelled when the client on `channel` goes away.
    func respond(to request: Request, channel: (any Channel)? = nil) async -> Response {
        do {
            let body = try await RequestBody.collect(request, limits: limits, timeoutSeconds: bodyTimeoutSeconds)
            let decoded = try Dialect.decode(Data(body.readableBytesView), limits: limits)
            let id = Dialect.idPrefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            return decoded.stream ? await streamed(decoded, id: id) : try await whole(decoded.request, id: id, channel: channel)
        } catch {
            return errorResponse(ClientAPIError(serviceError: error))
        }
    }

    /// Runs the completion to its end and answers with one `text_completion` object.
    private func whole(_ completion: CompletionRequest, id: String, channel: (any Channel)?) async throws -> Response {
        let summary: CompletionSummary
        do {
            let run = Task { try await service.complete(completion) { _ in } }
            if let channel { ClientDisconnectWatcher.whenGone(of: channel) { run.cancel() } }
            defer { if let channel { ClientDisconnectWatcher.forgetCallbacks(of: channel) } }
            summary = try await withTaskCancellationHandler { try await run.value } onCancel: { run.cancel() }
        } catch {
            throw ClientAPIError(serviceError: error)
        }
        let meta = CompletionMeta(id: id, created: OpenAIServer.unixTime(), model: service.modelName)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: Dialect.whole(summary, meta))))
    }

    /// The dialect's error body with the error's status code.
    private func errorResponse(_ error: ClientAPIError) -> Response {
        Response(status: error.httpStatus, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: Dialect.errorBody(error))))
    }

    /// Answers with a stream of events: the dialect's opening event, a chunk per piece of text,
    /// a last chunk with the finish reason and usage (and the usage alone when asked for), then
    /// the dialect's end marker (OpenAI's `[DONE]`). A run that fails before producing anything
    /// gets a plain error response with its status code; one that fails later ends with an
    /// error event and no end marker.
    private func streamed(_ decoded: DecodedCompletion, id: String) async -> Response {
        let run = await CompletionStream.start(decoded.request, on: service)
        if case .failed(let error) = run.first { return errorResponse(error) }
        let meta = CompletionMeta(id: id, created: OpenAIServer.unixTime(), model: service.modelName)
        let framing = Dialect.framing
        let body = ResponseBody { writer in
            func send(_ item: CompletionStream.Item) async throws -> Bool {
                switch item {
                case .event(.text(let text, _, _)):
                    try await writer.write(framing.event(Dialect.chunk(text, meta)))
                    return true
                case .done(let summary):
                    try await writer.write(framing.event(Dialect.last(summary, meta)))
                    if decoded.includeUsage, let usage = Dialect.usage(summary, meta) { try await writer.write(framing.event(usage)) }
                    if let end = Dialect.endOfStream { try await writer.write(end) }
                    return false
                case .failed(let error):
                    try await writer.write(framing.event(Dialect.errorBody(error)))
                    return false
                }
            }
            if let opening = Dialect.opening(meta) { try await writer.write(framing.event(opening)) }
            if try await send(run.first) {
                for await item in run.rest {
                    guard try await send(item) else { break }
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: framing.contentType, .cacheControl: "no-cache"],
            body: body)
    }
}

/// Reading a request body for every JSON route: a declared oversize body is refused before any of
/// it is read, and the whole body must arrive within the slow-body timeout.
enum RequestBody {
    /// The whole body of `request`, at most `limits.maxMessageBytes`, arrived within `timeoutSeconds`.
    /// - Throws: `ClientAPIError` `.tooLarge` or `.requestTimeout`.
    static func collect(_ request: Request, limits: ClientAPILimits, timeoutSeconds: Double) async throws -> ByteBuffer {
        let limit = limits.maxMessageBytes
        // Refuse a declared oversize body at once, before reading (or, with
        // `Expect: 100-continue`, before the client even sends) any of it.
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw ClientAPIError(.tooLarge, "the request body is \(declared) bytes; the limit is \(limit)")
        }
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await request.body.collect(upTo: limit)
                } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                    throw ClientAPIError(.tooLarge, "the request body is larger than \(limit) bytes")
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeoutSeconds * 1e9))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else {
                throw ClientAPIError(.requestTimeout, "the request body did not arrive within \(timeoutSeconds) s")
            }
            return body
        }
    }
}
