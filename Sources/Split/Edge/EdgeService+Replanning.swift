import Foundation

// Re-planning from the measured link (issue 6).
extension EdgeService {
    /// The link a generator split at `k` uses: its round trips also feed the re-planner.
    func observed(_ link: EdgeLinkConfiguration, splitLayer k: Int) -> EdgeLinkConfiguration {
        guard replanner != nil else { return link }
        var link = link
        let record = link.onRoundTrip
        link.onRoundTrip = { [weak self] trip in
            record?(trip)
            guard let self, let replanner = self.replanner else { return }
            self.apply(replanner.observe(trip, splitLayer: k))
        }
        return link
    }

    /// Puts a re-plan in force for new sessions: counters, metrics and a log line.
    func apply(_ replan: LinkReplanner.Replan?) {
        guard let replan else { return }
        counters.withLock {
            $0.replans += 1
            $0.lastReplan = replan
        }
        metrics.replans.increment()
        metrics.planSplitLayer.set(to: Double(replan.splitLayer))
        metrics.linkRoundTripSeconds.set(to: replan.roundTripSeconds)
        metrics.linkBitsPerSecond.set(to: replan.bitsPerSecond)
        logger.notice("the link drifted; re-planned the split for new sessions", metadata: [
            "from": "\(replan.previousStrategy)", "to": "\(replan.strategy)",
            "round_trip_ms": "\(String(format: "%.1f", replan.roundTripSeconds * 1e3))",
            "mbit_per_s": "\(String(format: "%.1f", replan.bitsPerSecond / 1e6))",
            "predicted_ms_per_token": "\(String(format: "%.2f", replan.predictedDecodeSeconds * 1e3))"])
    }

    /// While the plan is local no round trips happen, so a thread pings the first cloud now and
    /// then (heartbeats: no model work) and lets the re-planner split again when the link allows.
    func startLinkProbe() {
        guard let replanner, let link = configuration.link,
              let endpoint = (link.replicaDirectory?.current.endpoints ?? link.endpoints).first,
              let interval = configuration.replanning?.probeIntervalSeconds, interval > 0 else { return }
        let local = model.configuration.layerCount
        threads.enter()
        let thread = Thread { [weak self, context, threads, stopping] in
            defer { threads.leave() }
            // The probe's own socket, confined to this thread.
            var connection: CloudConnection?
            defer { connection?.close() }
            while true {
                // Sleeps in short slices so that `stop()` is not held up by a long interval.
                let wake = Date().addingTimeInterval(interval)
                while Date() < wake, !stopping.current { Thread.sleep(forTimeInterval: min(0.05, interval)) }
                guard let self, !stopping.current else { return }
                guard replanner.choice.splitLayer == local else {
                    connection?.close()
                    connection = nil
                    continue
                }
                do {
                    if connection == nil {
                        let opened = try CloudConnection(context: context, endpoint: endpoint, configuration: link)
                        connection = opened
                        _ = try opened.ping()  // the first pays the connection's set-up
                    }
                    for _ in 0..<Self.probePings {
                        guard let connection else { break }
                        self.apply(replanner.observe(pingSeconds: try connection.ping()))
                    }
                } catch {
                    self.logger.debug("link probe failed", metadata: ["error": "\(error)"])
                    connection?.close()
                    connection = nil
                }
            }
        }
        thread.name = "split-edge-link-probe"
        thread.start()
    }

    /// Pings per probe: enough for the drift monitor's median within two probes.
    static let probePings = 3
}
