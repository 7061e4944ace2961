import Foundation
import Hummingbird
import Logging
import Prometheus

/// The edge node's OpenAI-compatible HTTP endpoint (`POST /v1/completions`,
/// `POST /v1/chat/completions`, `GET /v1/models`, `GET /v1/models/{model}`, `GET /health`,
/// `GET /ready`), llama.cpp's `POST /infill` and Ollama's `POST /api/generate`,
/// `POST /api/chat`, `GET /api/tags`, `POST /api/show` and `GET /api/version`, so editor
/// plugins that speak OpenAI's API, llama.cpp's (llama.vim, llama.vscode) or Ollama's work unchanged.
public enum OpenAIServer {
    /// Builds the HTTP application serving `service`; the daemon runs it with `runService()`,
    /// tests with `run()` inside a task they cancel.
    /// - Parameters:
    ///   - status: what `GET /ready` reports; by default the service's model, always ready.
    ///   - metrics: served at `GET /metrics` when given.
    ///   - onServerRunning: called with the bound port once the server listens (useful with port 0).
    public static func buildApplication(
        configuration: OpenAIServerConfiguration,
        service: some CompletionService,
        status: (@Sendable () async -> ClientStatus)? = nil,
        metrics: PrometheusCollectorRegistry? = nil,
        logger: Logger? = nil,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let modelName = service.modelName
        let status = status ?? { ClientStatus(model: modelName, ready: true) }
        let endpoint = CompletionEndpoint<_, OpenAICompletionDialect>(
            service: service, limits: configuration.limits, bodyTimeoutSeconds: configuration.bodyTimeoutSeconds)
        let infill = CompletionEndpoint<_, LlamaInfillDialect>(
            service: service, limits: configuration.limits, bodyTimeoutSeconds: configuration.bodyTimeoutSeconds)
        let chat = CompletionEndpoint<_, OpenAIChatDialect>(
            service: service, limits: configuration.limits, bodyTimeoutSeconds: configuration.bodyTimeoutSeconds)
        let ollama = CompletionEndpoint<_, OllamaGenerateDialect>(
            service: service, limits: configuration.limits, bodyTimeoutSeconds: configuration.bodyTimeoutSeconds)
        let ollamaChat = CompletionEndpoint<_, OllamaChatDialect>(
            service: service, limits: configuration.limits, bodyTimeoutSeconds: configuration.bodyTimeoutSeconds)
        let servedModel = service.servedModel
        let (limits, bodyTimeout) = (configuration.limits, configuration.bodyTimeoutSeconds)
        let router = Router(context: SplitRequestContext.self)
        router.add(middleware: OpenAIErrorMiddleware())
        router.post("/v1/completions") { request, context in
            await endpoint.respond(to: request, channel: context.channel)
        }
        router.post("/infill") { request, context in
            await infill.respond(to: request, channel: context.channel)
        }
        router.post("/v1/chat/completions") { request, context in
            await chat.respond(to: request, channel: context.channel)
        }
        router.post("/api/generate") { request, context in
            await ollama.respond(to: request, channel: context.channel)
        }
        router.post("/api/chat") { request, context in
            await ollamaChat.respond(to: request, channel: context.channel)
        }
        router.get("/api/tags") { _, _ in
            jsonResponse(OllamaModelList(servedModel))
        }
        router.post("/api/show") { request, _ in
            do {
                let body = try await RequestBody.collect(request, limits: limits, timeoutSeconds: bodyTimeout)
                let shown = try OllamaShowRequest.decode(Data(body.readableBytesView), limits: limits)
                guard shown.model == modelName || shown.model == modelName + ":latest" else {
                    throw ClientAPIError(.notFound, "model \"\(shown.model)\" not found; this node serves \"\(modelName)\"", parameter: "model")
                }
                return jsonResponse(OllamaShowResponse(servedModel))
            } catch {
                return ollamaErrorResponse(ClientAPIError(serviceError: error))
            }
        }
        router.get("/api/version") { _, _ in
            jsonResponse(["version": OllamaModelRoutes.version])
        }
        router.get("/v1/models") { _, _ in
            jsonResponse(OpenAIModelList(modelName: modelName, created: unixTime()))
        }
        router.get("/v1/models/{model}") { _, context in
            let requested = context.parameters.get("model") ?? ""
            guard requested == modelName else {
                throw ClientAPIError(.notFound, "no model \"\(requested)\"; this node serves \"\(modelName)\"", parameter: "model")
            }
            return jsonResponse(OpenAIModelList(modelName: modelName, created: unixTime()).data[0])
        }
        router.get("/health") { _, _ in
            jsonResponse(["status": "ok"])
        }
        if let metrics { MetricsServer.addMetricsRoute(to: router, registry: metrics) }
        router.get("/ready") { _, _ in
            let current = await status()
            return jsonResponse(current, status: current.ready ? .ok : .serviceUnavailable)
        }
        return Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ClientDisconnectWatcher()],
                idleTimeout: .nanoseconds(Int64(configuration.idleTimeoutSeconds * 1e9)))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: configuration.serverName),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger ?? Logger(label: "split.openai"))
    }

    /// A JSON response with `status`.
    static func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: ClientAPIJSON.encode(value))))
    }

    /// The response for a failed request: an OpenAI error body with the matching status.
    static func errorResponse(_ error: ClientAPIError) -> Response {
        jsonResponse(OpenAIErrorBody(error), status: error.httpStatus)
    }

    /// The response for a failed Ollama request: `{"error": ...}` with the matching status.
    static func ollamaErrorResponse(_ error: ClientAPIError) -> Response {
        jsonResponse(OllamaErrorBody(error: error.message), status: error.httpStatus)
    }

    /// Seconds since 1970, as OpenAI's `created`.
    static func unixTime() -> Int { Int(Date().timeIntervalSince1970) }
}

/// Turns every error that escapes a route (unknown route, oversize body, a bug) into an
/// OpenAI error body, so no client ever sees an empty 500.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ClientAPIError {
            return OpenAIServer.errorResponse(error)
        } catch let error as any HTTPResponseError {
            let message: String
            switch error.status {
            case .notFound: message = "no route for \(request.method) \(request.uri.path)"
            case .contentTooLarge: message = "the request body is too large"
            default: message = "\(error.status.reasonPhrase)"
            }
            let code: ClientAPIError.Code = switch error.status {
            case .notFound: .notFound
            case .contentTooLarge: .tooLarge
            case .serviceUnavailable: .overloaded
            default: error.status.code >= 500 ? .internalError : .invalidRequest
            }
            var response = OpenAIServer.errorResponse(ClientAPIError(code, message))
            response.status = error.status
            return response
        } catch {
            context.logger.error("unhandled error in \(request.method) \(request.uri.path): \(error)")
            return OpenAIServer.errorResponse(ClientAPIError(.internalError, "internal error: \(error)"))
        }
    }
}
