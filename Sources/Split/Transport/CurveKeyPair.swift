import CZMQ
import Foundation

/// A 32-byte CURVE key (public or secret), printable as 40 characters of Z85 (ZeroMQ RFC 32).
/// Its `description` is only a fingerprint, so logging a secret key does not leak it; use `z85`
/// to write a key out.
public struct CurveKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The raw key.
    public let bytes: [UInt8]

    /// Wraps 32 raw bytes.
    /// - Throws: `CurveKeyError.wrongLength` for any other length.
    public init(bytes: [UInt8]) throws(CurveKeyError) {
        guard bytes.count == 32 else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
    }

    /// Parses 40 characters of Z85.
    /// - Throws: `CurveKeyError.invalidZ85` when the text is not a Z85 key.
    public init(z85: String) throws(CurveKeyError) {
        guard z85.utf8.count == 40, let bytes = Z85.decode(z85) else { throw .invalidZ85(z85) }
        self.bytes = bytes
    }

    /// The key as 40 characters of Z85.
    public var z85: String {
        // 32 bytes are a whole number of 4-byte groups, so encoding cannot fail.
        Z85.encode(bytes) ?? ""
    }

    /// The first 8 hex digits of the key's SHA-256: enough to tell keys apart in logs.
    public var fingerprint: String {
        String(((try? SHA256Digest.of(bytes))?.hex ?? "").prefix(8))
    }

    public var description: String { "CurveKey(sha256:\(fingerprint))" }
    /// The same fingerprint as `description`.
    public var debugDescription: String { description }
}

/// Why a CURVE key or key file was refused.
public enum CurveKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Raw key bytes of the wrong length (a key has 32).
    case wrongLength(Int)
    /// Text that is not 40 characters of Z85.
    case invalidZ85(String)
    /// libzmq refused (e.g. built without CURVE).
    case libzmq(ZMQError)
    /// A key file could not be read or written.
    case unreadableFile(path: String, reason: String)
    /// A key file was read but does not hold valid keys.
    case malformedFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .wrongLength(let n): return "a CURVE key has 32 bytes, not \(n)"
        case .invalidZ85(let text): return "not a 40-character Z85 CURVE key: \"\(text.prefix(48))\""
        case .libzmq(let error): return "CURVE key operation failed: \(error)"
        case .unreadableFile(let path, let reason): return "cannot use key file \(path): \(reason)"
        case .malformedFile(let path, let reason): return "key file \(path) is malformed: \(reason)"
        }
    }
}

/// Z85 text encoding of binary data (ZeroMQ RFC 32), through libzmq.
public enum Z85 {
    /// Encodes `bytes` (length a multiple of 4); nil otherwise.
    public static func encode(_ bytes: [UInt8]) -> String? {
        guard bytes.count % 4 == 0 else { return nil }
        var text = [CChar](repeating: 0, count: bytes.count / 4 * 5 + 1)
        guard zmq_z85_encode(&text, bytes, bytes.count) != nil else { return nil }
        return String(nulTerminated: text)
    }

    /// Decodes Z85 `text` (length a multiple of 5); nil when it is not valid Z85.
    public static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 5 == 0 else { return nil }
        // libzmq does not reject characters outside the alphabet, so check them here.
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
        guard characters.allSatisfy(alphabet.contains) else { return nil }
        var bytes = [UInt8](repeating: 0, count: characters.count / 5 * 4)
        let ok = text.withCString { zmq_z85_decode(&bytes, $0) != nil }
        return ok ? bytes : nil
    }
}

/// A CURVE long-term key pair, for a cloud node (server) or an edge node (client).
///
/// Key files are UTF-8 text, one `name: value` line per key, `#` comments allowed:
///
///     # Split CURVE key pair — keep this file secret
///     public-key: <40 Z85 characters>
///     secret-key: <40 Z85 characters>
///
/// A public key file holds only the `public-key` line. Secret files are written with mode 0600.
public struct CurveKeyPair: Sendable, Equatable, CustomStringConvertible {
    /// The key a peer uses to recognise us (shared freely).
    public let publicKey: CurveKey
    /// The key that proves we own `publicKey` (never leaves this machine).
    public let secretKey: CurveKey

    /// A new random key pair from `zmq_curve_keypair`.
    /// - Throws: `CurveKeyError.libzmq` when libzmq was built without CURVE.
    public static func generate() throws(CurveKeyError) -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        do {
            try zmqCheck("zmq_curve_keypair") { zmq_curve_keypair(&publicText, &secretText) }
        } catch {
            throw .libzmq(error)
        }
        return CurveKeyPair(
            publicKey: try CurveKey(z85: String(nulTerminated: publicText)),
            secretKey: try CurveKey(z85: String(nulTerminated: secretText)))
    }

    /// The key pair of `secretKey`, deriving the public key with `zmq_curve_public`.
    /// - Throws: `CurveKeyError.libzmq` when libzmq was built without CURVE.
    public init(secretKey: CurveKey) throws(CurveKeyError) {
        var publicText = [CChar](repeating: 0, count: 41)
        let secretText = secretKey.z85
        do {
            try zmqCheck("zmq_curve_public") { zmq_curve_public(&publicText, secretText) }
        } catch {
            throw .libzmq(error)
        }
        self.publicKey = try CurveKey(z85: String(nulTerminated: publicText))
        self.secretKey = secretKey
    }

    private init(publicKey: CurveKey, secretKey: CurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Shows only the public key, so that logging a key pair never leaks the secret.
    public var description: String { "CurveKeyPair(public: \(publicKey.z85))" }

    /// Writes the secret file (mode 0600, both keys) and, when given, the public file.
    /// - Throws: `CurveKeyError.unreadableFile` naming the path that could not be written.
    public func write(secretFile: String, publicFile: String? = nil) throws(CurveKeyError) {
        let header = "# Split CURVE key pair (Z85, ZeroMQ RFC 32) — keep this file secret\n"
        let secretText = header + "public-key: \(publicKey.z85)\nsecret-key: \(secretKey.z85)\n"
        try Self.writeFile(secretText, to: secretFile, mode: 0o600)
        if let publicFile {
            let publicText = "# Split CURVE public key (Z85, ZeroMQ RFC 32)\npublic-key: \(publicKey.z85)\n"
            try Self.writeFile(publicText, to: publicFile, mode: 0o644)
        }
    }

    /// Reads a secret key file and checks that its public key belongs to its secret key.
    /// - Throws: `CurveKeyError` naming the file and what is wrong with it.
    public static func read(secretFile path: String) throws(CurveKeyError) -> CurveKeyPair {
        let fields = try readFields(path)
        guard let secretText = fields["secret-key"] else { throw .malformedFile(path: path, reason: "no secret-key line") }
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair(secretKey: try CurveKey(z85: secretText))
        } catch {
            throw .malformedFile(path: path, reason: "secret-key: \(error)")
        }
        if let listed = fields["public-key"], listed != pair.publicKey.z85 {
            throw .malformedFile(path: path, reason: "public-key does not belong to secret-key")
        }
        return pair
    }

    /// Reads the public key from a public or secret key file.
    /// - Throws: `CurveKeyError` naming the file and what is wrong with it.
    public static func readPublicKey(file path: String) throws(CurveKeyError) -> CurveKey {
        guard let text = try readFields(path)["public-key"] else {
            throw .malformedFile(path: path, reason: "no public-key line")
        }
        do {
            return try CurveKey(z85: text)
        } catch {
            throw .malformedFile(path: path, reason: "public-key: \(error)")
        }
    }

    private static func readFields(_ path: String) throws(CurveKeyError) -> [String: String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadableFile(path: path, reason: "\(error.localizedDescription)")
        }
        var fields: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw .malformedFile(path: path, reason: "line \(number + 1) is not `name: value`")
            }
            let name = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            fields[name] = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    private static func writeFile(_ text: String, to path: String, mode: mode_t) throws(CurveKeyError) {
        do {
            let fd = try systemCall("open(\(path))") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
            defer { close(fd) }
            // An existing file keeps its old mode through O_CREAT, so set it explicitly.
            try systemCall("fchmod(\(path))") { fchmod(fd, mode) }
            let bytes = Array(text.utf8)
            try bytes.withUnsafeBytes { (raw) throws in
                try writeAll(fd, raw, isSocket: false, call: "write(\(path))")
            }
        } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
    }
}
