import ArgumentParser
import Split

/// `edge-node keygen`: makes this edge's CURVE key pair; the public file goes on the clouds' allow-lists.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keygen", abstract: "Make a CURVE key pair.")

    @Option(name: .long, help: "Where to write the secret key (mode 0600).")
    var secretFile: String = "edge.key"

    @Option(name: .long, help: "Where to write the public key, for the clouds' --allow lists.")
    var publicFile: String = "edge.pub"

    func run() throws {
        let pair = try CurveKeyPair.generate()
        try pair.write(secretFile: secretFile, publicFile: publicFile)
        print("public key \(pair.publicKey.z85) written to \(publicFile); secret key in \(secretFile)")
    }
}
