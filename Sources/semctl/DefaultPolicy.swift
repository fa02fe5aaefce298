// The policy a new domain starts with.
enum DefaultDomainPolicy {
    static func json(domain: String) -> String {
        "{\"version\": 1, \"rules\": []}\n"
    }
}
