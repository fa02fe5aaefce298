// The POST routes of the SMI: each change arrives with its own proof (an administrator's
// CMS signature or an agreement's signatures), is checked against the registry's state,
// and is appended to the log signed by the SMI. Followers refuse every change.
import Foundation
import SEMCrypto
import SEMFederation
import SEMTransport

extension SMIHTTPService {
    func addChanges(to router: inout HTTPRouter<HTTPHandler>) {
        let signedLimit = Int64(AdministratorSignature.maximumBytes)
        router.add("POST", "/v1/registrations", bodyLimit: signedLimit) { request in
            try self.change(request, limit: AdministratorSignature.maximumBytes) { body, signer in
                try self.log.register(request: body, signer: signer)
            }
        }
        router.add("POST", "/v1/domains/{domain}/updates", bodyLimit: signedLimit) { request in
            try self.change(request, limit: AdministratorSignature.maximumBytes) { body, signer in
                // Applying the entry checks the signer against the domain's registered root.
                let update = try DomainUpdate.unverified(body)
                guard update.domain == request.parameters["domain"]?.lowercased() else {
                    throw RegistryError(.invalidPayload, "The domain update is for \(update.domain), not for the "
                                        + "domain in the address.")
                }
                return try self.log.update(request: body, signer: signer)
            }
        }
        router.add("POST", "/v1/agreements", bodyLimit: Int64(Self.maximumAgreementBytes)) { request in
            try self.change(request, limit: Self.maximumAgreementBytes) { body, signer in
                let agreement = try Self.decodeAgreement(body)
                return try self.log.append(.agreementProposed, domain: agreement.terms.proposingDomain,
                                           payload: AgreementPayload(agreement: agreement), signer: signer)
            }
        }
        router.add("POST", "/v1/agreements/{id}/acceptance", bodyLimit: Int64(Self.maximumAgreementBytes)) { request in
            try self.change(request, limit: Self.maximumAgreementBytes) { body, signer in
                let agreement = try Self.decodeAgreement(body)
                guard agreement.terms.id == request.parameters["id"] else {
                    throw RegistryError(.invalidPayload, "The acceptance is for \"\(agreement.terms.id)\", not for the "
                                        + "agreement in the address.")
                }
                return try self.log.append(.agreementAccepted, domain: agreement.terms.proposingDomain,
                                           payload: AgreementPayload(agreement: agreement), signer: signer)
            }
        }
        router.add("POST", "/v1/groups", bodyLimit: Int64(Self.maximumAgreementBytes)) { request in
            try self.change(request, limit: Self.maximumAgreementBytes) { body, signer in
                let group = try Self.decodeGroup(body)
                guard let founder = group.joinedDomains.first else {
                    throw RegistryError(.invalidPayload, "The agreement carries no founder's signature.")
                }
                return try self.log.append(.groupFormed, domain: founder, payload: GroupPayload(agreement: group), signer: signer)
            }
        }
        router.add("POST", "/v1/groups/{id}/members", bodyLimit: Int64(Self.maximumAgreementBytes)) { request in
            try self.change(request, limit: Self.maximumAgreementBytes) { body, signer in
                let group = try Self.decodeGroup(body)
                guard group.terms.id == request.parameters["id"], let member = group.joinedDomains.last else {
                    throw RegistryError(.invalidPayload, "The joining is not for the agreement in the address.")
                }
                return try self.log.append(.groupJoined, domain: member, payload: GroupPayload(agreement: group), signer: signer)
            }
        }
        router.add("POST", "/v1/reports", bodyLimit: signedLimit) { request in
            try self.change(request, limit: AdministratorSignature.maximumBytes) { body, signer in
                // Applying the entry checks the signer against the reporting domain's root.
                let report = try AbuseReportRequest.unverified(body)
                return try self.log.append(.abuseReported, domain: report.domain, payload: AbuseReportPayload(request: body),
                                           signer: signer)
            }
        }
        router.add("POST", "/v1/agreements/{id}/termination", bodyLimit: signedLimit) { request in
            try self.change(request, limit: AdministratorSignature.maximumBytes) { body, signer in
                let id = request.parameters["id"] ?? ""
                // Applying the entry checks the signer against the domain's registered
                // root (RegistryState); this first look finds the domain it speaks for.
                let termination = try Self.unverifiedTermination(body)
                guard termination.agreementId == id else {
                    throw RegistryError(.invalidPayload, "The termination request is for \"\(termination.agreementId)\", "
                                        + "not for the agreement in the address.")
                }
                return try self.log.append(.agreementTerminated, domain: termination.domain,
                                           payload: TerminationPayload(agreementId: id, request: body), signer: signer)
            }
        }
    }

    /// Reads the body, appends through `append` on a leader, and answers 201 with the new
    /// entry's sequence; a follower answers 503.
    private func change(_ request: HTTPRequest, limit: Int,
                        _ append: (Data, CertifiedKey) throws -> RegistryEntry) throws -> HTTPResponse {
        try registryCall {
            guard case .leader(let signer) = mode else {
                guard case .follower(let leader, _) = mode else { preconditionFailure("unknown SMI mode") }
                throw RegistryError(.readOnly, "This SMI server is a follower; send changes to the leader at \(leader).")
            }
            let body = try request.body.readAll(limit: limit)
            let entry = try append(body, signer)
            return try .json(["sequence": entry.sequence], status: 201)
        }
    }

    static func decodeAgreement(_ body: Data) throws -> BilateralAgreement {
        do { return try CanonicalJSON.decodeCanonical(BilateralAgreement.self, from: body) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, "The agreement is not canonical JSON: \(error.reason)")
        }
    }

    static func decodeGroup(_ body: Data) throws -> MultilateralAgreement {
        do { return try CanonicalJSON.decodeCanonical(MultilateralAgreement.self, from: body) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, "The multilateral agreement is not canonical JSON: \(error.reason)")
        }
    }

    /// A termination request whose CMS signature verifies, before its signer is checked.
    private static func unverifiedTermination(_ der: Data) throws -> TerminationRequest {
        let verified = try AdministratorSignature.open(der, what: "termination request", code: .invalidTransition)
        do { return try CanonicalJSON.decodeCanonical(TerminationRequest.self, from: verified.content) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, "The termination request is not canonical JSON: \(error.reason)")
        }
    }
}
