/// How a wall-clock control loop reaches its policy without blocking: send a request now, collect
/// whatever answers have arrived later. One transport belongs to the loop's thread.
public protocol ChunkTransport: AnyObject {
    /// Sends `request` (asking for `horizon` actions); must not block for the answer.
    /// - Throws: when the request cannot even be sent.
    func send(_ request: ChunkRequest, horizon: Int) throws
    /// Answers that have arrived since the last call, without waiting: the chunk, or why not.
    func poll() -> [(id: Int, outcome: Result<[Point2], any Error>)]
    /// The control mode the server named for answer `id`, if any (see the extension).
    func servedMode(of id: Int) -> ControlMode?
}

extension ChunkTransport {
    /// The control mode the server named for answer `id` (its selector's choice), if it names
    /// one; nil by default. Asked once, after `poll` returned the answer.
    public func servedMode(of id: Int) -> ControlMode? { nil }
}
