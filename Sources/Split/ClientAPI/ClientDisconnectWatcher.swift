import Hummingbird
import NIOCore

/// Tells a route when its client has gone: a channel handler that sees the connection's input
/// close (the client shut its side or disconnected) or the channel go inactive, and runs the
/// callbacks registered for the request in flight. A non-streamed completion writes nothing
/// until its end, so without this it could not notice the client that stopped waiting.
/// A client that half-closes on purpose after its request counts as gone, as it does for
/// llama.cpp's `is_connection_closed`.
final class ClientDisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    // Safe to send: `gone` and `callbacks` are only touched on the channel's event loop
    // (`whenGone` hops there).
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    private var gone = false
    private var callbacks: [@Sendable () -> Void] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        markGone()
        context.fireChannelInactive()
    }

    private func markGone() {
        guard !gone else { return }
        gone = true
        let pending = callbacks
        callbacks.removeAll()
        for callback in pending { callback() }
    }

    /// Drops the callbacks of the request that just finished on `channel`: requests on one
    /// HTTP/1 connection come one after another, and a kept-alive connection serving an
    /// editor's thousands of requests must not keep a callback for each.
    static func forgetCallbacks(of channel: any Channel) {
        channel.pipeline.handler(type: ClientDisconnectWatcher.self).whenSuccess { watcher in
            watcher.callbacks.removeAll()
        }
    }

    /// Runs `callback` once when the client goes (at once if it already has) on `channel`'s
    /// event loop; nothing when the channel has no watcher.
    static func whenGone(of channel: any Channel, _ callback: @escaping @Sendable () -> Void) {
        channel.pipeline.handler(type: ClientDisconnectWatcher.self).whenSuccess { watcher in
            if watcher.gone { callback() } else { watcher.callbacks.append(callback) }
        }
    }
}

/// The request context of Split's HTTP routes: Hummingbird's basic context plus the request's
/// channel, so a route can watch for its client going away.
struct SplitRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
