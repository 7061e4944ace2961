import Foundation

/// What ends a generation besides its token budget and stop strings: tokens that end it like
/// end-of-text does (a FIM model's file separator, end of turn, ...) and a cancellation flag
/// that a client's disconnect sets. Every decoding loop checks both once per token.
public struct GenerationBounds: Sendable {
    /// Tokens that end the generation without being emitted, besides the tokenizer's EOS.
    public var endTokens: [Int32]
    /// Set from another thread to stop the generation before its next token.
    public var cancellation: CancellationFlag?

    /// Bounds with extra `endTokens` and an optional `cancellation` flag.
    public init(endTokens: [Int32] = [], cancellation: CancellationFlag? = nil) {
        self.endTokens = endTokens
        self.cancellation = cancellation
    }

    /// No extra end tokens, no cancellation.
    public static let none = GenerationBounds()

    /// Whether `token` ends the generation (it is one of `endTokens`).
    func ends(at token: Int32) -> Bool { endTokens.contains(token) }

    /// Whether the generation has been cancelled.
    var isCancelled: Bool { cancellation?.isCancelled ?? false }
}

/// Why a generation was cancelled.
public enum CancellationReason: String, Sendable {
    /// Its client closed the connection or cancelled the call.
    case clientGone = "client_gone"
    /// A newer request on the same slot took its place (issue 19).
    case superseded
}

/// A flag one thread sets and a decoding loop polls between tokens: how a client that went
/// away, or a newer request on the same slot, stops the worker generating for it.
public final class CancellationFlag: @unchecked Sendable {
    // Safe to send: the flag is only read and written under `lock`.
    private let lock = NSLock()
    private var why: CancellationReason?

    /// A flag not yet set.
    public init() {}

    /// Sets the flag; later calls do nothing (the first reason stays).
    public func cancel(_ reason: CancellationReason = .clientGone) {
        lock.lock()
        if why == nil { why = reason }
        lock.unlock()
    }

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool { reason != nil }

    /// Why the flag was set; nil while it is not.
    public var reason: CancellationReason? {
        lock.lock()
        defer { lock.unlock() }
        return why
    }
}
