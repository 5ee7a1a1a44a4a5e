// swift-tools-version: 6.1
import PackageDescription

// A package of its own: a libFuzzer target must be built with `-sanitize=fuzzer`, which the
// library and its tests are not. Run it with `bash Fuzz/run.sh` (docs/reliability.md).
let package = Package(
    name: "TendrilFuzz",
    dependencies: [
        .package(name: "Tendril", path: ".."),
    ],
    targets: [
        .executableTarget(name: "TendrilFuzz", dependencies: [.product(name: "Tendril", package: "Tendril")]),
    ],
    swiftLanguageModes: [.v6]
)
