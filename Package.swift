// swift-tools-version:6.0
import Foundation
import PackageDescription

// The C kernels' baseline: every instruction-set path (AVX2, AVX-512; NEON) is compiled into the
// binary with target attributes and chosen by the CPU at start (Sources/CSplitKernels/KernelPath.c),
// so the default baseline is the oldest machine the binary should start on. SPLIT_MARCH=native
// tunes the whole target to the building CPU (for comparing against the portable build).
#if arch(x86_64)
let portableCPU = "x86-64-v2"
#elseif arch(arm64)
let portableCPU = "armv8-a"
#else
let portableCPU = "native"
#endif
let targetCPU = ProcessInfo.processInfo.environment["SPLIT_MARCH"] ?? portableCPU

// Release executables on Linux link the Swift runtime and Foundation statically (as the container
// image already did, `--static-swift-stdlib`), with lld packing the relative relocations (DT_RELR)
// and without exporting every symbol (the static runtime's `-export-dynamic`: 3 MB of .dynsym,
// .dynstr and .gnu.hash that the dynamic linker reads while it binds the C libraries). A process
// then maps one image instead of ~15 libraries, each with its own relocated data: what the
// executable and its libraries keep resident in `split-bench runtime` falls from 29.8 to 20.7 MB
// (BENCHMARKS.md, issue 10: the f16 model's peak RSS against its file size).
// DT_RELR needs glibc 2.36 to load (Debian 12; not Ubuntu 22.04's 2.35), so it is asked for only
// where the building machine's glibc has it.
#if canImport(Glibc)
import Glibc
let glibcHasRELR: Bool = {
    var buffer = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
    guard confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count) > 0 else { return false }
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let version = text.split(separator: " ").last?.split(separator: ".").compactMap { Int($0) } ?? []
    return version.count >= 2 && (version[0], version[1]) >= (2, 36)
}()
#else
let glibcHasRELR = false
#endif
let packedRelocations = glibcHasRELR ? ["-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"] : []

let staticReleaseLink: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib", "-use-ld=lld"] + packedRelocations + ["-Xlinker", "--no-export-dynamic"]
                 // What the static Foundation archives need besides the Swift runtime (archives carry
                 // no autolink entries; lld resolves them in any order).
                 + ["Foundation", "CoreFoundation", "FoundationInternationalization", "_FoundationICU",
                    "FoundationEssentials", "_FoundationCShims", "_FoundationCollections",
                    "swiftSynchronization", "swiftDispatch", "dispatch", "BlocksRuntime", "stdc++"].map { "-l" + $0 },
                 .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "Split",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Split", targets: ["Split"]),
        .executable(name: "edge-node", targets: ["EdgeNode"]),
        .executable(name: "cloud-node", targets: ["CloudNode"]),
        .executable(name: "split-bench", targets: ["SplitBenchCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        // C libraries enter through one system-library target each.
        .systemLibrary(name: "CZMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Our own hot kernels (f16 conversion, dot products), kept in plain C.
        .target(
            name: "CSplitKernels",
            exclude: ["Kernels"],  // compiled once per path, included by the Path*.c files
            cSettings: [.unsafeFlags(["-O3", "-march=\(targetCPU)", "-ffast-math"])]
        ),
        .target(
            name: "Split",
            dependencies: [
                "CZMQ", "COpenSSL", "CSplitKernels",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // What every executable's command line shares: `main()` with `--config` expansion and
        // the option groups.
        .target(
            name: "SplitCLI",
            dependencies: ["Split", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The harness: benchmarks, evaluations, the link emulator and the device-speed pacer.
        // Daemons never link it.
        .target(
            name: "SplitBench",
            dependencies: ["Split", .product(name: "Logging", package: "swift-log")],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "SplitBenchCommand",
            dependencies: [
                "Split", "SplitBench", "SplitCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: staticReleaseLink
        ),
        .executableTarget(
            name: "EdgeNode",
            dependencies: [
                "Split", "SplitCLI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: staticReleaseLink
        ),
        .executableTarget(
            name: "CloudNode",
            dependencies: [
                "Split", "SplitCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: staticReleaseLink
        ),
        .testTarget(
            name: "SplitTests",
            dependencies: ["Split", "SplitBench"],
            exclude: ["Fixtures"]
        ),
        // Tests that open sockets and start processes.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Split", "SplitBench"]
        ),
    ]
)
