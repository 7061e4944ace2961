import Foundation
@testable import Split

/// The product as a user runs it: key files made by the `keygen` commands, `cloud-node serve`
/// and `edge-node serve` processes, and the edge's client endpoints.
struct DaemonStack {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")

    /// Key files in a temporary directory, made by `cloud-node keygen` and `edge-node keygen`.
    struct KeyFiles {
        let directory: URL
        var cloudSecret: String { directory.appendingPathComponent("cloud.key").path }
        var cloudPublic: String { directory.appendingPathComponent("cloud.pub").path }
        var edgeSecret: String { directory.appendingPathComponent("edge.key").path }
        var edgePublic: String { directory.appendingPathComponent("edge.pub").path }

        /// - Throws: when a keygen command fails.
        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("split-daemon-keys-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (tool, secret, publicFile) in [("cloud-node", cloudSecret, cloudPublic), ("edge-node", edgeSecret, edgePublic)] {
                let run = try runTool(tool, ["keygen", "--secret-file", secret, "--public-file", publicFile])
                guard run.status == 0 else { throw ProcessError("\(tool) keygen failed: \(run.standardError)") }
            }
        }
    }

    /// Starts `cloud-node serve` on loopback `port` and waits until it serves; with `httpPort`,
    /// also its metrics/health endpoint.
    static func startCloud(_ keys: KeyFiles, port: Int, httpPort: Int? = nil) throws -> Daemon {
        var arguments = ["serve", "--model", modelPath, "--bind", "tcp://127.0.0.1:\(port)",
                         "--key", keys.cloudSecret, "--allow", keys.edgePublic, "--threads", "1"]
        if let httpPort { arguments += ["--http-port", "\(httpPort)"] }
        let daemon = try Daemon("cloud-node", arguments, name: "cloud-\(port)")
        try daemon.waitFor("serving")
        if let httpPort { try waitForPort(httpPort) }
        return daemon
    }

    /// A running `edge-node serve` and where its clients reach it.
    struct Edge {
        let daemon: Daemon
        let socketEndpoint: String
        let httpPort: Int
        var completionsURL: String { "http://127.0.0.1:\(httpPort)/v1/completions" }
    }

    /// How an edge proves itself to the clouds.
    enum EdgeIdentity {
        /// The key pair on the clouds' allow-list.
        case allowListed
        /// Another key pair (a secret key file).
        case stranger(secretFile: String)
        /// No CURVE at all (`--insecure`).
        case plaintext
    }

    /// Starts `edge-node serve` splitting at `splitLayer` (f32 on the link) with the clouds on
    /// `cloudPorts`, in failover order, and one worker so requests run one after another.
    /// `socket` and `httpPort` reuse a previous edge's addresses (a restart).
    static func startEdge(_ keys: KeyFiles, splitLayer: Int, cloudPorts: [Int],
                          identity: EdgeIdentity = .allowListed, socket: String? = nil, httpPort: Int? = nil) throws -> Edge {
        let socket = socket ?? "ipc:///tmp/split-edge-test-\(UUID().uuidString.prefix(8)).sock"
        let httpPort = httpPort ?? freePort()
        var arguments = ["serve", "--model", modelPath, "--split-layer", "\(splitLayer)", "--encoding", "f32",
                         "--listen", socket, "--http-port", "\(httpPort)", "--workers", "1", "--threads", "1"]
        switch identity {
        case .allowListed: arguments += ["--key", keys.edgeSecret, "--cloud-key", keys.cloudPublic]
        case .stranger(let secretFile): arguments += ["--key", secretFile, "--cloud-key", keys.cloudPublic]
        case .plaintext: arguments += ["--insecure"]
        }
        for port in cloudPorts { arguments += ["--cloud", "tcp://127.0.0.1:\(port)"] }
        let daemon = try Daemon("edge-node", arguments, name: "edge-\(httpPort)")
        try daemon.waitFor("edge node serving")
        // The HTTP server starts after that line is logged.
        try waitForPort(httpPort)
        return Edge(daemon: daemon, socketEndpoint: socket, httpPort: httpPort)
    }

    /// New keys, one cloud, and an edge splitting at `splitLayer` in front of it.
    static func startCloudAndEdge(splitLayer: Int) throws -> (cloud: Daemon, edge: Edge) {
        let keys = try KeyFiles()
        let port = freePort()
        let cloud = try startCloud(keys, port: port)
        do {
            return (cloud, try startEdge(keys, splitLayer: splitLayer, cloudPorts: [port]))
        } catch {
            cloud.kill9()
            throw error
        }
    }

    /// What `edge-node generate` (the whole model, locally, greedy) prints after the prompt.
    static func localCompletion(prompt: String, maxTokens: Int) throws -> String {
        let run = try runTool("edge-node", ["generate", "--model", modelPath, "--prompt", prompt,
                                            "--max-tokens", "\(maxTokens)", "--threads", "1"])
        guard run.status == 0 else { throw ProcessError("edge-node generate failed: \(run.standardError)") }
        return try completion(of: run.standardOutput, prompt: prompt)
    }

    /// The completion in what `generate` or `complete` printed: the prompt, the text, a newline.
    static func completion(of output: String, prompt: String) throws -> String {
        guard output.hasPrefix(prompt), output.hasSuffix("\n") else {
            throw ProcessError("unexpected output: \(output.debugDescription)")
        }
        return String(output.dropFirst(prompt.count).dropLast())
    }

    /// A JSON body for `POST /v1/completions`.
    static func completionBody(prompt: String, maxTokens: Int, stream: Bool, extra: [String: Any] = [:]) throws -> String {
        var object: [String: Any] = ["model": "model.gguf", "prompt": prompt, "max_tokens": maxTokens,
                                     "temperature": 0, "stream": stream]
        object.merge(extra) { _, new in new }
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// What `curl` got back from a `POST` of `body`: the HTTP status and the body.
    static func curl(_ url: String, body: String, timeoutSeconds: Int = 30) throws -> (status: Int, body: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "-m", "\(timeoutSeconds)", "-X", "POST", url, "-H", "Content-Type: application/json",
                             "--data-binary", body, "-w", "\n%{http_code}"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let split = text.range(of: "\n", options: .backwards),
              let status = Int(text[split.upperBound...]) else {
            throw ProcessError("curl failed (\(process.terminationStatus)): \(text)")
        }
        return (status, String(text[..<split.lowerBound]))
    }

    /// What `curl` got back from a `GET`: the HTTP status and the body.
    static func get(_ url: String, timeoutSeconds: Int = 10) throws -> (status: Int, body: String) {
        let run = try runTool("/usr/bin/curl", ["-sS", "-m", "\(timeoutSeconds)", url, "-w", "\n%{http_code}"],
                              timeoutSeconds: Double(timeoutSeconds + 5))
        guard run.status == 0, let split = run.standardOutput.range(of: "\n", options: .backwards),
              let status = Int(run.standardOutput[split.upperBound...]) else {
            throw ProcessError("curl \(url) failed (\(run.status)): \(run.standardError)")
        }
        return (status, String(run.standardOutput[..<split.lowerBound]))
    }

    /// The value of the Prometheus sample whose name and labels are `series` (e.g.
    /// `split_edge_requests_total{outcome="completed"}`) in an exposition text.
    static func sample(_ exposition: String, _ series: String) -> Double? {
        MetricsExposition.value(of: series, in: exposition)
    }

    /// A JSON object's value at `path` of keys and indices.
    static func field(_ json: String, _ path: Any...) -> Any? {
        var value: Any? = try? JSONSerialization.jsonObject(with: Data(json.utf8))
        for step in path {
            if let key = step as? String { value = (value as? [String: Any])?[key] }
            if let index = step as? Int {
                guard let array = value as? [Any], array.indices.contains(index) else { return nil }
                value = array[index]
            }
        }
        return value
    }

    /// The text of a streamed (server-sent events) completion, and whether it ended with
    /// `[DONE]`; also the last chunk (the one with `usage` and `split`).
    static func streamedText(_ events: String) -> (text: String, done: Bool, last: String?) {
        var text = ""
        var done = false
        var last: String?
        for line in events.split(separator: "\n") where line.hasPrefix("data: ") {
            let payload = String(line.dropFirst("data: ".count))
            if payload == "[DONE]" { done = true; continue }
            text += field(payload, "choices", 0, "text") as? String ?? ""
            last = payload
        }
        return (text, done, last)
    }
}
