import Foundation
import Testing
@testable import Split

@Test("A CURVE key survives a Z85 round trip and its public key derives from its secret")
func curveKeyZ85RoundTrip() throws {
    let pair = try CurveKeyPair.generate()
    #expect(pair.publicKey.z85.count == 40)
    #expect(try CurveKey(z85: pair.publicKey.z85) == pair.publicKey)
    #expect(try CurveKeyPair(secretKey: pair.secretKey).publicKey == pair.publicKey)
    #expect(!pair.description.contains(pair.secretKey.z85))
    #expect(!"\(pair.secretKey)".contains(pair.secretKey.z85))
    #expect(pair.publicKey.fingerprint.count == 8)
}

@Test("Z85 matches the RFC 32 test vector and refuses text outside its alphabet")
func z85Vector() {
    #expect(Z85.encode([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]) == "HelloWorld")
    #expect(Z85.decode("HelloWorld") == [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
    #expect(Z85.decode("Hello World") == nil)
    #expect(Z85.decode("Hell~") == nil)
    #expect(throws: CurveKeyError.self) { try CurveKey(z85: "short") }
}

@Test("Key files round-trip, and the secret file is readable by its owner only")
func keyFilesRoundTrip() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("split-keys-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let secretPath = directory.appendingPathComponent("edge.key").path
    let publicPath = directory.appendingPathComponent("edge.pub").path
    let pair = try CurveKeyPair.generate()
    try pair.write(secretFile: secretPath, publicFile: publicPath)

    #expect(try CurveKeyPair.read(secretFile: secretPath) == pair)
    #expect(try CurveKeyPair.readPublicKey(file: publicPath) == pair.publicKey)
    let mode = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    #expect(!(try String(contentsOfFile: publicPath, encoding: .utf8)).contains("secret-key"))
    #expect(throws: CurveKeyError.self) { try CurveKeyPair.read(secretFile: publicPath) }
}
