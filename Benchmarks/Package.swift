// swift-tools-version: 6.1
import PackageDescription

// A package of its own, so that users of Tendril never resolve benchmark dependencies.
let package = Package(
    name: "TendrilBenchmarks",
    products: [
        .executable(name: "tendril-bench", targets: ["tendril-bench"]),
        .executable(name: "tendril-hydration", targets: ["tendril-hydration"]),
    ],
    dependencies: [
        .package(name: "Tendril", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", exact: "1.6.1"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // libbson straight from C, for the floor every hydration figure is compared with.
        .systemLibrary(name: "CLibBSON", pkgConfig: "libbson-1.0", providers: [.apt(["libbson-dev"])]),
        .target(name: "BSONFloor", dependencies: ["CLibBSON"]),
        // A plain libmongoc cursor, for the floor of loading documents from the server.
        .systemLibrary(name: "CLibMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        .target(name: "MongoFloor", dependencies: ["CLibMongoC", "BSONFloor"]),
        // glibc's live-heap figure (mallinfo2), which Swift's Glibc module does not export.
        .target(name: "HeapStats"),
        // The 10-field model shared by the hydration benchmarks.
        .target(name: "BenchmarkModels", dependencies: [.product(name: "Tendril", package: "Tendril")]),
        .executableTarget(
            name: "tendril-bench",
            dependencies: [
                .product(name: "Tendril", package: "Tendril"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "BenchmarkModels",
                "MongoFloor",
                "HeapStats",
            ]
        ),
        // In-memory hydration with allocation counts: its own executable, because the malloc
        // interposer it links replaces malloc for the whole process.
        .executableTarget(
            name: "tendril-hydration",
            dependencies: [
                .product(name: "Tendril", package: "Tendril"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
                "BenchmarkModels",
                "BSONFloor",
            ]
        ),
        // Micro-benchmarks of the hot paths, without a server: `swift package benchmark`.
        .executableTarget(
            name: "TendrilMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Tendril", package: "Tendril"),
            ],
            path: "Benchmarks/TendrilMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
