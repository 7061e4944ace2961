import COpenSSL
import Foundation

/// A SHA-256 digest, computed with libcrypto's EVP API. Split identifies a model by the
/// SHA-256 of its weights file, so both nodes can check they load the same weights.
public struct SHA256Digest: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps 32 digest bytes.
    /// - Throws: `DigestError.wrongLength` for any other length.
    public init(bytes: [UInt8]) throws(DigestError) {
        guard bytes.count == 32 else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
    }

    /// Parses 64 hexadecimal digits.
    /// - Throws: `DigestError.invalidHex` when the text is not 64 hex digits.
    public init(hex: String) throws(DigestError) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { throw .invalidHex(hex) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else {
                throw .invalidHex(hex)
            }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    /// Lower-case hexadecimal, 64 characters.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    /// The digest of `buffer`, fed to libcrypto in chunks so that a memory-mapped file is read
    /// through once, page by page.
    /// - Throws: `DigestError.libcrypto` when an EVP call fails.
    public static func of(_ buffer: UnsafeRawBufferPointer) throws(DigestError) -> SHA256Digest {
        let hasher = try SHA256Hasher()
        var offset = 0
        let chunk = 1 << 22  // 4 MiB: large enough to amortise the call, small enough to stream.
        repeat {
            let count = min(chunk, buffer.count - offset)
            try hasher.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count]))
            offset += count
        } while offset < buffer.count
        return try hasher.finish()
    }

    /// The digest of `bytes`.
    /// - Throws: `DigestError.libcrypto` when an EVP call fails.
    public static func of(_ bytes: some ContiguousBytes) throws(DigestError) -> SHA256Digest {
        let result: Result<SHA256Digest, DigestError> = bytes.withUnsafeBytes { raw in
            do throws(DigestError) { return .success(try of(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The digest of the file at `path`, memory-mapped read-only (the model identity).
    /// - Throws: `DigestError.file` naming the path when it cannot be opened or mapped.
    public static func ofFile(atPath path: String) throws(DigestError) -> SHA256Digest {
        let fd: Int32
        var info = stat()
        do {
            fd = try systemCall("open") { open(path, O_RDONLY | O_CLOEXEC) }
        } catch {
            throw .file(path: path, reason: "\(error)")
        }
        defer { close(fd) }
        do {
            try systemCall("fstat") { fstat(fd, &info) }
        } catch {
            throw .file(path: path, reason: "\(error)")
        }
        let size = Int(info.st_size)
        if size == 0 { return try of(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .file(path: path, reason: "\(SystemCallError(call: "mmap", code: errno))")
        }
        defer { munmap(mapped, size) }
        _ = madvise(mapped, size, MADV_SEQUENTIAL)
        return try of(UnsafeRawBufferPointer(start: mapped, count: size))
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Why a digest could not be made or parsed.
public enum DigestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Digest bytes of the wrong length (a digest has 32).
    case wrongLength(Int)
    /// Text that is not 64 hexadecimal digits.
    case invalidHex(String)
    /// A libcrypto EVP call failed.
    case libcrypto(call: String)
    /// The file could not be opened, examined or mapped.
    case file(path: String, reason: String)

    public var description: String {
        switch self {
        case .wrongLength(let n): return "a SHA-256 digest has 32 bytes, not \(n)"
        case .invalidHex(let text): return "not 64 hexadecimal digits: \"\(text.prefix(80))\""
        case .libcrypto(let call): return "libcrypto call \(call) failed"
        case .file(let path, let reason): return "cannot digest \(path): \(reason)"
        }
    }
}

/// An incremental SHA-256 computation owning one `EVP_MD_CTX`; confined to one thread.
public final class SHA256Hasher {
    private let context: OpaquePointer

    /// Starts a new digest.
    /// - Throws: `DigestError.libcrypto` when libcrypto cannot allocate or initialise it.
    public init() throws(DigestError) {
        guard let context = EVP_MD_CTX_new() else { throw .libcrypto(call: "EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw .libcrypto(call: "EVP_DigestInit_ex")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds more bytes.
    /// - Throws: `DigestError.libcrypto` when `EVP_DigestUpdate` fails.
    public func update(_ bytes: UnsafeRawBufferPointer) throws(DigestError) {
        guard bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
            throw .libcrypto(call: "EVP_DigestUpdate")
        }
    }

    /// Finishes and returns the digest; the hasher must not be used afterwards.
    /// - Throws: `DigestError.libcrypto` when `EVP_DigestFinal_ex` fails.
    public func finish() throws(DigestError) -> SHA256Digest {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &output, &length) == 1, length == 32 else {
            throw .libcrypto(call: "EVP_DigestFinal_ex")
        }
        return try SHA256Digest(bytes: Array(output.prefix(32)))
    }
}
