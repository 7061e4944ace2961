import Foundation

/// A `ChunkTransport` over the edge node's socket API: each request is a JSON `act` message on
/// a DEALER socket, each answer an `actions` (or `error`) reply, matched by id.
public final class EdgeActClient: ChunkTransport {
    private let socket: ZMQSocket
    /// The edge endpoint, e.g. `ipc:///tmp/split-edge.sock`.
    public let endpoint: String
    /// The quality every request states (nil: the edge's default, exact).
    public let quality: String?
    /// How many answers named each strategy (the edge's choice per request, see `ActReply.strategy`).
    public private(set) var strategiesServed: [String: Int] = [:]
    /// The control mode named in each answer not yet asked about (`servedMode(of:)`).
    private var modesServed: [Int: ControlMode] = [:]

    /// Connects to the edge at `endpoint` (ZeroMQ connects in the background).
    /// - Throws: `ZMQError` for a malformed endpoint.
    public init(context: ZMQContext, endpoint: String, quality: String? = nil) throws {
        self.endpoint = endpoint
        self.quality = quality
        socket = try context.socket(.dealer)
        try socket.setOption(.linger(milliseconds: 0))
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    public func send(_ request: ChunkRequest, horizon: Int) throws {
        let target = [request.target.x, request.target.y] + (request.next.map { [$0.x, $0.y] } ?? [])
        let act = ActRequest(state: request.state.vector, target: target, horizon: horizon, quality: quality)
        guard try socket.send(ClientRequest.act(id: String(request.id), act).encoded(), flags: .dontWait) else {
            throw ControlError.invalidRequest("the edge at \(endpoint) is not accepting requests")
        }
    }

    public func servedMode(of id: Int) -> ControlMode? { modesServed.removeValue(forKey: id) }

    public func poll() -> [(id: Int, outcome: Result<[Point2], any Error>)] {
        var answers: [(id: Int, outcome: Result<[Point2], any Error>)] = []
        while let frame = try? socket.receiveData(flags: .dontWait) {
            guard let reply = try? ClientReply.decode(frame.frame) else { continue }
            switch reply {
            case .actions(let id, let chunk):
                guard let number = Int(id) else { continue }
                strategiesServed[chunk.strategy, default: 0] += 1
                if case .control(let mode, _)? = try? Strategy.parse(chunk.strategy, default: "local") { modesServed[number] = mode }
                let commands = chunk.actions.compactMap { $0.count == 2 && $0.allSatisfy(\.isFinite) ? Point2($0[0], $0[1]) : nil }
                answers.append((number, commands.count == chunk.actions.count && !commands.isEmpty
                    ? .success(commands) : .failure(ControlError.badChunk("the edge sent malformed actions"))))
            case .error(let id, let error):
                guard let id, let number = Int(id) else { continue }
                answers.append((number, .failure(error)))
            case .token, .done, .status:
                continue
            }
        }
        return answers
    }
}
