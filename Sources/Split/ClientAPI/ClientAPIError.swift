/// Why a client's request was refused or failed, in the words both client APIs (ZeroMQ and
/// HTTP) send back: a stable machine-readable `code`, a message for people, and the request
/// field it concerns when there is one.
public struct ClientAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure a client can see. The raw value is the `code` sent on the wire.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// The message is not JSON, or not a JSON object.
        case invalidJSON = "invalid_json"
        /// A field is missing, has the wrong type, or is out of range.
        case invalidRequest = "invalid_request"
        /// The message or one of its fields is larger than the server accepts.
        case tooLarge = "too_large"
        /// The request asks for something this server does not do (e.g. `n` > 1).
        case unsupported = "unsupported"
        /// No such route or request type.
        case notFound = "not_found"
        /// No cloud node is reachable and the request did not allow an edge-only answer.
        case cloudUnavailable = "cloud_unavailable"
        /// The node is busy; try again later.
        case overloaded = "overloaded"
        /// The client took too long to send its request (a slow or stalled body).
        case requestTimeout = "request_timeout"
        /// A fault inside the node; the request may be retried.
        case internalError = "internal_error"
        /// A newer request on the same slot (`id_slot`) replaced this one, which was stopped.
        case cancelled = "cancelled"
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence a user can act on.
    public var message: String
    /// The request field at fault (`"max_tokens"`), when one is.
    public var parameter: String?

    /// Makes an error; `parameter` names the request field at fault, if any.
    public init(_ code: Code, _ message: String, parameter: String? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    /// `code: message`, as it would be logged.
    public var description: String { "\(code.rawValue): \(message)" }

    /// The client-facing form of any error a `CompletionService` throws. Errors that are not
    /// `CompletionError` or `ClientAPIError` become `internalError` carrying their description,
    /// so nothing a service throws reaches a client without a code.
    public init(serviceError error: any Error) {
        switch error {
        case let error as ClientAPIError:
            self = error
        case let error as CompletionError:
            switch error {
            case .invalidRequest(let message): self.init(.invalidRequest, message)
            case .cloudUnavailable(let message): self.init(.cloudUnavailable, "cloud unavailable: \(message)")
            case .overloaded(let message): self.init(.overloaded, "overloaded: \(message)")
            case .internalError(let message): self.init(.internalError, "internal error: \(message)")
            case .superseded(let message): self.init(.cancelled, "cancelled: \(message)")
            }
        case let error as FIMError:
            self.init(.unsupported, error.description)
        case let error as ChatTemplateError:
            switch error {
            // The conversation is at fault (the template's own raise_exception), or the model has no template.
            case .raised: self.init(.invalidRequest, error.description, parameter: "messages")
            case .noTemplate: self.init(.unsupported, error.description, parameter: "messages")
            // The model's template is at fault: a server-side problem, named.
            case .syntax, .unsupported, .runtime: self.init(.internalError, error.description)
            }
        case is CancellationError:
            self.init(.internalError, "the completion was cancelled")
        default:
            self.init(.internalError, "internal error: \(error)")
        }
    }
}
