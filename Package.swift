// swift-tools-version:6.0
import PackageDescription

/// The stages, one executable each. Every stage is a thin file over `WeirCore`
/// (and `WeirExpression` where it takes an expression).
let stages: [(name: String, usesExpressions: Bool)] = [
    ("weir-cat", false),
    ("weir-from-json", false),
    ("weir-to-json", false),
    ("weir-filter", true),
    ("weir-map", true),
    ("weir-from-csv", false),
    ("weir-to-csv", false),
    ("weir-sample", false),
    ("weir-throttle", true),
    ("weir-seq", true),
    ("weir-head", true),
    ("weir-tail", true),
    ("weir-merge", true),
    ("weir-split", true),
    ("weir-fetch", true),
    ("weir-join", true),
    ("weir-exec", false),
    ("weir-sort", true),
    ("weir-uniq", true),
    ("weir-top", true),
    ("weir-explode", true),
    ("weir-stats", true),
    ("weir-from-lines", false),
    ("weir-to-table", false),
]

let optimize: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Weir",
    platforms: [.macOS(.v15)],
    products: stages.map { .executable(name: $0.name, targets: [$0.name]) } + [.executable(name: "weir", targets: ["weir"])],
    targets: [
        // The system zlib (gzip input and output): a system library, not a package.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "WeirCore", dependencies: ["CZlib"], swiftSettings: optimize, linkerSettings: [.linkedLibrary("m")]),
        .target(name: "WeirExpression", dependencies: ["WeirCore"], swiftSettings: optimize),
        .target(name: "WeirTestSupport", path: "Tests/WeirTestSupport"),
        .testTarget(name: "WeirCoreTests", dependencies: ["WeirCore", "WeirTestSupport"]),
        .testTarget(name: "WeirExpressionTests", dependencies: ["WeirExpression", "WeirCore", "WeirTestSupport"]),
        .testTarget(
            name: "WeirStageTests",
            dependencies: ["WeirCore", "WeirTestSupport", "weir"] + stages.map { .target(name: $0.name) }
        ),
        // The front door: `weir STAGE ARGS…` runs `weir-STAGE`; not a stage itself.
        .executableTarget(name: "weir", dependencies: ["WeirCore"], swiftSettings: optimize),
    ] + stages.map { stage in
        .executableTarget(
            name: stage.name,
            dependencies: stage.usesExpressions ? ["WeirCore", "WeirExpression"] : ["WeirCore"],
            swiftSettings: optimize
        )
    }
)
