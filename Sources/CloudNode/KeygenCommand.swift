import ArgumentParser
import Split

/// `cloud-node keygen`: makes this node's CURVE key pair.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keygen", abstract: "Make a CURVE key pair.")

    @Option(name: .long, help: "Where to write the secret key (mode 0600).")
    var secretFile: String = "cloud.key"

    @Option(name: .long, help: "Where to write the public key, for edges' configuration.")
    var publicFile: String = "cloud.pub"

    func run() throws {
        let pair = try CurveKeyPair.generate()
        try pair.write(secretFile: secretFile, publicFile: publicFile)
        print("public key \(pair.publicKey.z85) written to \(publicFile); secret key in \(secretFile)")
    }
}
