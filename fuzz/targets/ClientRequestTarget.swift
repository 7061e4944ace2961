import Foundation

#if SPLIT_FUZZ_NO_CLIENT_REQUEST
/// Left out when the client API's request types could not be compiled without the packages the
/// fuzz build leaves out (scripts/fuzz.sh says so when it builds).
let clientRequestTargets: [String: (UnsafeRawBufferPointer) -> Void] = [:]
#else
let clientRequestTargets: [String: (UnsafeRawBufferPointer) -> Void] = ["client-request": fuzzClientRequest]

/// Client API request parsers (the ZeroMQ socket API's JSON messages and the bodies of
/// `POST /v1/completions`, `/v1/chat/completions`, `/infill` and `/api/generate`): any bytes
/// parse or throw `ClientAPIError`; an accepted
/// socket request re-encodes to a message that parses back to the same request, and every
/// accepted size is within the limits.
func fuzzClientRequest(_ bytes: UnsafeRawBufferPointer) {
    let body = Data(bytes)
    let limits = ClientAPILimits.standard
    _ = ClientRequest.bestEffortID(in: body, limits: limits)
    do {
        let request = try ClientRequest.decode(body, limits: limits)
        let again = try ClientRequest.decode(request.encoded(), limits: limits)
        fuzzCheck(again == request, "a socket request does not survive encode/decode: \(request) vs \(again)")
        if case .complete(_, let completion, _) = request { checkWithinLimits(completion, limits) }
    } catch is ClientAPIError {
    } catch {
        fuzzCheck(false, "socket request parse threw a non-API error: \(error)")
    }
    let httpParsers: [(String, (Data) throws -> CompletionRequest)] = [
        ("OpenAI completions", { try OpenAICompletionRequest.decode($0, limits: limits).request }),
        ("OpenAI chat", { try OpenAIChatRequest.decode($0, limits: limits).request }),
        ("llama.cpp infill", { try LlamaInfillRequest.decode($0, limits: limits).request }),
        ("Ollama generate", { try OllamaGenerateRequest.decode($0, limits: limits).request }),
    ]
    for (name, parse) in httpParsers {
        do {
            checkWithinLimits(try parse(body), limits)
        } catch is ClientAPIError {
        } catch {
            fuzzCheck(false, "\(name) body parse threw a non-API error: \(error)")
        }
    }
}

private func checkWithinLimits(_ request: CompletionRequest, _ limits: ClientAPILimits) {
    fuzzCheck(request.prompt.utf8.count <= limits.maxPromptBytes, "prompt past the limit")
    let chatBytes = (request.chat ?? []).reduce(0) { $0 + $1.role.utf8.count + $1.content.utf8.count }
    fuzzCheck(chatBytes <= limits.maxPromptBytes, "chat messages past the limit")
    fuzzCheck(request.maxTokens >= 0 && request.maxTokens <= limits.maxTokens, "max_tokens past the limit")
    fuzzCheck(request.stop.count <= limits.maxStopSequences, "too many stop strings")
    fuzzCheck(request.stop.allSatisfy { $0.utf8.count <= limits.maxStopBytes }, "stop string past the limit")
}
#endif
