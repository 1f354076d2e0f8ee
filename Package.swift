// swift-tools-version:6.1
import PackageDescription

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
    ],
    targets: [
        // MARK: System libraries (Debian -dev packages; see Makefile `deps`)
        .systemLibrary(name: "COpenBLAS", path: "Sources/System/COpenBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CPNG", path: "Sources/System/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CJPEG", path: "Sources/System/CJPEG", pkgConfig: "libjpeg"),
        .systemLibrary(name: "CSndFile", path: "Sources/System/CSndFile", pkgConfig: "sndfile"),
        .systemLibrary(name: "CGRPC", path: "Sources/System/CGRPC", pkgConfig: "grpc++"),

        // MARK: Transport
        .target(
            name: "CGRPCBridge",
            dependencies: ["CGRPC"],
            cxxSettings: [.unsafeFlags(["-std=c++17"])],
            linkerSettings: [.linkedLibrary("grpc++_reflection"), .linkedLibrary("stdc++")]
        ),
        .target(name: "RPC", dependencies: ["CGRPCBridge"]),
        .target(name: "RosettaAPI", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // MARK: Compute
        .target(name: "Tensor", dependencies: ["COpenBLAS"]),
        .target(name: "Tokenizers"),
        .target(name: "Media", dependencies: ["CPNG", "CJPEG", "CSndFile"]),
        .target(name: "Encoders", dependencies: ["Tensor", "Tokenizers"]),

        // MARK: Serving
        .target(
            name: "Service",
            dependencies: [
                "RPC", "RosettaAPI", "Encoders",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "rosetta-server",
            dependencies: [
                "Service", "RPC", "Encoders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "rosetta",
            dependencies: [
                "RPC", "RosettaAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "EncodersTests", dependencies: ["Encoders", "Tensor"]),
        .testTarget(name: "RPCTests", dependencies: ["RPC"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "RosettaAPI", "RPC"]),
    ],
    cxxLanguageStandard: .cxx17
)
