// The libp11 ENGINE ("pkcs11", package libengine-pkcs11-openssl) that turns a key on a
// token into an EVP_PKEY. OpenSSL then signs, decrypts and derives with it as with any
// key, while every private-key operation runs on the token.
//
// The ENGINE API is deprecated in OpenSSL 3 but is still how libp11 0.4.12 exposes
// tokens; the umbrella header silences the deprecation warnings.
import COpenSSL
import Foundation

/// An initialised `pkcs11` ENGINE bound to one module. Owned by `PKCS11Module`, which
/// serialises its use: the PIN set on an ENGINE applies to everything it loads.
final class PKCS11Engine {
    private let engine: OpaquePointer

    /// Loads the ENGINE and points it at `modulePath` (which must be set before ENGINE_init).
    init(modulePath: String) throws {
        OpenSSL.clearErrors()
        guard let engine = ENGINE_by_id("pkcs11") else {
            throw OpenSSL.error(.tokenFailure, "The OpenSSL pkcs11 engine is not installed (Debian package "
                                + "libengine-pkcs11-openssl).")
        }
        // Without QUIET, libp11 prints failures such as "Login failed" on standard error.
        _ = ENGINE_ctrl_cmd_string(engine, "QUIET", nil, 1)
        OpenSSL.clearErrors()
        guard ENGINE_ctrl_cmd_string(engine, "MODULE_PATH", modulePath, 0) == 1 else {
            ENGINE_free(engine)
            throw OpenSSL.error(.tokenFailure, "The pkcs11 engine refused the module path \(modulePath).")
        }
        guard ENGINE_init(engine) == 1 else {
            ENGINE_free(engine)
            throw OpenSSL.error(.tokenFailure, "The pkcs11 engine could not be initialised for \(modulePath).")
        }
        self.engine = engine
    }

    deinit {
        ENGINE_finish(engine)
        ENGINE_free(engine)
    }

    /// Loads the private key named by `uri` (RFC 7512). The PIN is handed to the
    /// ENGINE for the load only and replaced by an empty one afterwards, so that it
    /// does not stay in the ENGINE's memory and so that a later load that needs a
    /// login fails instead of prompting on a terminal.
    func loadPrivateKey(uri: String, pin: Secret) throws -> OpaquePointer {
        var text = try pin.cString()
        defer { text.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        OpenSSL.clearErrors()
        guard ENGINE_ctrl_cmd_string(engine, "PIN", text, 0) == 1 else {
            throw OpenSSL.error(.tokenFailure, "The pkcs11 engine did not accept a PIN.")
        }
        defer {
            _ = ENGINE_ctrl_cmd_string(engine, "PIN", "", 0)
            OpenSSL.clearErrors()
        }
        guard let key = ENGINE_load_private_key(engine, uri, nil, nil) else {
            throw OpenSSL.error(.tokenFailure, "The token key \(uri) could not be loaded through the pkcs11 engine.")
        }
        return key
    }

    /// DER of the named-curve OID, the CKA_EC_PARAMS value for key generation
    /// (PKCS#11 v2.40 §2.3.3; RFC 5480 §2.1.1.1 ECParameters namedCurve).
    static func curveParameters(_ algorithm: KeyAlgorithm) throws -> [UInt8] {
        let nid: Int32
        switch algorithm {
        case .ecP256: nid = NID_X9_62_prime256v1
        case .ecP384: nid = NID_secp384r1
        case .rsa: throw CryptoError(.invalidArgument, "RSA keys have no curve.")
        }
        OpenSSL.clearErrors()
        let object = try OpenSSL.unwrap(OBJ_nid2obj(nid), .internalFailure, "The curve identifier is unknown.")
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_ASN1_OBJECT(object, &out)
        guard length > 0, let out else {
            throw OpenSSL.error(.internalFailure, "The curve identifier could not be encoded.")
        }
        defer { CRYPTO_free(out, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}

extension PrivateKey {
    /// Wraps an EVP_PKEY loaded from a token, after checking that its type and size
    /// are ones the system accepts; frees it otherwise.
    convenience init(adoptingTokenKey pointer: OpaquePointer, location: KeyLocation, owner: AnyObject) throws {
        do { try KeyAlgorithm.validate(pointer) } catch {
            EVP_PKEY_free(pointer)
            throw error
        }
        self.init(owning: pointer, location: location, owner: owner)
    }
}
