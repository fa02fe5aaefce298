// The domain's policy engine inside the mail server's own process (`"pdpMode":
// "embedded"` in mail.json): no HTTPS round trip per question, and the engine's decision
// cache answers a repeated question until its time to live ends (docs/POLICY.md).
public import SEMPolicy

/// A `DecisionPoint` that asks a `PolicyEngine` directly.
public struct EmbeddedDecisionPoint: DecisionPoint {
    public let engine: PolicyEngine

    /// `engine` should have its cache turned on (`PolicyEngineOptions.cacheTimeToLive`);
    /// `DomainPolicy` builds it so.
    public init(engine: PolicyEngine) { self.engine = engine }

    /// The engine never fails to answer; a request it cannot match is denied by default.
    public func decide(_ request: DecisionRequest) throws -> DecisionResponse { engine.decide(request) }
}
