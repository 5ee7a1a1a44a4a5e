// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Tendril",
    products: [
        .library(name: "Tendril", targets: ["Tendril"]),
        .executable(name: "tendril-demo", targets: ["tendril-demo"]),
    ],
    targets: [
        // libmongoc and libbson from the system (Debian: libmongoc-dev, libbson-dev).
        .systemLibrary(
            name: "CTendrilMongoC",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev", "libbson-dev"])]
        ),
        // BSON and the driver wrapper: the only module that imports C.
        .target(name: "TendrilDriver", dependencies: ["CTendrilMongoC"]),
        // The ODM, the module users import.
        .target(name: "Tendril", dependencies: ["TendrilDriver"]),
        .executableTarget(name: "tendril-demo", dependencies: ["Tendril"]),
        .testTarget(name: "TendrilTests", dependencies: ["TendrilDriver", "Tendril"]),
    ],
    swiftLanguageModes: [.v6]
)
