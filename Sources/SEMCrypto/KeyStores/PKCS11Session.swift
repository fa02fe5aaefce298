// Object management on one PKCS#11 session: finding objects by class and label,
// reading labels, generating key pairs and destroying objects (PKCS#11 v2.40 §5.7,
// §5.14). Callers serialise use of a session: PKCS#11 forbids using one session from
// two threads at once (§6.6.2).
import CPKCS11
import Foundation

/// One attribute of a search or creation template (PKCS#11 §4.1), with its value
/// already in the byte form the module expects.
struct PKCS11Attribute {
    let type: CK_ATTRIBUTE_TYPE
    let value: [UInt8]

    static func bool(_ type: CK_ATTRIBUTE_TYPE, _ value: Bool) -> PKCS11Attribute {
        PKCS11Attribute(type: type, value: [value ? UInt8(CK_TRUE) : UInt8(CK_FALSE)])
    }

    /// CK_ULONG values (classes, key types, sizes) in native byte order.
    static func ulong(_ type: CK_ATTRIBUTE_TYPE, _ value: CK_ULONG) -> PKCS11Attribute {
        PKCS11Attribute(type: type, value: withUnsafeBytes(of: value) { Array($0) })
    }

    static func text(_ type: CK_ATTRIBUTE_TYPE, _ value: String) -> PKCS11Attribute {
        PKCS11Attribute(type: type, value: Array(value.utf8))
    }
}

/// Calls `body` with a C template whose value pointers stay valid during the call.
func withTemplate<R>(_ attributes: [PKCS11Attribute],
                     _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) throws -> R) rethrows -> R {
    let buffers = attributes.map { attribute -> UnsafeMutableRawPointer in
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(attribute.value.count, 1), alignment: 16)
        attribute.value.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return buffer
    }
    defer { buffers.forEach { $0.deallocate() } }
    var template = zip(attributes, buffers).map { attribute, buffer in
        CK_ATTRIBUTE(type: attribute.type, pValue: buffer, ulValueLen: CK_ULONG(attribute.value.count))
    }
    return try template.withUnsafeMutableBufferPointer { try body($0.baseAddress, CK_ULONG($0.count)) }
}

/// An open read-write session on one token. Not thread-safe by itself.
struct PKCS11Session {
    let module: PKCS11Module
    let handle: CK_SESSION_HANDLE

    /// Most objects a search collects; a token holding more is not something this
    /// system creates, and the bound keeps a broken module from exhausting memory.
    static let maximumObjects = 10_000

    static func open(_ module: PKCS11Module, slot: CK_SLOT_ID, tokenLabel: String) throws -> PKCS11Session {
        var handle: CK_SESSION_HANDLE = 0
        let flags = CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION)
        try module.check(module.functions.pointee.C_OpenSession(slot, flags, nil, nil, &handle),
                         "Opening a session on token '\(tokenLabel)'")
        return PKCS11Session(module: module, handle: handle)
    }

    func close() { _ = module.functions.pointee.C_CloseSession(handle) }

    /// Handles of every object matching `attributes`.
    func findObjects(_ attributes: [PKCS11Attribute]) throws -> [CK_OBJECT_HANDLE] {
        let functions = module.functions.pointee
        try withTemplate(attributes) { template, count in
            try module.check(functions.C_FindObjectsInit(handle, template, count), "Searching the token")
        }
        defer { _ = functions.C_FindObjectsFinal(handle) }
        var found: [CK_OBJECT_HANDLE] = []
        var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 64)
        while found.count < Self.maximumObjects {
            var returned: CK_ULONG = 0
            try module.check(functions.C_FindObjects(handle, &batch, CK_ULONG(batch.count), &returned),
                             "Searching the token")
            if returned == 0 { break }
            found.append(contentsOf: batch.prefix(Int(returned)))
        }
        return found
    }

    /// Private (or public) key objects labelled `label`.
    func keys(class keyClass: CK_OBJECT_CLASS, label: String) throws -> [CK_OBJECT_HANDLE] {
        try findObjects([.ulong(CK_ATTRIBUTE_TYPE(CKA_CLASS), keyClass), .text(CK_ATTRIBUTE_TYPE(CKA_LABEL), label)])
    }

    /// The CKA_LABEL of an object, or nil when it has none.
    func label(of object: CK_OBJECT_HANDLE) throws -> String? {
        let functions = module.functions.pointee
        var attribute = CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_LABEL), pValue: nil, ulValueLen: 0)
        // The length bound also refuses CK_UNAVAILABLE_INFORMATION (all bits set).
        guard functions.C_GetAttributeValue(handle, object, &attribute, 1) == CKR_OK,
              attribute.ulValueLen <= 1024 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        try bytes.withUnsafeMutableBytes { buffer in
            attribute.pValue = buffer.baseAddress
            try module.check(functions.C_GetAttributeValue(handle, object, &attribute, 1), "Reading a key label")
        }
        return String(decoding: bytes.prefix(Int(attribute.ulValueLen)), as: UTF8.self)
    }

    /// Generates a key pair on the token with the given templates (PKCS#11 §5.14,
    /// C_GenerateKeyPair); the private key never leaves the token.
    func generateKeyPair(mechanism type: CK_MECHANISM_TYPE, publicTemplate: [PKCS11Attribute],
                         privateTemplate: [PKCS11Attribute], tokenLabel: String) throws {
        let functions = module.functions.pointee
        var mechanism = CK_MECHANISM(mechanism: type, pParameter: nil, ulParameterLen: 0)
        var publicKey: CK_OBJECT_HANDLE = 0
        var privateKey: CK_OBJECT_HANDLE = 0
        let result = withTemplate(publicTemplate) { publicAttributes, publicCount in
            withTemplate(privateTemplate) { privateAttributes, privateCount in
                functions.C_GenerateKeyPair(handle, &mechanism, publicAttributes, publicCount,
                                            privateAttributes, privateCount, &publicKey, &privateKey)
            }
        }
        try module.check(result, "Generating a key pair on token '\(tokenLabel)'")
    }

    func destroy(_ object: CK_OBJECT_HANDLE) throws {
        try module.check(module.functions.pointee.C_DestroyObject(handle, object), "Deleting a token object")
    }
}
