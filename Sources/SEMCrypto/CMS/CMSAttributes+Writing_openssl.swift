// Adding signed attributes to a SignerInfo that is being built: SMIMECapabilities
// (RFC 8551 §2.5.2) and an ESS receiptRequest (RFC 2634 §2.7). contentType,
// messageDigest and signingTime are added by OpenSSL when the SignerInfo is signed;
// signingCertificateV2 by CMS_add1_signer with CMS_CADES.
import COpenSSL
import CShims
import Foundation

extension CMSAttributes {
    /// Longest e-mail address accepted in a receipt request (RFC 5321 §4.5.3.1 path limit).
    static let maximumAddressBytes = 256
    /// Most addresses accepted in a receiptList.
    static let maximumListedAddresses = 1_000

    /// Adds SMIMECapabilities naming `algorithms`, in order, without parameters (RFC 8551
    /// §2.5.2: AES capabilities carry no parameters).
    static func addCapabilities(_ algorithms: [ContentEncryptionAlgorithm], to signerInfo: OpaquePointer) throws {
        var unique: [ContentEncryptionAlgorithm] = []
        for algorithm in algorithms where !unique.contains(algorithm) { unique.append(algorithm) }
        guard !unique.isEmpty else { return }
        var stack: OpaquePointer?
        defer { if let stack { sem_cms_sk_X509_ALGOR_pop_free(stack) } }
        for algorithm in unique {
            try OpenSSL.check(CMS_add_simple_smimecap(&stack, algorithm.nid, 0), .internalFailure,
                              "Could not list \(algorithm) as a capability.")
        }
        try OpenSSL.check(CMS_add_smimecap(signerInfo, stack), .internalFailure,
                          "Could not add the SMIMECapabilities attribute.")
    }

    /// Adds `request` as a receiptRequest attribute. An empty `receiptsTo` means the
    /// signer's own e-mail addresses from `signer`.
    static func addReceiptRequest(_ request: ReceiptRequest, to signerInfo: OpaquePointer, signer: Certificate) throws {
        let identifier = request.signedContentIdentifier
        guard (1...ReceiptRequest.maximumIdentifierBytes).contains(identifier.count) else {
            throw CryptoError(.invalidArgument, "A receipt request identifier must have 1 to "
                              + "\(ReceiptRequest.maximumIdentifierBytes) bytes.")
        }
        var receiptsTo = request.receiptsTo
        if receiptsTo.isEmpty { receiptsTo = CMSCertificateCheck.emailAddresses(of: signer) }
        guard !receiptsTo.isEmpty else {
            throw CryptoError(.invalidArgument,
                              "Receipts need an address to go to, and the signer's certificate names none.")
        }
        guard receiptsTo.count <= ReceiptRequest.maximumReceiptsTo else {
            throw CryptoError(.invalidArgument,
                              "A receipt request names at most \(ReceiptRequest.maximumReceiptsTo) receipt addresses.")
        }

        // Build the name lists; ownership passes to the request once it exists.
        let to = try generalNamesList(receiptsTo)
        var list: OpaquePointer?
        var allOrFirst: Int32 = 0
        switch request.receiptsFrom {
        case .allRecipients: allOrFirst = 0
        case .firstTierRecipients: allOrFirst = 1
        case .listed(let addresses):
            guard !addresses.isEmpty, addresses.count <= maximumListedAddresses else {
                sem_cms_sk_GENERAL_NAMES_pop_free(to)
                throw CryptoError(.invalidArgument,
                                  "A receipt list must name between 1 and \(maximumListedAddresses) addresses.")
            }
            do {
                list = try generalNamesList(addresses)
            } catch {
                sem_cms_sk_GENERAL_NAMES_pop_free(to)
                throw error
            }
        }
        OpenSSL.clearErrors()
        // A NULL identifier makes OpenSSL create a random one, which is replaced below;
        // this avoids handing over a buffer that OpenSSL would have to free.
        guard let receiptRequest = CMS_ReceiptRequest_create0_ex(nil, 0, allOrFirst, list, to, nil) else {
            sem_cms_sk_GENERAL_NAMES_pop_free(to)
            if let list { sem_cms_sk_GENERAL_NAMES_pop_free(list) }
            throw OpenSSL.error(.internalFailure, "Could not create the receipt request.")
        }
        defer { CMS_ReceiptRequest_free(receiptRequest) }
        var contentIdentifier: UnsafeMutablePointer<ASN1_STRING>?
        CMS_ReceiptRequest_get0_values(receiptRequest, &contentIdentifier, nil, nil, nil)
        let bytes = Array(identifier)
        try OpenSSL.check(ASN1_STRING_set(contentIdentifier, bytes, Int32(bytes.count)), .internalFailure,
                          "Could not set the receipt request identifier.")
        try OpenSSL.check(CMS_add1_ReceiptRequest(signerInfo, receiptRequest), .internalFailure,
                          "Could not add the receipt request.")
    }

    /// A new SEQUENCE OF GeneralNames with one rfc822Name per address. The caller owns it.
    private static func generalNamesList(_ addresses: [String]) throws -> OpaquePointer {
        for address in addresses {
            let utf8 = Array(address.utf8)
            // rfc822Name is an IA5String (RFC 5280 §4.2.1.6): ASCII only.
            guard !utf8.isEmpty, utf8.count <= maximumAddressBytes, utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
                  utf8.contains(UInt8(ascii: "@")) else {
                throw CryptoError(.invalidArgument, "\"\(address.prefix(80))\" is not an ASCII e-mail address.")
            }
        }
        OpenSSL.clearErrors()
        let list = try OpenSSL.unwrap(sem_cms_sk_GENERAL_NAMES_new_null(), .internalFailure,
                                      "Could not allocate a name list.")
        do {
            for address in addresses {
                let names = try OpenSSL.unwrap(GENERAL_NAMES_new(), .internalFailure, "Could not allocate a name.")
                guard sem_cms_sk_GENERAL_NAMES_push(list, names) > 0 else {
                    GENERAL_NAMES_free(names)
                    throw OpenSSL.error(.internalFailure, "Could not fill a name list.")
                }
                let name = try OpenSSL.unwrap(GENERAL_NAME_new(), .internalFailure, "Could not allocate a name.")
                guard sem_sk_GENERAL_NAME_push(names, name) > 0 else {
                    GENERAL_NAME_free(name)
                    throw OpenSSL.error(.internalFailure, "Could not fill a name.")
                }
                let string = try OpenSSL.unwrap(ASN1_IA5STRING_new(), .internalFailure, "Could not allocate a name.")
                GENERAL_NAME_set0_value(name, GEN_EMAIL, string)
                let bytes = Array(address.utf8)
                try OpenSSL.check(ASN1_STRING_set(string, bytes, Int32(bytes.count)), .internalFailure,
                                  "Could not set an e-mail name.")
            }
        } catch {
            sem_cms_sk_GENERAL_NAMES_pop_free(list)
            throw error
        }
        return list
    }
}
