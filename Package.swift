// swift-tools-version:6.0
//
// CryptoNET SEM: secure e-mail for organisations.
//
// Targets are listed bottom-up, in the order the layers depend on each other:
//   C bindings (COpenSSL, CSQLite, CPKCS11, CShims)
//   → foundation (SEMLogging, SEMCrypto, SEMStorage, SEMTransport, SEMPolicy)
//   → executables (sem, semd, semctl; sem-bench for benchmarks only).
// OpenSSL and PKCS#11 are imported by SEMCrypto alone and SQLite by SEMStorage alone.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "CryptoNET-SEM",
    products: [
        .executable(name: "sem", targets: ["sem"]),
        .executable(name: "semd", targets: ["semd"]),
        .executable(name: "semctl", targets: ["semctl"]),
    ],
    targets: [
        // MARK: C bindings
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // PKCS#11 declarations only (header from libp11-kit-dev); token modules are
        // loaded at run time with dlopen, so nothing is linked.
        .systemLibrary(name: "CPKCS11"),
        .target(
            name: "CShims",
            dependencies: ["COpenSSL"]
        ),
        // libFuzzer's driver entry point, for sem-fuzz alone.
        .target(name: "CFuzzDriver"),

        // MARK: Foundation layer
        .target(name: "SEMLogging", swiftSettings: strict),
        .target(
            name: "SEMCrypto",
            dependencies: ["COpenSSL", "CShims", "CPKCS11", "SEMLogging"],
            swiftSettings: strict
        ),
        .target(
            name: "SEMStorage",
            dependencies: ["CSQLite", "SEMCrypto", "SEMLogging"],
            swiftSettings: strict
        ),
        // Protocol logic (SMTP and HTTP/1.1 state machines, parsers) and, above it, the socket drivers.
        .target(
            name: "SEMTransport",
            dependencies: ["SEMCrypto", "SEMLogging"],
            swiftSettings: strict
        ),
        // MIME and S/MIME letters, receipts, chunk-encrypted attachment references. Pure logic.
        .target(name: "SEMMessage", dependencies: ["SEMCrypto", "SEMLogging"], swiftSettings: strict),
        // The Policy Decision Point engine: policy language, decisions, cache. Pure logic.
        .target(name: "SEMPolicy", dependencies: ["SEMLogging"], swiftSettings: strict),

        // MARK: Layer 3: credentials servers
        .target(
            name: "SEMCredentials",
            dependencies: ["SEMCrypto", "SEMStorage", "SEMTransport", "SEMPolicy", "SEMLogging"],
            swiftSettings: strict
        ),

        // MARK: Layer 4: federation
        // Domain profiles, the SMI's signed trust list and its consumer, agreements, negotiation.
        .target(
            name: "SEMFederation",
            dependencies: ["SEMCrypto", "SEMPolicy", "SEMLogging"],
            swiftSettings: strict
        ),

        // The SMI registry: an append-only, hash-chained, signed log and the state folded from
        // it; the SMI's HTTPS service, its followers, and the client domains use to reach it.
        .target(
            name: "SEMRegistry",
            dependencies: ["SEMFederation", "SEMCredentials", "SEMCrypto", "SEMStorage", "SEMTransport", "SEMPolicy",
                           "SEMLogging"],
            swiftSettings: strict
        ),

        // MARK: Layer 2: the mail server
        // Storage, submission, delivery between registered servers, the client API.
        .target(
            name: "SEMMail",
            dependencies: ["SEMRegistry", "SEMFederation", "SEMCredentials", "SEMMessage", "SEMPolicy", "SEMTransport",
                           "SEMCrypto", "SEMStorage", "SEMLogging"],
            // The OpenAPI document of the client API, served at /openapi.json.
            resources: [.copy("Resources/openapi.json")],
            swiftSettings: strict
        ),

        // MARK: Layer 1: the client
        // Enrolment, the encrypted local store and address book, sending and reading.
        .target(
            name: "SEMClient",
            dependencies: ["SEMMail", "SEMRegistry", "SEMFederation", "SEMCredentials", "SEMMessage", "SEMTransport",
                           "SEMCrypto", "SEMStorage", "SEMLogging"],
            swiftSettings: strict
        ),

        // Argument parsing and exit-status conventions shared by the executables.
        .target(name: "SEMCommandLine", swiftSettings: strict),

        // MARK: Executables
        .executableTarget(name: "sem", dependencies: ["SEMClient", "SEMCommandLine", "SEMCredentials", "SEMCrypto", "SEMMail",
                                                      "SEMMessage", "SEMLogging"],
                          swiftSettings: strict),
        .executableTarget(name: "semd",
                         dependencies: ["SEMCommandLine", "SEMCredentials", "SEMFederation", "SEMMail", "SEMPolicy",
                                        "SEMRegistry", "SEMTransport", "SEMCrypto", "SEMLogging"],
                         swiftSettings: strict),
        .executableTarget(name: "semctl",
                         dependencies: ["SEMClient", "SEMCommandLine", "SEMCredentials", "SEMFederation", "SEMMail",
                                        "SEMMessage", "SEMPolicy", "SEMRegistry", "SEMTransport", "SEMCrypto", "SEMStorage",
                                        "SEMLogging"],
                         swiftSettings: strict),
        // Benchmarks (`scripts/bench` runs them all, BENCHMARKS.md); not shipped.
        .executableTarget(name: "sem-bench",
                         dependencies: ["SEMClient", "SEMMail", "SEMMessage", "SEMPolicy", "SEMCredentials", "SEMTransport",
                                        "SEMCrypto", "SEMStorage", "SEMLogging"],
                         swiftSettings: strict),

        // Fuzz targets for the network and file parsers (scripts/fuzz builds it with libFuzzer;
        // a normal build replays inputs from files); not shipped.
        .executableTarget(name: "sem-fuzz",
                         dependencies: ["CFuzzDriver", "SEMTransport", "SEMMessage", "SEMPolicy", "SEMFederation"],
                         swiftSettings: strict),

        // MARK: Tests
        // Scratch directories and the runner for independent command-line peers.
        .target(name: "SEMTestSupport", dependencies: ["SEMCommandLine", "SEMTransport"], path: "Tests/SEMTestSupport",
                swiftSettings: strict),
        .testTarget(name: "SEMLoggingTests", dependencies: ["SEMLogging"], swiftSettings: strict),
        .testTarget(name: "SEMCryptoTests", dependencies: ["SEMCrypto", "SEMLogging", "SEMTestSupport"], swiftSettings: strict),
        .testTarget(name: "SEMStorageTests", dependencies: ["SEMStorage", "SEMCrypto"], swiftSettings: strict),
        .testTarget(name: "SEMCredentialsTests",
                    dependencies: ["SEMCredentials", "SEMCrypto", "SEMStorage", "SEMTransport", "SEMLogging", "SEMTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "SEMTransportTests", dependencies: ["SEMTransport", "SEMCrypto", "SEMLogging", "SEMTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "SEMMessageTests", dependencies: ["SEMMessage", "SEMCrypto", "SEMTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "SEMPolicyTests", dependencies: ["SEMPolicy", "SEMLogging", "SEMTestSupport"], swiftSettings: strict),
        .testTarget(name: "SEMFederationTests",
                    dependencies: ["SEMFederation", "SEMCrypto", "SEMPolicy", "SEMTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "SEMRegistryTests",
                    dependencies: ["SEMRegistry", "SEMFederation", "SEMCrypto", "SEMStorage", "SEMPolicy", "SEMTransport",
                                   "SEMTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "SEMMailTests", dependencies: ["SEMMail", "SEMCrypto", "SEMStorage", "SEMPolicy", "SEMTestSupport"],
                    swiftSettings: strict),
        // The programs as people run them, driven from outside.
        .testTarget(name: "SEMEndToEndTests",
                    dependencies: ["semctl", "semd", "SEMCredentials", "SEMCrypto", "SEMFederation", "SEMRegistry",
                                   "SEMTransport", "SEMLogging", "SEMMail", "SEMStorage", "SEMTestSupport"],
                    swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
