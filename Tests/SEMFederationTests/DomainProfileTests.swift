import Foundation
import SEMCrypto
import SEMFederation
import Testing

@Suite("Domain profiles")
struct DomainProfileTests {
    @Test("a default profile is valid and round-trips through canonical JSON")
    func roundTrip() throws {
        let profile = DomainProfile()
        try profile.validate()
        let bytes = try CanonicalJSON.encode(profile)
        #expect(try CanonicalJSON.decodeCanonical(DomainProfile.self, from: bytes) == profile)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""contentEncryption":["AES-256-GCM","AES-256-CBC","AES-128-GCM"]"#))
        #expect(text.contains(#""receipts":"on-request""#))
    }

    private func mutated(_ key: String, _ value: String) throws -> Data {
        var text = String(decoding: try CanonicalJSON.encode(DomainProfile()), as: UTF8.self)
        let pattern = try Regex("\"\(key)\":(\\[[^\\]]*\\]|\"[^\"]*\"|[0-9-]+)")
        text = text.replacing(pattern, with: "\"\(key)\":\(value)")
        return Data(text.utf8)
    }

    @Test("invalid profiles are refused with a sentence naming the fault", arguments: [
        ("contentEncryption", #"["AES-256-GCM","DES-CBC"]"#, "DES-CBC"),
        ("contentEncryption", "[]", "lists no content-encryption algorithm"),
        ("keyManagement", #"["RSA-PKCS1v15"]"#, "RSA-PKCS1v15"),
        ("digests", #"["SHA-256","SHA-256"]"#, "more than once"),
        ("signatures", #"["DSA-SHA1"]"#, "DSA-SHA1"),
        ("assurance", #""medium""#, "medium"),
        ("receipts", #""sometimes""#, "sometimes"),
        ("minimumRSABits", "1024", "1024 bits"),
        ("maximumMessageBytes", "0", "messages of 0 bytes"),
        ("maximumAttachmentBytes", "-1", "attachments of -1 bytes"),
    ])
    func refusals(key: String, value: String, fragment: String) throws {
        let json = try mutated(key, value)
        #expect(String(decoding: json, as: UTF8.self).contains(value))
        do {
            _ = try CanonicalJSON.decode(DomainProfile.self, from: json)
            Issue.record("\(key)=\(value) was accepted")
        } catch let error as FederationError {
            #expect(error.code == .invalidProfile)
            #expect(error.reason.contains(fragment), "\(error.reason)")
        }
    }

    @Test("unknown members are refused")
    func unknownMember() throws {
        var text = String(decoding: try CanonicalJSON.encode(DomainProfile()), as: UTF8.self)
        text.removeLast()
        text += #","zeta":1}"#
        #expect(throws: FederationError(.invalidJSON, "")) {
            try CanonicalJSON.decode(DomainProfile.self, from: Data(text.utf8))
        }
    }
}
