import Foundation
import SEMCrypto
import SEMFederation
import SEMRegistry
import Testing

@Suite("Registration requests")
struct DomainRegistrationTests {
    @Test("a request signed by the domain's administrator is verified and recorded with its evidence")
    func validRequest() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let request = try alpha.request()
        #expect(try DomainRegistration.verify(request: request, at: registryNow) == alpha.registration)
        let log = try makeRegistryLog()
        let entry = try log.register(request: request, signer: smi.signer, at: registryNow)
        let payload = try entry.payload(as: RegistrationPayload.self)
        #expect(payload.request == request)
        #expect(payload.registration == alpha.registration)
        #expect(entry.kind == .domainRegistered && entry.domain == "alpha.test")
    }

    @Test("a registration signed by another domain's administrator is refused and nothing is appended")
    func otherDomainsAdmin() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let beta = try RegistryTestDomain("beta.test")
        let log = try makeRegistryLog()
        #expect(throws: RegistryError(.registrationRefused, "")) {
            try log.register(request: try alpha.request(signedBy: beta.admin), signer: smi.signer, at: registryNow)
        }
        #expect(try log.head().sequence == 0)
    }

    @Test("a signer below the right root but not admin@domain is refused")
    func notTheAdministrator() throws {
        let alpha = try RegistryTestDomain("alpha.test")
        let user = try RegistryTestDomain.user(of: alpha.root, name: alpha.name, address: "alice@alpha.test")
        #expect(throws: RegistryError(.registrationRefused, "")) {
            try DomainRegistration.verify(request: try alpha.request(signedBy: user), at: registryNow)
        }
    }

    @Test("an altered request and a recorded registration that differs from the request are refused")
    func alteredRequest() throws {
        let smi = try RegistryTestSMI()
        let alpha = try RegistryTestDomain("alpha.test")
        let request = try alpha.request()
        let altered = request.replacingRegistryText("mx.alpha.test:25", with: "mx.alpha.test:26")
        #expect(altered != request)
        #expect(throws: RegistryError(.registrationRefused, "")) { try DomainRegistration.verify(request: altered, at: registryNow) }
        var other = alpha.registration
        other.servers = []
        let log = try makeRegistryLog()
        #expect(throws: RegistryError(.registrationRefused, sequence: 1, "")) {
            try log.append(.domainRegistered, domain: "alpha.test",
                           payload: RegistrationPayload(registration: other, request: request), signer: smi.signer)
        }
        #expect(try log.head().sequence == 0)
    }
}
