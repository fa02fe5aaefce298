// A small PKI for the TLS tests, made once per test run with the openssl command:
// a root CA, a server certificate for DNS:localhost (serverAuth) and a client
// certificate (clientAuth), all EC P-256.
import Foundation
import SEMCrypto
@testable import SEMTransport

struct NetworkPKI: Sendable {
    let rootPEM: String
    let serverPEM: String
    let serverKeyPEM: String
    let clientPEM: String
    let clientKeyPEM: String

    let root: Certificate
    let server: Certificate
    let serverKey: PrivateKey
    let client: Certificate
    let clientKey: PrivateKey

    static let clientSubjectCN = "client.example.test"

    /// The PKI, made on first use; its temporary directory is gone by the time it returns.
    static func shared() throws -> NetworkPKI { try cached.get() }

    private static let cached: Result<NetworkPKI, any Error> = Result { try make() }

    private static func make() throws -> NetworkPKI {
        let directory = try NetworkTemporaryDirectory()
        defer { directory.remove() }
        func openssl(_ arguments: [String]) throws {
            let run = try runOpenSSL(arguments, in: directory)
            guard run.status == 0 else {
                throw NetworkError(.invalidArgument, "openssl \(arguments.first ?? "") failed", detail: run.errors)
            }
        }
        let curve = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        for name in ["ca", "server", "client"] {
            try openssl(["genpkey"] + curve + ["-out", "\(name).key"])
        }
        try openssl(["req", "-x509", "-new", "-key", "ca.key", "-subj", "/O=SEM Tests/CN=SEM Test Root", "-days", "2",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem"])
        try directory.write("""
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth
            subjectAltName=DNS:localhost
            """, to: "server.ext")
        try directory.write("""
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=clientAuth
            """, to: "client.ext")
        for (name, subject, serial) in [("server", "/O=SEM Tests/CN=localhost", "2"),
                                        ("client", "/O=SEM Tests/CN=\(clientSubjectCN)", "3")] {
            try openssl(["req", "-new", "-key", "\(name).key", "-subj", subject, "-out", "\(name).csr"])
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                         "-set_serial", serial, "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).pem"])
        }
        func read(_ name: String) throws -> String { try String(contentsOfFile: directory.path(name), encoding: .utf8) }
        let rootPEM = try read("ca.pem"), serverPEM = try read("server.pem"), clientPEM = try read("client.pem")
        let serverKeyPEM = try read("server.key"), clientKeyPEM = try read("client.key")
        return NetworkPKI(rootPEM: rootPEM, serverPEM: serverPEM, serverKeyPEM: serverKeyPEM, clientPEM: clientPEM,
                          clientKeyPEM: clientKeyPEM,
                          root: try Certificate(pemEncoded: rootPEM), server: try Certificate(pemEncoded: serverPEM),
                          serverKey: try PrivateKey(pemEncoded: serverKeyPEM),
                          client: try Certificate(pemEncoded: clientPEM),
                          clientKey: try PrivateKey(pemEncoded: clientKeyPEM))
    }

    var verifier: RootSignedVerifier { RootSignedVerifier(root: root) }

    /// A server context; `requireClientCertificate` turns on mutual TLS.
    func serverContext(requireClientCertificate: Bool = true, handshakeTimeout: Duration = .seconds(5),
                       versions: TLSVersionPolicy = .tls13Only) throws -> TLSContext {
        var configuration = TLSConfiguration.server(
            chain: [server], key: serverKey, clientAuthentication: requireClientCertificate ? .required : .none,
            peerVerifier: verifier)
        configuration.handshakeTimeout = handshakeTimeout
        configuration.versions = versions
        return try TLSContext(configuration)
    }

    /// A client context, presenting the client certificate unless `withCertificate` is false.
    func clientContext(withCertificate: Bool = true) throws -> TLSContext {
        var configuration = withCertificate
            ? TLSConfiguration.client(peerVerifier: verifier, chain: [client], key: clientKey)
            : TLSConfiguration.client(peerVerifier: verifier)
        configuration.handshakeTimeout = .seconds(5)
        return try TLSContext(configuration)
    }

    /// Writes the PEM files the openssl command needs into `directory`.
    func writeFiles(to directory: NetworkTemporaryDirectory) throws {
        try directory.write(rootPEM, to: "ca.pem")
        try directory.write(serverPEM, to: "server.pem")
        try directory.write(clientPEM, to: "client.pem")
        // Key files are created with mode 0600 from the start.
        for (name, pem) in [("server.key", serverKeyPEM), ("client.key", clientKeyPEM)] {
            guard FileManager.default.createFile(atPath: directory.path(name), contents: Data(pem.utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw NetworkError(.invalidArgument, "Could not write \(name).")
            }
        }
    }
}
