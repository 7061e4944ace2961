import ArgumentParser
import Foundation
import Split

/// `edge-node complete`: a client of a running edge node's socket API; streams the completion.
struct CompleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "complete", abstract: "Ask a running edge node for a completion.")

    @Option(name: .long, help: "The edge node's client API endpoint.")
    var connect: String = "ipc:///tmp/split-edge.sock"

    @Option(name: .long, help: "Prompt text.")
    var prompt: String

    @Option(name: .long, help: "Maximum tokens to generate.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Strategy override, e.g. local or split(k=4,f16).")
    var strategy: String?

    @Option(name: .long, help: "Seconds to wait for the answer.")
    var timeout: Double = 120

    func run() throws {
        let context = try ZMQContext()
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.setOption(.linger(milliseconds: 0))
        try socket.setOption(.receiveTimeout(milliseconds: Int32(timeout * 1000)))
        try socket.connect(connect)
        let request = ClientRequest.complete(
            id: "cli-1", request: CompletionRequest(prompt: prompt, maxTokens: maxTokens, strategy: strategy), stream: true)
        _ = try socket.send(request.encoded())
        let output = FileHandle.standardOutput
        output.write(Data(prompt.utf8))
        while true {
            guard let frame = try socket.receiveData() else {
                throw ValidationError("no answer from \(connect) within \(timeout) s")
            }
            switch try ClientReply.decode(frame.frame) {
            case .token(_, let text, _, _):
                output.write(Data(text.utf8))
            case .done(_, let summary):
                output.write(Data("\n".utf8))
                FileHandle.standardError.write(Data(String(
                    format: "[%@] %d prompt + %d generated tokens, first token %.0f ms, total %.2f s%@\n",
                    summary.strategy, summary.promptTokenCount, summary.completionTokenCount,
                    summary.timeToFirstTokenSeconds * 1000, summary.totalSeconds, summary.degraded ? " (DEGRADED: edge only)" : "").utf8))
                if let counts = summary.counts {
                    FileHandle.standardError.write(Data(String(
                        format: "[split] edge-answered %.0f%%, drafts accepted %d/%d, %.2f round trips/token, finish %@\n",
                        counts.edgeAnsweredFraction * 100, counts.acceptedDrafts, counts.drafted, counts.roundTripsPerToken,
                        summary.finishReason.wireName).utf8))
                }
                return
            case .error(_, let error):
                throw ValidationError("edge node: \(error.message)")
            case .status, .actions:
                continue
            }
        }
    }
}
