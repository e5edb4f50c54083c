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
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The system zlib (libz-dev); the shim header wraps the macros Swift cannot import.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["libz-dev"])]),

        // Intel ISA-L's inflate (libisal-dev), 2.5 times pigz's speed here. Optional: without
        // the header at build time the shim's functions are stubs and zlib inflates everything
        // (docs/performance.md).
        .systemLibrary(name: "CIsal", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),

        // A cache prefetch hint for hash-table lookups (Swift cannot import clang's macro).
        .target(name: "CPrefetch"),

        // gzip's CRC-32 with carry-less multiplication (PCLMULQDQ, and AVX-512's VPCLMULQDQ
        // where present), 2.4 and 5 times zlib 1.2.13's speed here.
        .target(name: "CCRC32"),

        // Line ends 64 bytes per compare (AVX-512, else SSE2): one call per read buffer
        // instead of a memchr per line.
        .target(name: "CLineScan"),

        // syncfs(2), which Swift's Glibc module does not import: one flush for a group of vault
        // objects instead of an fsync per object and per directory.
        .target(name: "CSyncFS"),

        // SQLite 3.54.1, compiled in: GRDB's calls resolve to it rather than to the system
        // library (Debian 12's 3.40.1, built without lookaside memory), which took 1.3-1.8 times
        // the CPU per row written (Sources/CSQLite/README.md, docs/performance.md). The options
        // keep Debian's behaviour where Custody could see it: deleted content overwritten, URI
        // names, 250,000 parameters a statement.
        .target(
            name: "CSQLite",
            exclude: ["sqlite3.c", "README.md"],
            cSettings: [
                .define("SQLITE_THREADSAFE", to: "1"),
                // No global mutex around every allocation for memory statistics Custody never reads.
                .define("SQLITE_DEFAULT_MEMSTATUS", to: "0"),
                .define("SQLITE_SECURE_DELETE"),
                .define("SQLITE_USE_URI", to: "1"),
                .define("SQLITE_MAX_VARIABLE_NUMBER", to: "250000"),
                .define("SQLITE_LIKE_DOESNT_MATCH_BLOBS"),
                .define("SQLITE_ENABLE_COLUMN_METADATA"),
                .define("SQLITE_ENABLE_DBSTAT_VTAB"),
                .define("SQLITE_ENABLE_FTS5"),
                .define("SQLITE_ENABLE_MATH_FUNCTIONS"),
                .define("SQLITE_ENABLE_UNLOCK_NOTIFY"),
                .define("HAVE_FDATASYNC", to: "1"),
                // Optimized in debug builds too: the tests write states, and at -O0 SQLite is
                // several times slower. `-w`: the amalgamation is SQLite's code, not ours.
                .unsafeFlags(["-O2", "-w"]),
            ]),

        // Policy, rules, findings and the check report: pure, no file I/O.
        .target(name: "CustodyCore", dependencies: ["CPrefetch", .product(name: "Yams", package: "Yams")]),

        // Files, gzip streaming, line splitting, format parsers and the audit pipeline.
        .target(
            name: "CustodyIngest", dependencies: ["CustodyCore", "CZlib", "CIsal", "CPrefetch", "CCRC32", "CLineScan"],
            swiftSettings: [
                // The per-line loop touches a few class-owned tables; dynamic exclusivity
                // checks on them cost ~5% of a check (measured with perf, Benchmarks/RESULTS.md).
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
            ]),

        // Durable state (SQLite through GRDB), the content-addressed vault, exactly-once ingestion.
        .target(
            name: "CustodyStore",
            dependencies: [
                "CustodyCore", "CustodyIngest", "CZlib", "CPrefetch", "CSyncFS", "CSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Government requests for user data: intake, legal holds, decisions, evidence packages.
        .target(
            name: "CustodyDisclosure",
            dependencies: [
                "CustodyCore", "CustodyIngest", "CustodyStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // Transparency and compliance reports and their renderers (Markdown, HTML, JSON, CSV).
        .target(
            name: "CustodyReports",
            dependencies: [
                "CustodyCore", "CustodyIngest", "CustodyStore", "CustodyDisclosure",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // Thin command-line front end: parses arguments, calls the libraries.
        .executableTarget(
            name: "custody",
            dependencies: [
                "CustodyCore", "CustodyIngest", "CustodyStore", "CustodyDisclosure", "CustodyReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Fixture builders shared by tests, the sample-log generator and the benchmark.
        .target(name: "CustodyTesting", dependencies: ["CustodyCore", "CustodyIngest", "CZlib"]),

        // Deterministic activity-log generator for SampleLogs/ and `make bench`.
        .executableTarget(
            name: "custody-loggen",
            dependencies: [
                "CustodyTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(
            name: "CustodyStoreTests",
            dependencies: [
                "CustodyStore", "CustodyCore", "CustodyIngest", "CustodyTesting", "CSQLite",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(name: "CustodyCoreTests", dependencies: ["CustodyCore", "CustodyTesting"]),
        .testTarget(
            name: "CustodyIngestTests", dependencies: ["CustodyIngest", "CustodyCore", "CustodyTesting", "CCRC32", "CLineScan"],
            resources: [.copy("Fixtures")]),
        // Runs the built `custody` executable end to end.
        .testTarget(
            name: "CustodyCLITests",
            dependencies: [
                "custody", "CustodyTesting", "CustodyCore", "CustodyIngest", "CustodyReports",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
    ]
)
