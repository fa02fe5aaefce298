// MANIFEST.json of a kept demo: every certificate, key file, configuration, endpoint and
// stored blob, so that a person can find their way around it.
import Foundation

enum DemoManifest {
    static func write(federation: DemoFederation, to directory: URL) throws {
        let manager = FileManager.default
        var files: [String: [String]] = [:]
        if let walker = manager.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                let relative = String(url.path.dropFirst(directory.path.count + 1))
                let kind: String
                switch true {
                case relative.hasSuffix(".key.pem"): kind = "keyFiles"
                case relative.hasSuffix(".pem") || relative.hasSuffix(".crl"): kind = "certificates"
                case relative.hasSuffix(".json"): kind = "configuration"
                case relative.contains("/blobs/"): kind = "storedBlobs"
                case relative.hasSuffix(".sqlite") || relative.contains(".sqlite-"): kind = "databases"
                default: kind = "other"
                }
                files[kind, default: []].append(relative)
            }
        }
        var endpoints: [String: [String: String]] = [:]
        for domain in ["alpha.test", "beta.test"] {
            let configuration = directory.appendingPathComponent(domain)
            guard let ca = try? Data(contentsOf: configuration.appendingPathComponent("ca.json")),
                  let object = try JSONSerialization.jsonObject(with: ca) as? [String: Any] else { continue }
            let https = object["https"] as? [String: Any], http = object["http"] as? [String: Any]
            endpoints[domain] = [
                "ca-https": "\(https?["host"] ?? ""):\(https?["port"] ?? "")",
                "ca-http": "\(http?["host"] ?? ""):\(http?["port"] ?? "")",
                "ocsp": object["ocspURL"] as? String ?? "",
                "crl": object["crlURL"] as? String ?? "",
            ]
            if let mail = try? Data(contentsOf: configuration.appendingPathComponent("mail.json")),
               let mailObject = try JSONSerialization.jsonObject(with: mail) as? [String: Any] {
                let api = mailObject["https"] as? [String: Any], smtp = mailObject["smtp"] as? [String: Any]
                endpoints[domain]?["mail-https"] = "\(api?["host"] ?? ""):\(api?["port"] ?? "")"
                endpoints[domain]?["smtp"] = "\(smtp?["host"] ?? ""):\(smtp?["port"] ?? "")"
            }
        }
        if let smi = try? Data(contentsOf: directory.appendingPathComponent("smi/smi.json")),
           let object = try JSONSerialization.jsonObject(with: smi) as? [String: Any],
           let https = object["https"] as? [String: Any] {
            endpoints["smi"] = ["https": "\(https["host"] ?? ""):\(https["port"] ?? "")", "trust-list": "/v1/trust-list"]
        }
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
}
