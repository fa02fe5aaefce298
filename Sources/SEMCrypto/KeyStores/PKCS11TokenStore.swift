// A key store on a PKCS#11 token (smart card, USB token, HSM, SoftHSM), architecture R4.
//
// Token management (finding the token by label, logging in, generating, listing and
// deleting keys) talks PKCS#11 directly through the module's function list. Using a key
// goes through the libp11 ENGINE, which gives OpenSSL an EVP_PKEY whose operations run on
// the token. libp11 0.4.12's own C API is not used for key generation: it only has the
// deprecated PKCS11_generate_key, which makes RSA keys alone and does not let the caller
// mark them non-extractable. C_GenerateKeyPair with explicit templates makes EC and RSA
// keys that are CKA_SENSITIVE and not CKA_EXTRACTABLE (PKCS#11 v2.40 §4.9), so the
// private key can never be read off the token, not even wrapped.
//
// Tokens are addressed by label, never by slot number: slot numbers change between
// runs (SoftHSM assigns random ones).
//
// Thread safety: each store has one PKCS#11 session, and PKCS#11 forbids using a
// session from two threads at once, so every token operation of a store runs under
// the store's mutex. Operations that touch state shared by all stores on a module (the
// ENGINE and logins) additionally take the module's mutex, always second.
//
// Known limits: deleting a key removes the private and public key objects with that
// label, not a certificate stored under the same label. The PIN is kept in memory (as a
// `Secret`) for the store's lifetime because loading a key may need a fresh login. The
// libp11 ENGINE lists the module's slots once, at its first use, so a token that appears
// later may be found and managed by a new store while its keys cannot be loaded until the
// process restarts (SoftHSM itself scans its token directory only at initialisation).
// A key whose object has CKA_ALWAYS_AUTHENTICATE (a PIN per signature) is not supported.
import CPKCS11
import Foundation
import Synchronization

/// Private keys on one PKCS#11 token, addressed by the token's label.
public final class PKCS11TokenStore: KeyStore {
    /// Path of the PKCS#11 module with symbolic links resolved
    /// (for example /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so).
    public let modulePath: String
    /// Label of the token this store uses.
    public let tokenLabel: String
    private let pin: Secret
    private let module: PKCS11Module
    private let session: Mutex<PKCS11Session>

    /// Loads `modulePath` (once per process), finds the token labelled `tokenLabel` and
    /// logs in with `pin`.
    /// - Throws: `.tokenFailure` when the module is missing or unusable, when no token
    ///   (or more than one) has that label, or when the PIN is wrong or locked. The PIN
    ///   never appears in an error.
    public init(modulePath: String, tokenLabel: String, pin: Secret) throws {
        _ = try pin.cString()  // a PIN with a NUL cannot reach the ENGINE
        let module = try PKCS11Module.shared(path: modulePath)
        let slot = try module.slot(tokenLabel: tokenLabel)
        let session = try PKCS11Session.open(module, slot: slot, tokenLabel: tokenLabel)
        do {
            try module.logIn(session: session.handle, slot: slot, tokenLabel: tokenLabel, pin: pin)
        } catch {
            session.close()
            throw error
        }
        self.modulePath = module.path
        self.tokenLabel = tokenLabel
        self.pin = pin
        self.module = module
        self.session = Mutex(session)
    }

    deinit { session.withLock { $0.close() } }

    public var description: String { "PKCS#11 token '\(tokenLabel)' (\(modulePath))" }

    /// Generates a key pair on the token: the private key is sensitive and cannot be
    /// extracted; EC private keys may sign and derive (ECDH), RSA ones sign and decrypt.
    /// - Throws: `.invalidArgument` for a malformed or taken label,
    ///   `.unsupportedAlgorithm` for an RSA size below 3072 bits, `.tokenFailure` when
    ///   the token refuses.
    public func generateKey(label: String, algorithm: KeyAlgorithm) throws -> PrivateKey {
        try Self.validate(label: label)
        let templates = try Self.templates(label: label, algorithm: algorithm)
        try session.withLock { session in
            // The module lock makes check-and-create atomic for every store in this
            // process; another process writing to the same token could still race.
            try module.state.withLock { _ in
                let existing = try session.keys(class: CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: label)
                    + session.keys(class: CK_OBJECT_CLASS(CKO_PUBLIC_KEY), label: label)
                guard existing.isEmpty else {
                    throw CryptoError(.invalidArgument,
                                      "A key labelled '\(label)' already exists on token '\(tokenLabel)'.")
                }
                try session.generateKeyPair(mechanism: templates.mechanism, publicTemplate: templates.publicKey,
                                            privateTemplate: templates.privateKey, tokenLabel: tokenLabel)
            }
        }
        return try privateKey(label: label)
    }

    /// The key labelled `label`, usable for signing, decryption and key agreement;
    /// exporting it throws `.keyNotExtractable`.
    /// - Throws: `.keyNotFound` when the token has no private key with that label.
    public func privateKey(label: String) throws -> PrivateKey {
        try Self.validate(label: label)
        return try session.withLock { session in
            let found = try session.keys(class: CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: label)
            guard !found.isEmpty else {
                throw CryptoError(.keyNotFound, "No private key labelled '\(label)' on token '\(tokenLabel)'.")
            }
            guard found.count == 1 else {
                throw CryptoError(.tokenFailure, "\(found.count) private keys are labelled '\(label)' on token "
                                  + "'\(tokenLabel)'; rename or delete the extra ones.")
            }
            let uri = "pkcs11:token=\(Self.percentEncoded(tokenLabel));object=\(label);type=private"
            return try module.loadPrivateKey(uri: uri, pin: pin, location: .token(label: tokenLabel, object: label))
        }
    }

    /// Labels of the private keys on the token, sorted, each once.
    public func labels() throws -> [String] {
        try session.withLock { session in
            let keys = try session.findObjects([.ulong(CK_ATTRIBUTE_TYPE(CKA_CLASS), CK_OBJECT_CLASS(CKO_PRIVATE_KEY))])
            return Set(try keys.compactMap { try session.label(of: $0) }).sorted()
        }
    }

    /// Removes the private key labelled `label` and its public key.
    /// - Throws: `.keyNotFound` when there is no private key with that label.
    public func deleteKey(label: String) throws {
        try Self.validate(label: label)
        try session.withLock { session in
            let privateKeys = try session.keys(class: CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: label)
            guard !privateKeys.isEmpty else {
                throw CryptoError(.keyNotFound, "No private key labelled '\(label)' on token '\(tokenLabel)'.")
            }
            let publicKeys = try session.keys(class: CK_OBJECT_CLASS(CKO_PUBLIC_KEY), label: label)
            for object in privateKeys + publicKeys { try session.destroy(object) }
        }
    }

    /// Key-pair templates (PKCS#11 v2.40 §2.1.4 RSA, §2.3.8 EC key pair generation).
    /// Every usage is set explicitly: modules differ in their defaults (SoftHSM turns
    /// on decrypt and unwrap unless told otherwise), and a key should do only its job.
    private static func templates(label: String, algorithm: KeyAlgorithm) throws
        -> (mechanism: CK_MECHANISM_TYPE, publicKey: [PKCS11Attribute], privateKey: [PKCS11Attribute]) {
        // CKA_ID links the two halves (and later a certificate) the way most tools expect.
        let id = PKCS11Attribute(type: CK_ATTRIBUTE_TYPE(CKA_ID), value: Array(SecureRandom.bytes(16)))
        let name = PKCS11Attribute.text(CK_ATTRIBUTE_TYPE(CKA_LABEL), label)
        var publicKey: [PKCS11Attribute] = [
            .ulong(CK_ATTRIBUTE_TYPE(CKA_CLASS), CK_OBJECT_CLASS(CKO_PUBLIC_KEY)),
            .bool(CK_ATTRIBUTE_TYPE(CKA_TOKEN), true), .bool(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), false),
            .bool(CK_ATTRIBUTE_TYPE(CKA_VERIFY), true), .bool(CK_ATTRIBUTE_TYPE(CKA_WRAP), false), name, id,
        ]
        var privateKey: [PKCS11Attribute] = [
            .ulong(CK_ATTRIBUTE_TYPE(CKA_CLASS), CK_OBJECT_CLASS(CKO_PRIVATE_KEY)),
            .bool(CK_ATTRIBUTE_TYPE(CKA_TOKEN), true), .bool(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), true),
            .bool(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), true), .bool(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), false),
            .bool(CK_ATTRIBUTE_TYPE(CKA_SIGN), true), .bool(CK_ATTRIBUTE_TYPE(CKA_UNWRAP), false), name, id,
        ]
        switch algorithm {
        case .rsa(let bits):
            guard bits >= KeyAlgorithm.minimumRSABits, bits <= 8192 else {
                throw CryptoError(.unsupportedAlgorithm, "RSA keys must have between "
                                  + "\(KeyAlgorithm.minimumRSABits) and 8192 bits, not \(bits).")
            }
            publicKey += [.ulong(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), CK_KEY_TYPE(CKK_RSA)),
                          .bool(CK_ATTRIBUTE_TYPE(CKA_ENCRYPT), true),
                          .ulong(CK_ATTRIBUTE_TYPE(CKA_MODULUS_BITS), CK_ULONG(bits)),
                          PKCS11Attribute(type: CK_ATTRIBUTE_TYPE(CKA_PUBLIC_EXPONENT), value: [0x01, 0x00, 0x01])]
            privateKey += [.ulong(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), CK_KEY_TYPE(CKK_RSA)),
                           .bool(CK_ATTRIBUTE_TYPE(CKA_DECRYPT), true), .bool(CK_ATTRIBUTE_TYPE(CKA_DERIVE), false)]
            return (CK_MECHANISM_TYPE(CKM_RSA_PKCS_KEY_PAIR_GEN), publicKey, privateKey)
        case .ecP256, .ecP384:
            publicKey += [.ulong(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), CK_KEY_TYPE(CKK_EC)),
                          .bool(CK_ATTRIBUTE_TYPE(CKA_ENCRYPT), false),
                          PKCS11Attribute(type: CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS),
                                          value: try PKCS11Engine.curveParameters(algorithm))]
            privateKey += [.ulong(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), CK_KEY_TYPE(CKK_EC)),
                           .bool(CK_ATTRIBUTE_TYPE(CKA_DERIVE), true), .bool(CK_ATTRIBUTE_TYPE(CKA_DECRYPT), false)]
            return (CK_MECHANISM_TYPE(CKM_EC_KEY_PAIR_GEN), publicKey, privateKey)
        }
    }

    /// Percent-encodes a token label for a PKCS#11 URI path attribute (RFC 7512 §2.3):
    /// unreserved characters stay, everything else becomes %XX.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

extension PKCS11Module {
    /// Loads a private key through this module's ENGINE, creating the ENGINE on first
    /// use. The key keeps the module (and so the ENGINE) alive.
    func loadPrivateKey(uri: String, pin: Secret, location: KeyLocation) throws -> PrivateKey {
        try state.withLock { state in
            let engine = try state.engine ?? PKCS11Engine(modulePath: path)
            state.engine = engine
            let pointer = try engine.loadPrivateKey(uri: uri, pin: pin)
            return try PrivateKey(adoptingTokenKey: pointer, location: location, owner: self)
        }
    }
}
