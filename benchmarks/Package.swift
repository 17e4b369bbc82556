// swift-tools-version:6.1
import PackageDescription

// Projector's benchmarks: ordo-one/benchmark suites (`swift package benchmark`) and the C reference
// the runtime is measured against (`cref`: plain librdkafka + SQLite). `benchmarks/run` drives
// everything; see README.md.
let package = Package(
    name: "ProjectorBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Projector", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DecodeBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Pipelines", package: "Projector"),
                .product(name: "ProjectorModel", package: "Projector"),
            ],
            path: "Benchmarks/Decode",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The C reference; benchmarks/run compiles the same file with cc to skip a Swift build.
        .executableTarget(
            name: "cref",
            path: "Sources/CReference",
            linkerSettings: [.linkedLibrary("rdkafka"), .linkedLibrary("sqlite3")]
        ),
    ]
)
