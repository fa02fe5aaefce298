// MANIFEST.json of a kept demo: every certificate, key file, configuration, endpoint and
// stored blob, so that a person can find their way around it; and the block of endpoints
// `--serve` prints. Both read the configuration files the servers run with, so they
// list the same addresses.
import Foundation
import SEMCredentials
import SEMMail
import SEMRegistry

enum DemoManifest {
    /// One server endpoint as a client reaches it.
    struct Service {
        /// Its key in MANIFEST.json.
        let key: String
        let title: String
        let scheme: String
        let endpoint: Endpoint
        let note: String

        var address: String { scheme.isEmpty ? "\(endpoint)" : "\(scheme)://\(endpoint)" }
    }

    static func write(federation: DemoFederation, to directory: URL) throws {
        let manager = FileManager.default
        var attachments: Set<String> = []
        for name in federation.ports.names {
            attachments.formUnion(attachmentBlobs(of: DomainDirectory(domain: name, parent: directory)))
        }
        var files: [String: [String]] = [:]
        if let walker = manager.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                let relative = String(url.path.dropFirst(directory.path.count + 1))
                let kind: String
                switch true {
                case relative.hasSuffix(".key.pem"): kind = "keyFiles"
                case relative.hasSuffix(".pem") || relative.hasSuffix(".crl"): kind = "certificates"
                case relative.hasSuffix(".json"): kind = "configuration"
                case relative.contains("/blobs/"):
                    kind = attachments.contains(url.lastPathComponent) ? "storedAttachments" : "storedMessages"
                case relative.hasSuffix(".sqlite") || relative.contains(".sqlite-"): kind = "databases"
                case relative.hasPrefix("tokens/"): kind = "tokens"
                default: kind = "other"
                }
                files[kind, default: []].append(relative)
            }
        }
        var endpoints: [String: [String: String]] = [:]
        for (group, services) in try self.endpoints(under: directory, domains: federation.ports.names) {
            endpoints[group] = Dictionary(uniqueKeysWithValues: services.map { ($0.key, "\($0.endpoint)") })
        }
        for name in federation.ports.names {
            guard let ca = try? DomainDirectory(domain: name, parent: directory).caConfiguration() else { continue }
            endpoints[name]?["ocsp"] = ca.ocspURL
            endpoints[name]?["crl"] = ca.crlURL
        }
        endpoints["smi"]?["trust-list"] = "/v1/trust-list"
        let manifest: [String: Any] = ["files": files.mapValues { $0.sorted() }, "endpoints": endpoints,
                                       "passphraseFile": "PASSPHRASE"]
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: directory.appendingPathComponent("MANIFEST.json"), options: .atomic)
        let secret = directory.appendingPathComponent("PASSPHRASE")
        guard manager.createFile(atPath: secret.path, contents: Data((federation.passphrase + "\n").utf8),
                                 attributes: [.posixPermissions: 0o600]) else {
            throw DemoFailure("could not write \(secret.path)")
        }
    }

    /// The block `--serve` prints: every endpoint, one line each.
    static func printEndpoints(of federation: DemoFederation) throws {
        print("\nEndpoints (all on 127.0.0.1; a TLS client should send the server name shown):")
        for (group, services) in try endpoints(under: federation.root, domains: federation.ports.names) {
            for service in services {
                let title = "\(group == "smi" ? "" : group + " ")\(service.title)"
                print("  \(title.padding(toLength: 16, withPad: " ", startingAt: 0)) "
                      + "\(service.address.padding(toLength: 24, withPad: " ", startingAt: 0)) \(service.note)")
            }
        }
        let roots = federation.ports.names.map { "\($0)/pki/root-ca.pem" } + ["smi/pki/smi-root.pem"]
        print("  Roots to trust, under \(federation.root.path): \(roots.joined(separator: ", "))")
    }

    /// Every endpoint of the demo under `directory`, grouped as "smi" and by domain;
    /// a part that was never created is left out.
    static func endpoints(under directory: URL, domains: [String]) throws -> [(group: String, services: [Service])] {
        var groups: [(group: String, services: [Service])] = []
        let smi = SMIDirectory(url: directory.appendingPathComponent("smi", isDirectory: true))
        if FileManager.default.fileExists(atPath: smi.configurationURL.path) {
            let configuration = try smi.configuration()
            groups.append(("smi", [Service(key: "https", title: "SMI", scheme: "https", endpoint: configuration.https,
                                           note: "registry: GET /v1/trust-list, signer smi/pki/smi.pem")]))
        }
        for name in domains {
            let domain = DomainDirectory(domain: name, parent: directory)
            guard FileManager.default.fileExists(atPath: domain.configurationURL(role: "mail").path) else { continue }
            let ca = try domain.caConfiguration(), pdp = try domain.pdpConfiguration(), mail = try domain.mailConfiguration()
            groups.append((name, [
                Service(key: "ca-https", title: "CA", scheme: "https", endpoint: ca.https,
                        note: "EST enrolment and directory (ca.\(name))"),
                Service(key: "ca-http", title: "CA", scheme: "http", endpoint: ca.http, note: "CRL and OCSP"),
                Service(key: "pdp-https", title: "PDP", scheme: "https", endpoint: pdp.https,
                        note: "POST /v1/decisions, mutual TLS with mail.\(name)'s certificate (pdp.\(name))"),
                Service(key: "mail-https", title: "mail", scheme: "https", endpoint: mail.https,
                        note: "client API, login with a user's certificate (mail.\(name))"),
                Service(key: "smtp", title: "SMTP", scheme: "", endpoint: mail.smtp,
                        note: "SMTP with STARTTLS between registered servers (mail.\(name))"),
            ]))
        }
        return groups
    }

    /// Names of the blobs that `domain`'s mail storage records as attachments. Its blob
    /// store holds message contents (letters, notifications, receipts) and attachments
    /// and nothing else, so every other blob is a message. A blob is named by the SHA-256
    /// of its content and an attachment's id is that name, which makes this one look-up each.
    private static func attachmentBlobs(of domain: DomainDirectory) -> Set<String> {
        guard let configuration = try? domain.mailConfiguration(),
              let storage = try? SQLiteMailStorage(databasePath: domain.path(configuration.database).path,
                                                   blobDirectory: domain.path(configuration.blobs)),
              let names = try? FileManager.default.subpathsOfDirectory(atPath: domain.path(configuration.blobs).path)
        else { return [] }
        return Set(names.map { URL(fileURLWithPath: $0).lastPathComponent }
            .filter { (try? storage.attachment(id: $0)) != nil })
    }
}
