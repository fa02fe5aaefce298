// One entry of the SMI registry's log. Its stored form is the canonical JSON of the whole
// entry (CanonicalJSON, after RFC 8785); an entry's hash is SHA-256 over exactly those
// stored bytes, never over a re-encoding, and each entry names the hash of the one before
// it, so changing any stored byte breaks either a signature or the next link.
//
// The signature covers the canonical JSON of the entry without its `signature` member
// and is made with the SMI signer's key (ECDSA with SHA-256 for the usual P-256 signer).
public import Foundation
public import SEMCrypto
import SEMFederation

/// What an entry records.
public enum RegistryEntryKind: String, Sendable, Codable, CaseIterable {
    case domainRegistered, domainApproved, domainSuspended, profileUpdated, serverAdded, serverRemoved, keyRolled
    case agreementProposed, agreementAccepted, agreementTerminated
    /// Multilateral agreements: formed by a founding member, joined by each other member;
    /// `agreementTerminated` ends them too.
    case groupFormed, groupJoined
    /// A member domain's signed report about a sender of another member domain.
    case abuseReported
}

/// The SMI signer's signature on an entry.
public struct RegistrySignature: Sendable, Equatable, Codable {
    /// The signer's certificate, DER (base64 in JSON).
    public var certificate: Data
    /// The signature over the entry's signed bytes (base64 in JSON).
    public var value: Data

    public init(certificate: Data, value: Data) {
        self.certificate = certificate
        self.value = value
    }
}

/// One log entry with the exact bytes it was stored or received as.
public struct RegistryEntry: Sendable, Equatable {
    /// Hex SHA-256 that stands for "no previous entry" in the first entry.
    public static let zeroHash = String(repeating: "0", count: 64)
    /// Bound on one stored entry; registrations with certificates stay far below it.
    public static let maximumBytes = 1 << 20

    public let sequence: UInt64
    /// Hex SHA-256 of the previous entry's stored bytes.
    public let previousHash: String
    public let time: Date
    public let kind: RegistryEntryKind
    /// The lower-case domain the entry concerns (the proposing domain for agreements).
    public let domain: String
    public let payload: JSONValue
    public let signature: RegistrySignature
    /// The canonical JSON of the whole entry: what is stored and what the hash covers.
    public let bytes: Data

    /// Hex SHA-256 of `bytes`.
    public var hash: String { Digest.sha256(bytes).hexString }

    /// Makes and signs a new entry.
    public init(sequence: UInt64, previousHash: String, time: Date, kind: RegistryEntryKind, domain: String,
                payload: JSONValue, signer: CertifiedKey) throws {
        guard case .object = payload else {
            throw RegistryError(.invalidPayload, sequence: sequence, "The payload of an entry must be a JSON object.")
        }
        let body = Body(sequence: sequence, previousHash: previousHash, time: time, kind: kind,
                        domain: domain.lowercased(), payload: payload)
        let signed = try Self.encode(body, sequence: sequence)
        let value: Data
        do {
            value = try signer.key.sign(signed, digest: .sha256)
        } catch let error as CryptoError {
            throw RegistryError(.signatureInvalid, sequence: sequence, "The entry could not be signed: \(error.reason)")
        }
        let signature = RegistrySignature(certificate: signer.certificate.derEncoded, value: value)
        let bytes = try Self.encode(Whole(body: body, signature: signature), sequence: sequence)
        guard bytes.count <= Self.maximumBytes else {
            throw RegistryError(.invalidPayload, sequence: sequence,
                                "The entry is \(bytes.count) bytes; at most \(Self.maximumBytes) are allowed.")
        }
        // Read back from the bytes, so that a new entry equals the one every reader parses
        // (the time, for one, keeps whole seconds only).
        self = try RegistryEntry(bytes: bytes, position: sequence)
    }

    /// Parses stored or received bytes, which must be the canonical form of an entry.
    /// `position` names the entry in errors when the bytes cannot even be read.
    public init(bytes: Data, position: UInt64? = nil) throws {
        guard bytes.count <= Self.maximumBytes else {
            throw RegistryError(.malformedEntry, sequence: position, "The entry is larger than \(Self.maximumBytes) bytes.")
        }
        let whole: Whole
        do {
            whole = try CanonicalJSON.decodeCanonical(Whole.self, from: bytes)
        } catch let error as FederationError {
            throw RegistryError(.malformedEntry, sequence: position, "The entry is not a canonical log entry: \(error.reason)")
        }
        guard case .object = whole.body.payload else {
            throw RegistryError(.malformedEntry, sequence: whole.body.sequence, "The entry's payload is not a JSON object.")
        }
        self.init(body: whole.body, signature: whole.signature, bytes: bytes)
    }

    private init(body: Body, signature: RegistrySignature, bytes: Data) {
        sequence = body.sequence
        previousHash = body.previousHash
        time = body.time
        kind = body.kind
        domain = body.domain
        payload = body.payload
        self.signature = signature
        self.bytes = bytes
    }

    /// The bytes the signature covers: the canonical JSON of the entry without `signature`.
    public func signedBytes() throws -> Data {
        try Self.encode(Body(sequence: sequence, previousHash: previousHash, time: time, kind: kind, domain: domain,
                             payload: payload), sequence: sequence)
    }

    /// The signer's certificate, parsed.
    public func signerCertificate() throws -> Certificate {
        do { return try Certificate(derEncoded: signature.certificate) } catch {
            throw RegistryError(.unknownSigner, sequence: sequence, "The entry's signer certificate is not valid DER.")
        }
    }

    /// Whether the signature verifies with the public key of the enclosed certificate.
    /// Whether that certificate is trusted is a separate question (`RegistryLog`).
    public func hasValidSignature() -> Bool {
        guard let certificate = try? signerCertificate(), let signed = try? signedBytes() else { return false }
        return certificate.publicKey.isValidSignature(signature.value, for: signed, digest: .sha256)
    }

    /// The payload decoded as `type`; throws `.invalidPayload` naming the entry.
    public func payload<T: Decodable>(as type: T.Type) throws -> T {
        do { return try payload.decode(type) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, sequence: sequence,
                                "The \(kind.rawValue) payload does not fit its model: \(error.reason)")
        }
    }

    private static func encode<T: Encodable>(_ value: T, sequence: UInt64) throws -> Data {
        do { return try CanonicalJSON.encode(value) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, sequence: sequence, "The entry cannot be written: \(error.reason)")
        }
    }
}

// MARK: Wire form

extension RegistryEntry {
    /// The signed part of an entry.
    struct Body: Codable {
        var sequence: UInt64
        var previousHash: String
        var time: Date
        var kind: RegistryEntryKind
        var domain: String
        var payload: JSONValue
    }

    /// The whole entry: the signed part and its signature, as one flat JSON object.
    struct Whole: Codable {
        var body: Body
        var signature: RegistrySignature

        enum CodingKeys: String, CodingKey, CaseIterable {
            case sequence, previousHash, time, kind, domain, payload, signature
        }

        init(body: Body, signature: RegistrySignature) {
            self.body = body
            self.signature = signature
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Members outside the model would be stored and hashed but mean nothing; refused.
            let known = Set(CodingKeys.allCases.map(\.stringValue))
            let all = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            if let unknown = all.first(where: { !known.contains($0) }) {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown member \"\(unknown)\""))
            }
            body = Body(sequence: try container.decode(UInt64.self, forKey: .sequence),
                        previousHash: try container.decode(String.self, forKey: .previousHash),
                        time: try container.decode(Date.self, forKey: .time),
                        kind: try container.decode(RegistryEntryKind.self, forKey: .kind),
                        domain: try container.decode(String.self, forKey: .domain),
                        payload: try container.decode(JSONValue.self, forKey: .payload))
            signature = try container.decode(RegistrySignature.self, forKey: .signature)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(body.sequence, forKey: .sequence)
            try container.encode(body.previousHash, forKey: .previousHash)
            try container.encode(body.time, forKey: .time)
            try container.encode(body.kind, forKey: .kind)
            try container.encode(body.domain, forKey: .domain)
            try container.encode(body.payload, forKey: .payload)
            try container.encode(signature, forKey: .signature)
        }
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        let intValue: Int? = nil
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }
}
