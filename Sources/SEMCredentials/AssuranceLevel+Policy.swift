// The bridge between the assurance level a certificate carries (its policy OID, read here)
// and the same level in the policy language, which knows nothing of certificates.
public import SEMPolicy

extension SEMPolicy.AssuranceLevel {
    /// The level the certificate policies assert, in the policy's words; nil when they
    /// assert none of this system's levels.
    public init?(certificatePolicies policies: [String]) {
        guard let level = SEMCredentials.AssuranceLevel(policies: policies) else { return nil }
        self.init(rawValue: level.rawValue)
    }
}
