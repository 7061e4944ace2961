import Foundation

// libFuzzer entry points for Split's parsers of untrusted bytes. scripts/fuzz.sh compiles this
// directory together with the library sources (one module, so internal API is reachable) into
// one instrumented binary; SPLIT_FUZZ_TARGET picks the parser. Every target asserts properties
// (round trips, bounds) with `fuzzCheck`, which aborts so libFuzzer saves the input.

/// The parser under test, read once from SPLIT_FUZZ_TARGET.
nonisolated(unsafe) private var selectedTarget: ((UnsafeRawBufferPointer) -> Void)?

/// The fuzz targets by name: what `scripts/fuzz.sh` accepts.
let fuzzTargets: [String: (UnsafeRawBufferPointer) -> Void] = [
    "wire": fuzzWireDecoder,
    "gguf": fuzzGGUFReader,
    "safetensors": fuzzSafetensorsReader,
    "tokenizer": fuzzTokenizer,
    "chat-template": fuzzChatTemplate,
].merging(clientRequestTargets) { first, _ in first }

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    if let directory = environment["SPLIT_FUZZ_WRITE_SEEDS"] {
        do {
            try writeSeedCorpora(into: directory)
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("cannot write seeds: \(error)\n".utf8))
            exit(1)
        }
    }
    let name = environment["SPLIT_FUZZ_TARGET"] ?? ""
    guard let target = fuzzTargets[name] else {
        FileHandle.standardError.write(Data("SPLIT_FUZZ_TARGET must be one of \(fuzzTargets.keys.sorted())\n".utf8))
        exit(2)
    }
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget?(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// Aborts (so libFuzzer keeps the input as a crash) when a property of a parser does not hold.
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        FileHandle.standardError.write(Data("fuzz property violated: \(message())\n".utf8))
        abort()
    }
}

/// A per-process scratch file for the readers that take a path (they memory-map it).
func withScratchFile<Result>(_ bytes: UnsafeRawBufferPointer, suffix: String, _ body: (String) -> Result) -> Result {
    let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let path = "\(directory)/split-fuzz-\(getpid())\(suffix)"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    defer { unlink(path) }
    return body(path)
}
