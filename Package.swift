// swift-tools-version:6.1
import PackageDescription

/// Strict settings every Projector target builds with (see STYLE.md).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Projector",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "projector", targets: ["ProjectorCLI"]),
        .library(name: "ProjectorModel", targets: ["ProjectorModel"]),
        .library(name: "KafkaClient", targets: ["KafkaClient"]),
        .library(name: "Pipelines", targets: ["Pipelines"]),
        .library(name: "Views", targets: ["Views"]),
        .library(name: "Projector", targets: ["Projector"]),
        .library(name: "ProjectorHTTP", targets: ["ProjectorHTTP"]),
        .library(name: "ProjectorTesting", targets: ["ProjectorTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(name: "ProjectorModel", swiftSettings: strictSettings),
        .target(name: "KafkaClient", dependencies: ["CRdKafka"], swiftSettings: strictSettings),
        .target(
            name: "Pipelines",
            dependencies: ["ProjectorModel", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Views",
            dependencies: [
                "ProjectorModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "PostgresViews",
            dependencies: [
                "ProjectorModel", "Views",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Projector",
            dependencies: [
                "ProjectorModel", "KafkaClient", "Pipelines", "Views", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ProjectorHTTP",
            dependencies: [
                "Projector", "ProjectorModel", "KafkaClient", "Views", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ProjectorTools",
            dependencies: [
                "Projector", "ProjectorModel", "KafkaClient", "Pipelines", "Views",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "ProjectorCLI",
            dependencies: [
                "Projector", "ProjectorHTTP", "ProjectorTools", "ProjectorTesting", "ProjectorModel", "KafkaClient",
                "Pipelines", "Views", "PostgresViews",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ProjectorTesting",
            dependencies: ["ProjectorModel", "KafkaClient", "Pipelines", "Views", "Projector"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ProjectorTestSupport",
            dependencies: [
                "ProjectorTesting", "ProjectorTools", "ProjectorModel", "KafkaClient", "Pipelines", "Views", "PostgresViews", "Projector",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "KafkaClientTests", dependencies: ["KafkaClient", "ProjectorTesting"], swiftSettings: strictSettings),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "ProjectorModel"], swiftSettings: strictSettings),
        .testTarget(name: "ViewsTests", dependencies: ["Views", "PostgresViews", "ProjectorModel", "ProjectorTesting", "ProjectorTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "ProjectorTests", dependencies: ["Projector", "PostgresViews", "ProjectorModel", "ProjectorTools", "ProjectorTesting", "ProjectorTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "ProjectorHTTPTests", dependencies: ["ProjectorHTTP", "Projector", "ProjectorTestSupport", "ProjectorTesting", "ProjectorModel", "KafkaClient", "Views", "PostgresViews"], swiftSettings: strictSettings),
        .testTarget(name: "ProjectorCLITests", dependencies: ["ProjectorCLI", "PostgresViews", "ProjectorModel", "Pipelines", "KafkaClient", "ProjectorTools", "ProjectorTesting", "ProjectorTestSupport", .product(name: "Yams", package: "Yams")], swiftSettings: strictSettings),
    ]
)
