// semctl cert revoke | verify
import Foundation
import SEMCommandLine
import SEMCredentials
import SEMCrypto
import SEMTransport

enum CertCommands {
    static func run(_ arguments: [String]) throws -> Int32 {
        switch arguments.first {
        case "revoke": return try revoke(Array(arguments.dropFirst()))
        case "verify": return try verify(Array(arguments.dropFirst()))
        default: throw UsageError("Expected 'cert revoke' or 'cert verify'.")
        }
    }

    static func revoke(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["reason", "domain-dir"])
        try parsed.expectPositionals(atMost: 1)
        let target = try parsed.positional(0, "a serial number or an address")
        let reasonName = try parsed.required("reason")
        guard let reason = RevocationReason.allCases.first(where: { $0.description.lowercased() == reasonName.lowercased() }) else {
            let names = RevocationReason.allCases.map(\.description).joined(separator: ", ")
            throw UsageError("Unknown reason '\(reasonName)'; use one of \(names).")
        }
        let ca = try openCertificateAuthority(try domainDirectory(parsed))
        if target.contains("@") {
            for serial in try ca.revokeAll(of: target.lowercased(), reason: reason) { print("revoked \(serial)") }
        } else {
            let serial = target.replacingOccurrences(of: ":", with: "").lowercased()
            try ca.revoke(serialHex: serial, reason: reason)
            print("revoked \(serial)")
        }
        return 0
    }

    static func verify(_ arguments: [String]) throws -> Int32 {
        let parsed = try Arguments(arguments, options: ["anchor", "untrusted", "crl", "ocsp-response", "purpose", "at"],
                                   flags: ["soft-fail", "ocsp"])
        try parsed.expectPositionals(atMost: 1)
        let leaf = try loadCertificates(try parsed.positional(0, "the certificate to verify")).first!
        let anchors = try parsed.values("anchor").flatMap(loadCertificates)
        guard !anchors.isEmpty else { throw UsageError("At least one --anchor is required.") }
        let untrusted = try parsed.values("untrusted").flatMap(loadCertificates)
        let crls = try parsed.values("crl").map { path in
            let data = try readFile(path)
            if let text = String(data: data, encoding: .utf8), text.contains("-----BEGIN X509 CRL-----") {
                return try CertificateRevocationList(pemEncoded: text)
            }
            return try CertificateRevocationList(derEncoded: data)
        }
        let responses = try parsed.values("ocsp-response").map { try OCSPResponse(derEncoded: try readFile($0)) }
        let purposes: [String: CertificatePurpose] = ["smime-sign": .emailSigning, "smime-encrypt": .emailEncryption,
                                                      "tls-server": .tlsServer, "tls-client": .tlsClient]
        let purposeName = parsed.value("purpose") ?? "smime-sign"
        guard let purpose = purposes[purposeName] else {
            throw UsageError("Unknown purpose '\(purposeName)'; use smime-sign, smime-encrypt, tls-server or tls-client.")
        }
        var time: Date?
        if let text = parsed.value("at") {
            guard let parsedTime = ISO8601DateFormatter().date(from: text) else {
                throw UsageError("--at needs an ISO 8601 time such as 2026-12-03T10:00:00Z.")
            }
            time = parsedTime
        }
        // Files first; with --ocsp, the responders named in the certificates (and their
        // CRL distribution points as the fallback) are asked over HTTP.
        var checkers: [any RevocationChecker] = [RevocationEvidence(crls: crls, ocspResponses: responses)]
        if parsed.flag("ocsp") { checkers.append(OnlineRevocationChecker()) }
        let validator = PathValidator(trustAnchors: anchors, revocationChecker: FirstAnswerRevocationChecker(checkers))
        let verdict = validator.validate(leaf, intermediates: untrusted, policy: ValidationPolicy(
            purpose: purpose, time: time, revocationMode: parsed.flag("soft-fail") ? .softFail : .hardFail))
        switch verdict {
        case .valid(let chain):
            print("valid: \(chain.leaf.subject) for \(purposeName)")
            for (certificate, status) in zip(chain.certificates, chain.revocation) {
                print("  \(certificate.subject): \(describe(status))")
            }
            print("  \(chain.anchor.subject): trust anchor")
            return 0
        case .invalid(let failure):
            print("invalid (\(failure.code)): \(failure)")
            return 1
        }
    }

    private static func describe(_ status: RevocationStatus) -> String {
        switch status {
        case .good(let source): "not revoked (\(source.rawValue))"
        case .revoked(let date, let reason, _): "revoked \(date) (\(reason))"
        case .unknown(let detail): "revocation unknown: \(detail)"
        }
    }

    static func loadCertificates(_ path: String) throws -> [Certificate] {
        let data = try readFile(path)
        if let text = String(data: data, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") {
            return try Certificate.chain(pemEncoded: text)
        }
        return [try Certificate(derEncoded: data)]
    }

    private static func readFile(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw UsageError("Cannot read \(path).")
        }
    }
}
