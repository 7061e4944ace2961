import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The cloud replicas an edge may use, kept current while it runs. A configured endpoint whose
/// host is a DNS name (a Kubernetes headless Service, say) stands for every address the name
/// resolves to, re-resolved periodically, so replicas that are added, become ready or go away
/// are picked up without restarting the edge. Endpoints with an IP address, or another transport
/// than tcp, are used as given. A failed or empty resolution keeps the last good list: DNS
/// trouble never takes replicas away from sessions.
public final class ReplicaDirectory: Sendable {
    /// Every address a host name resolves to (numeric, IPv6 without brackets).
    public typealias Resolver = @Sendable (_ host: String) throws -> [String]

    private struct State: Sendable {
        var endpoints: [CloudEndpoint]
        var version = 0
        /// The last good expansion of each configured endpoint that names a host.
        var resolved: [Int: [CloudEndpoint]] = [:]
    }

    /// The endpoints as configured.
    public let configured: [CloudEndpoint]
    private let resolver: Resolver
    private let state: Locked<State>
    private let stopped = Locked(false)
    private let logger: Logger

    /// - Parameter resolver: name → addresses; `ReplicaDirectory.systemResolver` (getaddrinfo)
    ///   by default, replaced in tests.
    public init(endpoints: [CloudEndpoint], resolver: @escaping Resolver = ReplicaDirectory.systemResolver,
                logger: Logger = Logger(label: "split.edge.replicas")) {
        configured = endpoints
        self.resolver = resolver
        self.logger = logger
        state = Locked(State(endpoints: endpoints))
    }

    /// The current endpoints and a number that changes whenever they do.
    public var current: (endpoints: [CloudEndpoint], version: Int) {
        state.withLock { ($0.endpoints, $0.version) }
    }

    /// Whether any configured endpoint names a host to resolve.
    public var hasNames: Bool { configured.contains { Self.hostName(in: $0.address) != nil } }

    /// Resolves every named endpoint now; returns whether the list changed.
    @discardableResult
    public func refresh() -> Bool {
        var resolved = state.withLock { $0.resolved }
        var expanded: [CloudEndpoint] = []
        for (index, endpoint) in configured.enumerated() {
            guard let (scheme, host, port) = Self.hostName(in: endpoint.address) else {
                expanded.append(endpoint)
                continue
            }
            do {
                let addresses = Array(Set(try resolver(host))).sorted()
                guard !addresses.isEmpty else { throw ReplicaDirectoryError.noAddresses(host) }
                resolved[index] = addresses.map {
                    CloudEndpoint(address: "\(scheme)://\($0.contains(":") ? "[\($0)]" : $0):\(port)", serverKey: endpoint.serverKey)
                }
            } catch {
                logger.warning("cannot resolve cloud replicas; keeping the last good list",
                               metadata: ["host": "\(host)", "error": "\(error)"])
            }
            // Until a first resolution succeeds the name itself is tried (ZeroMQ resolves it).
            expanded += resolved[index] ?? [endpoint]
        }
        var seen = Set<String>()
        expanded = expanded.filter { seen.insert($0.address).inserted }
        return state.withLock { state in
            state.resolved = resolved
            guard expanded != state.endpoints else { return false }
            logger.info("cloud replicas changed", metadata: [
                "from": "\(state.endpoints.map(\.address))", "to": "\(expanded.map(\.address))"])
            state.endpoints = expanded
            state.version += 1
            return true
        }
    }

    /// Re-resolves every `seconds` on a background thread until `stop()`.
    public func startRefreshing(everySeconds seconds: Double) {
        refresh()
        guard hasNames, seconds > 0 else { return }
        let thread = Thread { [self] in
            while !stopped.current {
                Thread.sleep(forTimeInterval: seconds)
                if stopped.current { break }
                refresh()
            }
        }
        thread.name = "split.replica-dns"
        thread.start()
    }

    /// Ends the background refresh.
    public func stop() { stopped.withLock { $0 = true } }

    /// (scheme, host, port) when `address` is tcp:// with a DNS name (not an IP literal or `*`).
    static func hostName(in address: String) -> (String, String, String)? {
        guard address.hasPrefix("tcp://") else { return nil }
        let rest = address.dropFirst("tcp://".count)
        guard !rest.hasPrefix("["), let colon = rest.lastIndex(of: ":") else { return nil }
        let host = String(rest[..<colon]), port = String(rest[rest.index(after: colon)...])
        guard !host.isEmpty, host != "*", !isNumericAddress(host) else { return nil }
        return ("tcp", host, port)
    }

    static func isNumericAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// getaddrinfo: every IPv4 and IPv6 address of `host` for a stream socket.
    public static let systemResolver: Resolver = { host in
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            throw ReplicaDirectoryError.resolution(host, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let info = entry?.pointee {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = info.ai_addr,
               getnameinfo(address, info.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(cString: buffer))
            }
            entry = info.ai_next
        }
        return addresses
    }
}

/// Why a replica name could not be resolved.
public enum ReplicaDirectoryError: Error, Sendable, CustomStringConvertible {
    case resolution(String, String)
    case noAddresses(String)

    public var description: String {
        switch self {
        case .resolution(let host, let reason): "cannot resolve \(host): \(reason)"
        case .noAddresses(let host): "\(host) resolved to no address"
        }
    }
}
