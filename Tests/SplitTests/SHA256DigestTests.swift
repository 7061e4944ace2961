import Foundation
import Testing
@testable import Split

@Test("SHA-256 of \"abc\" is the FIPS 180-2 test vector")
func sha256OfABC() throws {
    let digest = try SHA256Digest.of(Array("abc".utf8))
    #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(try SHA256Digest(hex: digest.hex) == digest)
}

@Test("A file's digest, read through a memory map, equals the digest of its bytes")
func sha256OfFile() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("split-sha-\(UInt32.random(in: 0...UInt32.max))").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let bytes = (0..<(5 << 20) + 3).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    #expect(try SHA256Digest.ofFile(atPath: path) == SHA256Digest.of(bytes))

    try Data().write(to: URL(fileURLWithPath: path))
    #expect(try SHA256Digest.ofFile(atPath: path).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}

@Test("A missing file is an error naming the path")
func sha256OfMissingFile() {
    #expect(throws: DigestError.self) { try SHA256Digest.ofFile(atPath: "/nonexistent/split-model.gguf") }
}
