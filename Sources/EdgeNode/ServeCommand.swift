import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Split
import SplitCLI

/// `edge-node serve`: the edge daemon — local clients in, cloud nodes out.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve local clients, splitting the model with cloud nodes.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Layers [0, k) run here, the rest on the cloud (omit to run everything locally).")
    var splitLayer: Int?

    @Option(name: .long, help: "Activation encoding on the link: f32, f16, int8-32, int8-64.")
    var encoding: String = "f16"

    @Option(name: .long, help: "Cloud node endpoint, e.g. tcp://127.0.0.1:5555 (repeatable: sessions spread over the replicas and fail over between them).")
    var cloud: [String] = []

    @Option(name: .long, help: "Re-resolve --cloud host names to all their addresses this often, in seconds (a Kubernetes headless Service has one per ready replica); 0 resolves once at start.")
    var replicaRefreshSeconds: Double = 30

    @Option(name: .long, help: "Cloud public key file (one for all clouds, or one per --cloud, in order).")
    var cloudKey: [String] = []

    @Option(name: .long, help: "This edge's CURVE secret key file (make one with `edge-node keygen`).")
    var key: String?

    @Flag(name: .long, help: "Talk to clouds without CURVE (tests only).")
    var insecure = false

    @Option(name: .long, help: "Client API endpoint (repeatable): ipc:// or loopback tcp://.")
    var listen: [String] = ["ipc:///tmp/split-edge.sock"]

    @Option(name: .long, help: "Port of the OpenAI-compatible HTTP endpoint on 127.0.0.1 (0 = off).")
    var httpPort: Int = 8080

    @Option(name: .long, help: "Seconds an HTTP connection may wait for a complete request head before it is closed.")
    var httpIdleTimeout: Double = 30

    @Option(name: .long, help: "Seconds an HTTP request's body may take to arrive after its head (408 after).")
    var httpBodyTimeout: Double = 30

    @Option(name: .long, help: "Robot policy (.gguf with an action head) to serve `act` requests with (omit for none).")
    var policy: String?

    @Option(name: .long, help: "Policy layers [0, k) run here, the rest on --policy-cloud.")
    var policySplitLayer: Int?

    @Option(name: .long, help: "Cloud node serving the policy's tail (repeatable; failover in order; keys as for --cloud).")
    var policyCloud: [String] = []

    @Option(name: .long, help: "Generations served at once.")
    var workers: Int = 2

    @Option(name: .long, help: "Selection history (SQLite): every finished request is recorded, and requests naming no strategy get the selector's choice (act requests: the control mode, among those their quality admits).")
    var history: String?

    @Option(name: .long, help: "Records the history keeps (the oldest go first).")
    var historyRetention = 100_000

    @Option(name: .long, help: "Share of selected requests served with a random admitted strategy, so the history keeps covering the catalogue.")
    var exploration = 0.05

    @Flag(name: .long, help: "With --history: record only, serve unnamed requests with the default strategy.")
    var noSelect = false

    @Option(name: .long, help: "This edge's device profile, for selection and --plan-network (a name in profiles/devices or a YAML file).")
    var deviceProfile = "this-machine"

    @Option(name: .long, help: "The cloud's device profile, for selection and --plan-network.")
    var cloudProfile = "this-machine"

    @Option(name: .long, help: "Selection: the link's nominal network profile (its round trip is replaced by the measured one).")
    var networkProfile = "ethernet-lan"

    @Option(name: .long, help: "Directory holding devices/ and networks/.")
    var profiles = "profiles"

    @Option(name: .long, help: "Plan the split from profiles instead of --split-layer: the network profile assumed at start (a name in profiles/networks or a YAML file; devices from --device-profile and --cloud-profile); the edge re-plans when its measured round trips drift from it.")
    var planNetwork: String?

    @Option(name: .long, help: "Relative drift of the measured round trip or bandwidth that triggers a re-plan.")
    var replanThreshold = 0.5

    @Option(name: .long, help: "Lowest split layer the cloud nodes serve (their --min-split-layer), for --plan-network.")
    var cloudMinSplitLayer = 0

    @Flag(name: .long, help: "split-exit ends completions the model's trained stop rule judges wrong (its controller sidecar).")
    var stopRule = false

    @Flag(name: .long, help: "Infill prompts put the suffix before the prefix (SPM, as llama.cpp's --spm-infill): more of each prompt is reused while typing; the model must know SPM.")
    var spmInfill = false
    @Option(name: .long, help: "Exit heads from `edge-node train-exits` (default: <model>.exits.gguf next to the model, when there is one).")
    var exits: String?
    @Option(name: .long, help: "A Jinja chat template file for /v1/chat/completions, used instead of the model's tokenizer.chat_template (for a model without one).")
    var chatTemplate: String?

    func validate() throws {
        if !cloud.isEmpty && splitLayer == nil && planNetwork == nil { throw ValidationError("--cloud needs --split-layer or --plan-network") }
        if planNetwork != nil && cloud.isEmpty { throw ValidationError("--plan-network needs --cloud") }
        guard replanThreshold > 0, cloudMinSplitLayer >= 0 else {
            throw ValidationError("--replan-threshold must be positive and --cloud-min-split-layer at least 0")
        }
        if !cloud.isEmpty && !insecure {
            guard key != nil else { throw ValidationError("give --key (this edge's secret key) or --insecure") }
            guard cloudKey.count == 1 || cloudKey.count == cloud.count else {
                throw ValidationError("give one --cloud-key for all clouds or one per --cloud")
            }
        }
        guard replicaRefreshSeconds >= 0 else { throw ValidationError("--replica-refresh-seconds must be ≥ 0") }
        guard httpIdleTimeout > 0, httpIdleTimeout <= 86_400, httpBodyTimeout > 0, httpBodyTimeout <= 86_400 else {
            throw ValidationError("--http-idle-timeout and --http-body-timeout must be in (0, 86400] seconds")
        }
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be in 1…64") }
        guard ActivationEncoding(name: encoding) != nil else { throw ValidationError("unknown encoding \(encoding)") }
        guard exploration >= 0, exploration <= 1, historyRetention > 0 else {
            throw ValidationError("--exploration must be in [0, 1] and --history-retention positive")
        }
        if !policyCloud.isEmpty && (policy == nil || policySplitLayer == nil) {
            throw ValidationError("--policy-cloud needs --policy and --policy-split-layer")
        }
        if !policyCloud.isEmpty && !insecure {
            guard key != nil, cloudKey.count == 1 else {
                throw ValidationError("--policy-cloud needs --key and one --cloud-key (the clouds' shared public key) or --insecure")
            }
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "split.edge")
        if let threads = modelOptions.threads { Parallel.setThreads(threads) }
        var link: EdgeLinkConfiguration?
        if !cloud.isEmpty {
            let keys = insecure ? nil : try key.map { try CurveKeyPair.read(secretFile: $0) }
            let serverKeys = insecure ? [] : try cloudKey.map { try CurveKeyPair.readPublicKey(file: $0) }
            let endpoints = cloud.enumerated().map { index, address in
                CloudEndpoint(address: address, serverKey: insecure ? nil : serverKeys[serverKeys.count == 1 ? 0 : index])
            }
            link = EdgeLinkConfiguration(endpoints: endpoints, clientKeys: keys, clientName: ProcessInfo.processInfo.hostName)
            let directory = ReplicaDirectory(endpoints: endpoints, logger: logger)
            if directory.hasNames {
                directory.startRefreshing(everySeconds: replicaRefreshSeconds)
                link?.replicaDirectory = directory
            }
        }
        var policyLink: EdgeLinkConfiguration?
        if policy != nil {
            if !policyCloud.isEmpty {
                let keys = insecure ? nil : try key.map { try CurveKeyPair.read(secretFile: $0) }
                let serverKey = insecure ? nil : try cloudKey.first.map { try CurveKeyPair.readPublicKey(file: $0) }
                policyLink = EdgeLinkConfiguration(endpoints: policyCloud.map { CloudEndpoint(address: $0, serverKey: serverKey) },
                                                   clientKeys: keys, deadAfterSeconds: 0.5,
                                                   clientName: ProcessInfo.processInfo.hostName)
            }
        }
        var selection: EdgeSelection.Settings?
        if let history {
            let store = ProfileStore(directory: profiles)
            selection = EdgeSelection.Settings(
                history: try HistoryStore(path: history, retention: historyRetention), device: try store.device(deviceProfile),
                cloud: try store.device(cloudProfile), network: try store.network(networkProfile), explorationRate: exploration,
                selectsStrategies: !noSelect)
        }
        var replanning: LinkReplanner.Configuration?
        if let planNetwork {
            let store = ProfileStore(directory: profiles)
            replanning = LinkReplanner.Configuration(edge: try store.device(deviceProfile), cloud: try store.device(cloudProfile),
                                                     network: try store.network(planNetwork), lowestSplitLayer: cloudMinSplitLayer,
                                                     threshold: replanThreshold)
        }
        let policyConfiguration = policy.map { [selection] path in
            var configuration = PolicyService.Configuration(modelPath: path, splitLayer: policySplitLayer, link: policyLink)
            configuration.selection = selection  // the same history; the control strategies as candidates
            return configuration
        }
        var service = EdgeService.Configuration(modelPath: modelOptions.model, splitLayer: splitLayer,
                                                encoding: ActivationEncoding(name: encoding) ?? .f16, link: link, workers: workers,
                                                selection: selection, replanning: replanning, stopRule: stopRule, exitHeadsPath: exits)
        service.infillLayout = spmInfill ? .suffixPrefixMiddle : .prefixSuffixMiddle
        service.chatTemplate = try chatTemplate.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let daemon = try EdgeDaemon.build(
            EdgeDaemonConfiguration(
                service: service,
                policy: policyConfiguration, listen: listen,
                http: httpPort > 0 ? OpenAIServerConfiguration(port: httpPort, idleTimeoutSeconds: httpIdleTimeout,
                                                                 bodyTimeoutSeconds: httpBodyTimeout) : nil),
            logger: logger)
        logger.info("edge node serving", metadata: [
            "model": "\(modelOptions.model)", "strategy": "\(daemon.service.defaultStrategy)",
            "policy": "\(policy ?? "none") \(daemon.policy?.strategy ?? "")",
            "clients": "\(daemon.sockets.boundEndpoints)", "http": "\(httpPort)",
            "exit heads": "\(daemon.service.exitHeads.map { "layers \($0.adapters.keys.sorted()), rank \($0.rank)" } ?? "shared head")"])
        try await daemon.group.run()  // returns after SIGINT/SIGTERM, every part stopped
        logger.info("edge node stopped")
    }
}
