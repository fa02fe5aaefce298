// The address book: contacts sealed in the local store, and synchronised with the server
// as one CMS envelope to the user's own encryption certificate, so the server (and anyone
// reading its disk) holds only ciphertext, and any device with the user's key can open it.
import Foundation
import SEMCrypto
import SEMTransport

extension ClientSession {
    /// The local store's setting with the server version of the address book last seen.
    static let addressBookVersion = "address-book-version"

    public func contacts() throws -> [ClientStore.Contact] { try store.contacts() }

    public func addContact(name: String, address: String) throws {
        guard address.contains("@"), !name.isEmpty else {
            throw ClientError(.invalidArgument, "A contact needs a name and an address.")
        }
        try store.putContact(.init(name: name, address: address.lowercased()))
        try pushAddressBook()
    }

    public func removeContact(_ address: String) throws {
        guard try store.removeContact(address) else { throw ClientError(.notFound, "There is no contact \(address).") }
        try pushAddressBook()
    }

    /// Sends the local address book; on a version conflict takes the server's first, merges, and retries.
    func pushAddressBook() throws {
        for _ in 0..<3 {
            let sealed = try CMSEnvelope.encrypt(try JSONEncoder().encode(try store.contacts()), for: [encryption.certificate])
            let version = try store.numberSetting(Self.addressBookVersion)
            do {
                let stored = try api.putAddressBook(sealed, expected: version)
                try store.setNumberSetting(Self.addressBookVersion, stored)
                return
            } catch let error as HTTPRemoteError where error.status == 409 {
                let local = try store.contacts()
                try pullAddressBook(force: true)
                let merged = Dictionary((try store.contacts() + local).map { ($0.address, $0) }) { _, mine in mine }
                try store.replaceContacts(Array(merged.values))
            }
        }
        throw ClientError(.refused, "The address book kept changing on the server; try again.")
    }

    /// Takes the server's address book when it is newer than ours.
    func pullAddressBook(force: Bool = false) throws {
        guard let (version, sealed) = try remote({ try api.addressBook() }) else { return }
        let local = try store.numberSetting(Self.addressBookVersion)
        guard force || version > local else { return }
        let content: Data
        do { content = try CMSEnvelope.decrypt(sealed, key: encryption.key, certificate: encryption.certificate).content } catch {
            throw ClientError(.verificationFailed, "The address book on the server does not open with this key: \(error)")
        }
        try store.replaceContacts(try JSONDecoder().decode([ClientStore.Contact].self, from: content))
        try store.setNumberSetting(Self.addressBookVersion, version)
    }
}
