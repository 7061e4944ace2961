import Foundation
import Testing
@testable import Split

@Suite("YAML configuration files")
struct ConfigurationFileTests {
    @Test("a YAML file becomes options placed after the subcommand and before the command line's own")
    func expands() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.write(Array("""
            model: models/code.gguf
            bind: [tcp://127.0.0.1:5555, ipc:///tmp/cloud.sock]
            insecure: true
            memory_budget_mb: 512
            verbose: false
            """.utf8), to: "cloud.yaml")
        let expanded = try ConfigurationFile.expand(["serve", "--config", path, "--threads", "1"])
        #expect(expanded == ["serve", "--bind", "tcp://127.0.0.1:5555", "--bind", "ipc:///tmp/cloud.sock", "--insecure",
                             "--memory-budget-mb", "512", "--model", "models/code.gguf", "--threads", "1"])
        #expect(try ConfigurationFile.expand(["serve", "--threads", "1"]) == ["serve", "--threads", "1"])
    }

    @Test("a bad configuration file is refused with a message naming it")
    func refusesBadFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let list = directory.write(Array("- just\n- a list\n".utf8), to: "list.yaml")
        let nested = directory.write(Array("bind:\n  inner: {a: 1}\n".utf8), to: "nested.yaml")
        #expect(throws: ConfigurationFile.Failure.self) { try ConfigurationFile.expand(["--config", list]) }
        #expect(throws: ConfigurationFile.Failure.self) { try ConfigurationFile.expand(["--config", nested]) }
        #expect(throws: ConfigurationFile.Failure.self) { try ConfigurationFile.expand(["--config", directory.file("missing.yaml")]) }
        #expect(throws: ConfigurationFile.Failure.self) { try ConfigurationFile.expand(["serve", "--config"]) }
    }
}
