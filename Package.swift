// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Custody",
    products: [
        .executable(name: "custody", targets: ["custody"]),
        .library(name: "CustodyCore", targets: ["CustodyCore"]),
        .library(name: "CustodyIngest", targets: ["CustodyIngest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // The system zlib (libz-dev); the shim header wraps the macros Swift cannot import.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["libz-dev"])]),

        // Policy, rules, findings and the check report: pure, no file I/O.
        .target(name: "CustodyCore", dependencies: [.product(name: "Yams", package: "Yams")]),

        // Files, gzip streaming, line splitting, format parsers and the audit pipeline.
        .target(name: "CustodyIngest", dependencies: ["CustodyCore", "CZlib"],
                swiftSettings: [
                    // The per-line loop touches a few class-owned tables; dynamic exclusivity
                    // checks on them cost ~5% of a check (measured with perf, Benchmarks/RESULTS.md).
                    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
                ]),

        // Thin command-line front end: parses arguments, calls the libraries.
        .executableTarget(
            name: "custody",
            dependencies: [
                "CustodyCore", "CustodyIngest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Fixture builders shared by tests, the sample-log generator and the benchmark.
        .target(name: "CustodyTesting", dependencies: ["CustodyCore", "CustodyIngest", "CZlib"]),

        // Deterministic activity-log generator for SampleLogs/ and `make bench`.
        .executableTarget(name: "custody-loggen", dependencies: [
            "CustodyTesting",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "CustodyCoreTests", dependencies: ["CustodyCore", "CustodyTesting"]),
        .testTarget(name: "CustodyIngestTests", dependencies: ["CustodyIngest", "CustodyCore", "CustodyTesting"],
                    resources: [.copy("Fixtures")]),
        // Runs the built `custody` executable end to end.
        .testTarget(name: "CustodyCLITests", dependencies: ["custody", "CustodyTesting", "CustodyCore"]),
    ]
)
