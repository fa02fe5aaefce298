import Dispatch
import Foundation
import SEMCrypto
import Synchronization
import Testing

/// What the server side of a test handshake saw.
private struct ServerOutcome: Sendable {
    var error: TLSError?
    var version: String?
    var peerSubject: String?
    var received: String?
}

/// Runs a TLS server on one end of a socket pair (on a background thread) and a client
/// on the other; the client sends "ping" and reads the answer.
private func exchange(server: TLSContext, client: TLSContext, serverName: String)
    -> (server: ServerOutcome, client: Result<(String, String), TLSError>) {
    var fds: [Int32] = [0, 0]
    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
    let serverFD = fds[0], clientFD = fds[1]
    let outcome = Mutex(ServerOutcome())
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        defer { close(serverFD); done.signal() }
        do {
            let connection = try TLSConnection(context: server, fileDescriptor: serverFD)
            try connection.handshake()
            let request = try connection.read(maximum: 64)
            try connection.write(Data("pong".utf8))
            connection.close()
            outcome.withLock {
                $0.version = connection.protocolVersion
                $0.peerSubject = connection.peerCertificate?.subject.commonName
                $0.received = String(decoding: request, as: UTF8.self)
            }
        } catch let error as TLSError {
            outcome.withLock { $0.error = error }
        } catch {
            outcome.withLock { $0.error = TLSError(.ioFailed, "\(error)") }
        }
    }
    let clientResult: Result<(String, String), TLSError>
    do {
        let connection = try TLSConnection(context: client, fileDescriptor: clientFD, serverName: serverName)
        try connection.handshake()
        try connection.write(Data("ping".utf8))
        // In TLS 1.3 a refused client certificate only shows up on the first read.
        let answer = try connection.read(maximum: 64)
        if answer.isEmpty { throw TLSError(.connectionClosed, "closed without an answer") }
        clientResult = .success((connection.protocolVersion, String(decoding: answer, as: UTF8.self)))
    } catch let error as TLSError {
        clientResult = .failure(error)
    } catch {
        clientResult = .failure(TLSError(.ioFailed, "\(error)"))
    }
    close(clientFD)
    done.wait()
    return (outcome.withLock { $0 }, clientResult)
}

/// A domain PKI with a mail server and a user, plus a validator that trusts its root.
private struct TLSFixture {
    let pki: X509TestPKI
    let server: (certificate: Certificate, key: PrivateKey)
    let user: (certificate: Certificate, key: PrivateKey)
    let revoked: [RevokedEntry]

    init(revokeUser: Bool = false) throws {
        pki = try X509TestPKI()
        server = try pki.leaf(.tlsServer, name: "Mail", dnsNames: ["mail.example.test"])
        user = try pki.leaf(.userSigning, name: "Alice")
        revoked = revokeUser ? [RevokedEntry(serialNumber: user.certificate.serialNumber,
                                             revocationDate: pki.now - 30, reason: .keyCompromise)] : []
    }

    func verifier(_ purpose: CertificatePurpose) throws -> PathValidatingPeerVerifier {
        let crls = [
            try CertificateRevocationList.issue(issuer: pki.root.certificate, key: pki.root.key, thisUpdate: pki.now - 60,
                                                nextUpdate: pki.now + 3600, crlNumber: 1, revoked: []),
            try CertificateRevocationList.issue(issuer: pki.issuing.certificate, key: pki.issuing.key,
                                                thisUpdate: pki.now - 60, nextUpdate: pki.now + 3600, crlNumber: 1,
                                                revoked: revoked),
        ]
        let validator = PathValidator(trustAnchors: [pki.root.certificate],
                                      revocationChecker: RevocationEvidence(crls: crls))
        return PathValidatingPeerVerifier(validator: validator, purpose: purpose)
    }

    func serverContext() throws -> TLSContext {
        try TLSContext(.server(chain: [server.certificate, pki.issuing.certificate], key: server.key,
                               clientAuthentication: .required, peerVerifier: try verifier(.tlsClient)))
    }

    func clientContext(withCertificate: Bool = true) throws -> TLSContext {
        try TLSContext(.client(peerVerifier: try verifier(.tlsServer),
                               chain: withCertificate ? [user.certificate, pki.issuing.certificate] : [],
                               key: withCertificate ? user.key : nil))
    }
}

@Suite("TLS")
struct TLSTests {
    @Test("mutual TLS 1.3 succeeds and each side sees the other's validated certificate")
    func mutualTLS() throws {
        let fixture = try TLSFixture()
        let result = exchange(server: try fixture.serverContext(), client: try fixture.clientContext(),
                              serverName: "mail.example.test")
        let (version, answer) = try result.client.get()
        #expect(version == "TLSv1.3")
        #expect(answer == "pong")
        #expect(result.server.error == nil)
        #expect(result.server.version == "TLSv1.3")
        #expect(result.server.peerSubject == "Alice")
        #expect(result.server.received == "ping")
    }

    @Test("a client whose certificate is revoked is refused by the server's path validation")
    func revokedClientRefused() throws {
        let fixture = try TLSFixture(revokeUser: true)
        let result = exchange(server: try fixture.serverContext(), client: try fixture.clientContext(),
                              serverName: "mail.example.test")
        #expect(result.server.error?.code == .peerRejected)
        #expect(result.server.error?.reason.contains("revoked") == true)
        #expect(throws: (any Error).self) { try result.client.get() }
    }

    @Test("a server that requires client certificates refuses a client without one")
    func missingClientCertificate() throws {
        let fixture = try TLSFixture()
        let result = exchange(server: try fixture.serverContext(), client: try fixture.clientContext(withCertificate: false),
                              serverName: "mail.example.test")
        #expect(result.server.error != nil)
        #expect(throws: (any Error).self) { try result.client.get() }
    }

    @Test("the client refuses a server certificate issued for another name")
    func wrongServerName() throws {
        let fixture = try TLSFixture()
        let result = exchange(server: try fixture.serverContext(), client: try fixture.clientContext(),
                              serverName: "other.example.test")
        guard case .failure(let error) = result.client else {
            Issue.record("the client accepted a certificate for another name")
            return
        }
        #expect(error.code == .peerRejected)
        #expect(error.reason.contains("other.example.test"))
    }

    @Test("the client refuses a server from a PKI it does not trust")
    func untrustedServer() throws {
        let fixture = try TLSFixture()
        let stranger = try TLSFixture()
        let result = exchange(server: try stranger.serverContext(), client: try fixture.clientContext(),
                              serverName: "mail.example.test")
        guard case .failure(let error) = result.client else {
            Issue.record("the client accepted an untrusted server")
            return
        }
        #expect(error.code == .peerRejected)
        #expect(error.reason.contains("trusted authority"))
    }

    @Test("a client configuration without a verifier is refused")
    func clientNeedsVerifier() {
        #expect(throws: TLSError(.configurationInvalid, "")) {
            try TLSContext(TLSConfiguration(role: .client))
        }
    }

    @Test("a handshake with a silent peer times out")
    func handshakeTimeout() throws {
        let fixture = try TLSFixture()
        var configuration = TLSConfiguration.client(peerVerifier: try fixture.verifier(.tlsServer))
        configuration.handshakeTimeout = .milliseconds(200)
        let context = try TLSContext(configuration)
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let connection = try TLSConnection(context: context, fileDescriptor: fds[1], serverName: "mail.example.test")
        #expect(throws: TLSError(.timedOut, "")) { try connection.handshake() }
    }
}
