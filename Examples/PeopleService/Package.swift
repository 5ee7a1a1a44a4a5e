// swift-tools-version: 6.1
import PackageDescription

// A small Hummingbird 2 service on Tendril: people, their friends, and meetings.
// Depends on Tendril by path, so it always builds against the library beside it.
let package = Package(
    name: "PeopleService",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "people-service", targets: ["PeopleServiceApp"]),
    ],
    dependencies: [
        .package(name: "Tendril", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The routes and their wiring, as a library so the tests can build the same application.
        .target(name: "PeopleService", dependencies: [
            .product(name: "Tendril", package: "Tendril"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "PeopleServiceApp", dependencies: ["PeopleService"]),
        .testTarget(name: "PeopleServiceTests", dependencies: [
            "PeopleService",
            .product(name: "Tendril", package: "Tendril"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
