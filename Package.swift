// swift-tools-version:6.1
import Foundation
import PackageDescription

/// The libraries `pkg-config --libs <package>` lists, each once. grpc++ needs all of them (abseil included);
/// declaring them through a system-library target's `pkgConfig` instead repeats the whole list once per
/// dependency path, until the link command is too long to run.
func pkgConfigLibraries(_ package: String) -> [LinkerSetting] {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["pkg-config", "--libs", package]
    process.standardOutput = output
    guard (try? process.run()) != nil else { return [] }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    var seen = Set<String>()
    return text.split(whereSeparator: \.isWhitespace).compactMap { flag in
        guard flag.hasPrefix("-l") else { return nil }
        let library = String(flag.dropFirst(2))
        return seen.insert(library).inserted ? .linkedLibrary(library) : nil
    }
}

let package = Package(
    name: "Rosetta",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rosetta-server", targets: ["rosetta-server"]),
        .executable(name: "rosetta", targets: ["rosetta"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Already resolved for postgres-nio; the HTTP API's TLS.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // MARK: System libraries (Debian -dev packages; see Makefile `deps`)
        .systemLibrary(name: "COpenBLAS", path: "Sources/System/COpenBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CPNG", path: "Sources/System/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CJPEG", path: "Sources/System/CJPEG", pkgConfig: "libjpeg"),
        .systemLibrary(name: "CSndFile", path: "Sources/System/CSndFile", pkgConfig: "sndfile"),
        // zlib's compress2: the compression ratio of a transcript (faster-whisper's repetition test).
        .systemLibrary(name: "CZlib", path: "Sources/System/CZlib", pkgConfig: "zlib"),
        // Header only: the prefetch builtin and the CPU feature checks behind Tensor's kernels (no library).
        .systemLibrary(name: "CCPU", path: "Sources/System/CCPU"),

        // MARK: Transport
        .target(
            name: "CGRPCBridge",
            dependencies: [],
            cxxSettings: [.unsafeFlags(["-std=c++17"])],
            linkerSettings: pkgConfigLibraries("grpc++") + [
                .linkedLibrary("grpc++_reflection"), .linkedLibrary("protobuf"), .linkedLibrary("stdc++"),
            ]
        ),
        .target(name: "RPC", dependencies: ["CGRPCBridge"]),
        .target(name: "RosettaAPI", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // MARK: Compute
        // Compiled for the build machine's CPU (like -march=native): Tensor's SIMD kernels need FMA/AVX; for a
        // generic x86-64 target Swift lowers them to SSE and libm calls (10-100x slower). See SmallGEMM.swift.
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CCPU", "CBFloat16"], swiftSettings: [.unsafeFlags(["-target-cpu", "native"])]),
        // bfloat16 products (AVX512-BF16 intrinsics, chosen at run time): Swift has no bfloat16 dot product.
        .target(name: "CBFloat16", cSettings: [.unsafeFlags(["-O3"])]),
        // The words every layer shares (Modality, Pooling, Truncation) and the small functions they agree on.
        .target(name: "Domain"),
        .target(name: "Tokenizers", dependencies: ["Domain"]),
        .target(name: "Media", dependencies: ["CPNG", "CJPEG", "CSndFile"]),
        .target(name: "Encoders", dependencies: ["Domain", "Tensor", "Tokenizers"]),
        // Hugging Face Hub downloads into the standard cache; knows files and HTTP, nothing of models.
        .target(
            name: "Hub",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Media bytes + options -> vectors in a space: the bridges, the speech pipeline, instruction pooling.
        .target(
            name: "Spaces",
            dependencies: ["Domain", "Encoders", "Media", "Tensor", "Tokenizers", "CZlib", .product(name: "Logging", package: "swift-log")]
        ),
        // Compiled for the build machine's CPU like Tensor: the Hamming pre-filter needs the POPCNT instruction.
        .target(name: "Index", dependencies: ["Domain", "Tensor"], swiftSettings: [.unsafeFlags(["-target-cpu", "native"])]),
        // The same VectorIndex on PostgreSQL + pgvector (several servers can share one database).
        .target(
            name: "PostgresIndex",
            dependencies: [
                "Domain", "Index",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Serving
        .target(
            name: "Service",
            dependencies: [
                "Domain", "Spaces", "Index", "RPC", "RosettaAPI", "Tensor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The OpenAI-compatible HTTP/JSON API beside gRPC: plain SwiftNIO HTTP/1.1 over the same services.
        .target(
            name: "HTTPAPI",
            dependencies: [
                "Domain", "Service", "Index", "RPC", "RosettaAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "rosetta-server",
            dependencies: [
                "Domain", "Service", "HTTPAPI", "Spaces", "Hub", "RPC", "RosettaAPI", "Index", "PostgresIndex", "Tensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "rosetta",
            dependencies: [
                "RPC", "RosettaAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Benchmarks
        // Timing and the SGEMM peak measurement shared by the bench executables.
        .target(name: "BenchSupport", dependencies: ["Tensor"], path: "bench/common/swift"),
        .executableTarget(name: "rosetta-bench-text", dependencies: ["BenchSupport", "Encoders", "Tensor"], path: "bench/text/swift"),
        .executableTarget(name: "rosetta-bench-vision", dependencies: ["BenchSupport", "Encoders", "Tensor", "Media"], path: "bench/vision/swift"),
        .executableTarget(name: "rosetta-bench-audio", dependencies: ["Encoders", "Tensor", "Media", "Spaces"], path: "bench/audio/swift"),

        .executableTarget(name: "rosetta-bench-search", dependencies: ["Index", "Tensor"], path: "bench/search/swift"),

        // MARK: Tests
        // Helpers more than one test target uses (seeded random numbers, cosine, fixture paths); depends on nothing.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CBFloat16", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Domain", "TestSupport"]),
        .testTarget(name: "EncodersTests", dependencies: ["Encoders", "Domain", "Tensor", "Tokenizers", "TestSupport"]),
        .testTarget(name: "SpacesTests", dependencies: ["Spaces", "Domain", "Encoders"]),
        .testTarget(name: "HubTests", dependencies: ["Hub"]),
        .testTarget(name: "RPCTests", dependencies: ["RPC", "CGRPCBridge"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "TestSupport"]),
        .testTarget(name: "VisionTests", dependencies: ["Media", "Encoders", "Tensor", "Tokenizers", "TestSupport"]),
        .testTarget(name: "AudioTests", dependencies: ["Media", "Encoders", "Spaces", "Tensor", "TestSupport"]),
        .testTarget(name: "HTTPAPITests", dependencies: ["HTTPAPI", "Service", "Index", "RPC", "RosettaAPI"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "Spaces", "RosettaAPI", "RPC", "Index"]),
        .testTarget(name: "IndexTests", dependencies: ["Index", "Domain", "Tensor", "TestSupport"]),
        .testTarget(name: "PostgresIndexTests", dependencies: ["PostgresIndex", "Index", "Domain"]),
    ],
    cxxLanguageStandard: .cxx17
)

// MARK: Fuzz targets (Fuzz/README.md)
// Declared only when ROSETTA_FUZZ=1, which `make fuzz` sets for its own build (.build-fuzz, libFuzzer +
// AddressSanitizer): the normal build and `make test` never compile them.
if ProcessInfo.processInfo.environment["ROSETTA_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("fuzz-png", ["Media"]),
        ("fuzz-jpeg", ["Media"]),
        ("fuzz-audio", ["Media"]),
        ("fuzz-safetensors", ["Tensor"]),
        ("fuzz-wordpiece", ["Tokenizers", "Domain"]),
        ("fuzz-clip-bpe", ["Tokenizers"]),
        ("fuzz-wal", ["Index"]),
        ("fuzz-snapshot", ["Index"]),
        ("fuzz-requests", [
            "Service", "Spaces", "Domain", "Index", "RPC", "RosettaAPI", .product(name: "Logging", package: "swift-log"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
    ]
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["Index", "Media"], path: "Fuzz/Support"))
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(name: target.name, dependencies: ["FuzzSupport"] + target.dependencies, path: "Fuzz/Targets/\(target.name)")
        )
    }
}
