import Foundation
import Testing
@testable import Split

/// Built executables, found next to the test bundle (`swift build` puts them there).
enum Executables {
    static var directory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("cloud-node").path) {
            url.deleteLastPathComponent()
        }
        return url
    }

    /// The built executable `name`, or `name` itself when it is an absolute path (e.g. /usr/bin/curl).
    static func path(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        let candidate = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw ProcessError("\(name) is not built next to the tests; run `swift build` first")
        }
        return candidate
    }
}

struct ProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A daemon started for a test, killed when the test ends.
final class Daemon {
    let process = Process()
    let log: URL

    init(_ executable: String, _ arguments: [String], name: String) throws {
        process.executableURL = URL(fileURLWithPath: try Executables.path(executable))
        process.arguments = arguments
        log = FileManager.default.temporaryDirectory.appendingPathComponent("split-\(name)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Waits until the log contains `text` (the daemon says it is ready).
    func waitFor(_ text: String, timeoutSeconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let contents = try? String(contentsOf: log, encoding: .utf8), contents.contains(text) { return }
            guard process.isRunning else { throw ProcessError("daemon exited: \(output)") }
            usleep(50_000)
        }
        throw ProcessError("daemon did not print '\(text)' in \(timeoutSeconds) s: \(output)")
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// SIGKILL: no chance to clean up, as when a machine dies.
    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: log)
    }
}

/// A free loopback TCP port (bound and released; good enough for tests).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// What a command run to its end printed, and how it exited.
struct ToolRun {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

/// Runs a built executable to its end (killed after `timeoutSeconds`), capturing its output
/// in files so that a chatty command cannot fill a pipe and block.
func runTool(_ executable: String, _ arguments: [String], timeoutSeconds: Double = 30) throws -> ToolRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try Executables.path(executable))
    process.arguments = arguments
    let directory = FileManager.default.temporaryDirectory
    let outURL = directory.appendingPathComponent("split-run-\(UUID().uuidString).out")
    let errURL = directory.appendingPathComponent("split-run-\(UUID().uuidString).err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ProcessError("\(executable) \(arguments.joined(separator: " ")) did not finish in \(timeoutSeconds) s")
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return ToolRun(status: process.terminationStatus,
                   standardOutput: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                   standardError: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// Waits until something accepts TCP connections on loopback `port`.
func waitForPort(_ port: Int, timeoutSeconds: Double = 20) throws {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if connected == 0 { return }
        usleep(50_000)
    }
    throw ProcessError("nothing listens on 127.0.0.1:\(port) after \(timeoutSeconds) s")
}
