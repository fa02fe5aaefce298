// A PKCS#11 module (a token driver such as SoftHSM or OpenSC), loaded once per
// process and shared by every token store that names it.
//
// PKCS#11 state is per process, not per caller: C_Initialize runs once per module
// (PKCS#11 v2.40 §5.4), and a login holds for every session the process has with that
// token (§6.7.7). Both this code and the libp11 ENGINE that turns token keys into
// EVP_PKEYs use the same loaded module, and libp11 calls C_Finalize when its context is
// unloaded. So a module, once loaded, stays loaded until the process exits: unloading
// it while any key from it is still in use would break that key. This is the known
// cost of the design: a module cannot be unloaded or reconfigured (SOFTHSM2_CONF and
// similar settings are read once, at the first use).
//
// Because a login is shared, logging in again with any PIN succeeds while the token is
// logged in (CKR_USER_ALREADY_LOGGED_IN). To still refuse a wrong PIN, the module
// remembers a salted SHA-256 of the PIN that last logged in to each slot and compares
// later PINs against it.
import CPKCS11
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One loaded, initialised PKCS#11 module.
///
/// `@unchecked Sendable`: the function list and library handle are immutable after
/// loading and the module is initialised with CKF_OS_LOCKING_OK, so its functions may
/// be called from any thread; the mutable parts (the ENGINE and the PIN records) sit
/// behind `state`.
final class PKCS11Module: @unchecked Sendable {
    /// Canonical path of the module file.
    let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    private let library: UnsafeMutableRawPointer

    struct State {
        var engine: PKCS11Engine?
        /// SHA-256(salt ‖ slot ‖ PIN) of the PIN that logged in, per slot.
        var loginDigests: [CK_SLOT_ID: Data] = [:]
    }

    /// Serialises ENGINE use (its PIN setting is global to the ENGINE) and logins.
    /// Lock order: a store's own lock first, then this one.
    let state = Mutex(State())
    private let salt = SecureRandom.bytes(32)

    private static let loaded = Mutex<[String: PKCS11Module]>([:])

    /// The module at `path`, loading and initialising it on first use.
    /// - Throws: `.tokenFailure` when the file is missing or is not a PKCS#11 module.
    static func shared(path: String) throws -> PKCS11Module {
        guard let resolved = realpath(path, nil) else {
            throw CryptoError(.tokenFailure, "The PKCS#11 module \(path) does not exist or cannot be read.")
        }
        let canonical = String(cString: resolved)
        free(resolved)
        return try loaded.withLock { modules in
            if let module = modules[canonical] { return module }
            let module = try PKCS11Module(canonicalPath: canonical)
            modules[canonical] = module
            return module
        }
    }

    private init(canonicalPath: String) throws {
        path = canonicalPath
        guard let library = dlopen(canonicalPath, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw CryptoError(.tokenFailure, "The PKCS#11 module \(canonicalPath) could not be loaded.", detail: reason)
        }
        guard let symbol = dlsym(library, "C_GetFunctionList") else {
            dlclose(library)
            throw CryptoError(.tokenFailure, "\(canonicalPath) is not a PKCS#11 module (no C_GetFunctionList).")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let listed = getFunctionList(&list)
        guard listed == CKR_OK, let list else {
            dlclose(library)
            throw CryptoError(.tokenFailure, "The PKCS#11 module \(canonicalPath) gave no function list "
                              + "(\(PKCS11Module.name(of: listed))).")
        }
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CKF_OS_LOCKING_OK
        let initialised = list.pointee.C_Initialize(&arguments)
        // Already initialised means another library in this process (for example a
        // libp11 ENGINE configured elsewhere) loaded it first; its state is shared.
        guard initialised == CKR_OK || initialised == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            dlclose(library)
            throw CryptoError(.tokenFailure, "The PKCS#11 module \(canonicalPath) failed to initialise "
                              + "(\(PKCS11Module.name(of: initialised))).")
        }
        self.library = library
        self.functions = list
    }

    deinit {
        // Not reached in practice: modules stay in `loaded` until the process exits.
        state.withLock { $0.engine = nil }
        _ = functions.pointee.C_Finalize(nil)
        dlclose(library)
    }

    /// The slot holding the token labelled `label`.
    /// - Throws: `.tokenFailure` naming the label when no token or several carry it.
    func slot(tokenLabel label: String) throws -> CK_SLOT_ID {
        var count: CK_ULONG = 0
        try check(functions.pointee.C_GetSlotList(CK_BBOOL(CK_TRUE), nil, &count), "Listing the token slots")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try check(functions.pointee.C_GetSlotList(CK_BBOOL(CK_TRUE), &slots, &count), "Listing the token slots")
        var matches: [CK_SLOT_ID] = []
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            guard functions.pointee.C_GetTokenInfo(slot, &info) == CKR_OK else { continue }
            if Self.paddedText(info.label) == label { matches.append(slot) }
        }
        guard let first = matches.first else {
            throw CryptoError(.tokenFailure, "No token labelled '\(label)' is present in \(path).")
        }
        guard matches.count == 1 else {
            throw CryptoError(.tokenFailure, "\(matches.count) tokens are labelled '\(label)' in \(path); "
                              + "token labels must be unique.")
        }
        return first
    }

    /// Logs the user in on `session`, or checks `pin` against the PIN that already
    /// logged in to `slot`. The PIN never appears in an error.
    func logIn(session: CK_SESSION_HANDLE, slot: CK_SLOT_ID, tokenLabel: String, pin: Secret) throws {
        let digest = pinDigest(slot: slot, pin: pin)
        try state.withLock { state in
            var bytes = pin.bytes
            defer { bytes.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
            let result = functions.pointee.C_Login(session, CK_USER_TYPE(CKU_USER), &bytes, CK_ULONG(bytes.count))
            switch result {
            case CKR_OK:
                state.loginDigests[slot] = digest
            case CKR_USER_ALREADY_LOGGED_IN:
                guard let known = state.loginDigests[slot] else {
                    throw CryptoError(.tokenFailure, "Token '\(tokenLabel)' was logged in by other code in this "
                                      + "process, so the PIN cannot be checked.")
                }
                guard ConstantTime.equals(known, digest) else { throw Self.wrongPIN(tokenLabel) }
            case CKR_PIN_INCORRECT, CKR_PIN_LEN_RANGE, CKR_PIN_INVALID:
                throw Self.wrongPIN(tokenLabel)
            case CKR_PIN_LOCKED:
                throw CryptoError(.tokenFailure, "The PIN of token '\(tokenLabel)' is locked after too many "
                                  + "wrong attempts; the security officer must reset it.")
            default:
                throw CryptoError(.tokenFailure,
                                  "Logging in to token '\(tokenLabel)' failed (\(Self.name(of: result))).")
            }
        }
    }

    /// Throws `.tokenFailure` saying what failed unless `result` is CKR_OK.
    func check(_ result: CK_RV, _ what: @autoclosure () -> String) throws {
        guard result == CKR_OK else {
            throw CryptoError(.tokenFailure, "\(what()) failed (\(Self.name(of: result))).")
        }
    }

    private func pinDigest(slot: CK_SLOT_ID, pin: Secret) -> Data {
        var material = salt
        withUnsafeBytes(of: slot) { material.append(contentsOf: $0) }
        material.append(contentsOf: pin.bytes)
        defer { material.wipe() }
        return Digest.sha256(material)
    }

    private static func wrongPIN(_ tokenLabel: String) -> CryptoError {
        CryptoError(.tokenFailure, "The PIN was not accepted by token '\(tokenLabel)'.")
    }

    /// Token info strings are fixed-size, blank-padded UTF-8 (PKCS#11 §3.2).
    static func paddedText<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { raw in
            var bytes = Array(raw)
            while let last = bytes.last, last == 0x20 || last == 0 { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A readable name for the return values a person is likely to meet.
    static func name(of result: CK_RV) -> String {
        let names: [CK_RV: String] = [
            CKR_GENERAL_ERROR: "CKR_GENERAL_ERROR", CKR_ARGUMENTS_BAD: "CKR_ARGUMENTS_BAD",
            CKR_DEVICE_ERROR: "CKR_DEVICE_ERROR", CKR_DEVICE_MEMORY: "CKR_DEVICE_MEMORY",
            CKR_DEVICE_REMOVED: "CKR_DEVICE_REMOVED", CKR_TOKEN_NOT_PRESENT: "CKR_TOKEN_NOT_PRESENT",
            CKR_TOKEN_WRITE_PROTECTED: "CKR_TOKEN_WRITE_PROTECTED", CKR_SESSION_CLOSED: "CKR_SESSION_CLOSED",
            CKR_SESSION_HANDLE_INVALID: "CKR_SESSION_HANDLE_INVALID",
            CKR_USER_NOT_LOGGED_IN: "CKR_USER_NOT_LOGGED_IN", CKR_MECHANISM_INVALID: "CKR_MECHANISM_INVALID",
            CKR_TEMPLATE_INCONSISTENT: "CKR_TEMPLATE_INCONSISTENT",
            CKR_TEMPLATE_INCOMPLETE: "CKR_TEMPLATE_INCOMPLETE",
            CKR_ATTRIBUTE_VALUE_INVALID: "CKR_ATTRIBUTE_VALUE_INVALID",
            CKR_ATTRIBUTE_TYPE_INVALID: "CKR_ATTRIBUTE_TYPE_INVALID",
            CKR_DOMAIN_PARAMS_INVALID: "CKR_DOMAIN_PARAMS_INVALID", CKR_KEY_SIZE_RANGE: "CKR_KEY_SIZE_RANGE",
            CKR_OBJECT_HANDLE_INVALID: "CKR_OBJECT_HANDLE_INVALID", CKR_ACTION_PROHIBITED: "CKR_ACTION_PROHIBITED",
            CKR_CRYPTOKI_NOT_INITIALIZED: "CKR_CRYPTOKI_NOT_INITIALIZED",
            CKR_FUNCTION_NOT_SUPPORTED: "CKR_FUNCTION_NOT_SUPPORTED",
        ]
        return names[result] ?? "CKR 0x" + String(result, radix: 16)
    }
}
