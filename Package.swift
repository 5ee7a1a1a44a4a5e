// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Tendril",
    products: [
        .library(name: "Tendril", targets: ["Tendril"]),
        .executable(name: "tendril-demo", targets: ["tendril-demo"]),
    ],
    dependencies: [
        // Documentation only (`swift package generate-documentation`): no code of it is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libmongoc and libbson from the system (Debian: libmongoc-dev, libbson-dev).
        .systemLibrary(
            name: "CTendrilMongoC",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev", "libbson-dev"])]
        ),
        // Tendril's own C: the checked BSON element walk, validator and field matcher.
        .target(name: "CTendrilBSON", dependencies: ["CTendrilMongoC"]),
        // BSON and the driver wrapper: the only module that imports C.
        .target(name: "TendrilDriver", dependencies: [
            "CTendrilMongoC", "CTendrilBSON",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The ODM, the module users import.
        .target(name: "Tendril", dependencies: [
            "TendrilDriver",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .executableTarget(name: "tendril-demo", dependencies: ["Tendril"]),
        .testTarget(name: "TendrilTests", dependencies: [
            "TendrilDriver", "Tendril", "CTendrilBSON",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
