import Foundation

/// Answers socket API messages with a completion service. The ROUTER loop that owns the socket
/// only moves frames: it passes each request's JSON frame here and sends every reply back
/// behind the same envelope.
public struct ClientRequestHandler<Service: CompletionService>: Sendable {
    public let service: Service
    public let limits: ClientAPILimits
    private let status: @Sendable () async -> ClientStatus
    /// Answers `act` requests; nil when this edge serves no robot policy.
    public let policy: (any PolicyActing)?

    /// A handler for `service`; `status` answers `status` requests (by default: the service's
    /// model, always ready).
    public init(service: Service, limits: ClientAPILimits = .standard, status: (@Sendable () async -> ClientStatus)? = nil,
                policy: (any PolicyActing)? = nil) {
        self.service = service
        self.policy = policy
        self.limits = limits
        let modelName = service.modelName
        self.status = status ?? { ClientStatus(model: modelName, ready: true) }
    }

    /// Handles one message, calling `reply` with each reply in order, and returns once the
    /// request is fully answered (its `done`, `error` or `status` reply sent). Never throws:
    /// every failure becomes an `error` reply.
    public func handle(_ message: Data, reply: @escaping @Sendable (ClientReply) -> Void) async {
        let request: ClientRequest
        do {
            request = try ClientRequest.decode(message, limits: limits)
        } catch {
            reply(.error(id: ClientRequest.bestEffortID(in: message, limits: limits), ClientAPIError(serviceError: error)))
            return
        }
        switch request {
        case .status(let id):
            reply(.status(id: id, await status()))
        case .act(let id, let act):
            guard let policy else {
                reply(.error(id: id, ClientAPIError(.unsupported, "this edge serves no robot policy (start it with --policy)")))
                return
            }
            do {
                reply(.actions(id: id, try await policy.act(act)))
            } catch {
                reply(.error(id: id, ClientAPIError(serviceError: error)))
            }
        case .complete(let id, let completion, let stream):
            do {
                let summary = try await service.complete(completion) { event in
                    if stream { reply(ClientReply(id: id, event: event)) }
                }
                reply(.done(id: id, summary: summary))
            } catch {
                reply(.error(id: id, ClientAPIError(serviceError: error)))
            }
        }
    }
}
