// Signed receipts for letters (RFC 2634 §2.4, §2.8), on top of SEMCrypto's CMSReceipt.
// Whether a receipt may be sent (the recipient is among those asked, policy allows it)
// is the caller's decision, as RFC 2634 §2.3 leaves it to the recipient.
public import Foundation
public import SEMCrypto

/// Creates the signed receipt for a letter that was read.
public enum ReceiptComposer {
    /// A DER SignedData receipt for `received`, signed by the recipient's `signer`.
    ///
    /// - Throws: `MessageError.invalidArgument` when the letter did not ask for a
    ///   receipt; `CryptoError` from signing.
    public static func receipt(for received: ReadLetter, signer: CMSSigner) throws -> Data {
        guard received.receiptRequested else {
            throw MessageError(.invalidArgument, "The letter does not ask for a signed receipt.")
        }
        return try CMSReceipt.create(for: received.signedData, detachedContent: received.detachedContent,
                                     certificates: received.certificates, signer: signer)
    }
}

/// Checks a signed receipt against the SignedData of the letter that was sent.
public enum ReceiptChecker {
    /// Verifies `receipt` against `original` (`ComposedLetter.signedData`). The receipt
    /// signer's certificate still needs path validation by the caller.
    public static func verify(_ receipt: Data, original: Data,
                              certificates: [Certificate] = []) throws -> CMSVerifiedReceipt {
        try CMSReceipt.verify(receipt, original: original, certificates: certificates)
    }
}
