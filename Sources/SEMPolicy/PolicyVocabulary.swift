// The fixed words of the policy language: effects, actions, subject kinds, assurance
// levels, weekdays, content-encryption algorithms and TLS versions.

/// What a rule does when it matches, and what a decision says.
public enum PolicyEffect: String, PolicyWord, Sendable, Hashable {
    case permit
    case deny

    public static let noun = "effect"
}

/// The requests a PDP answers (requirement R5 of the architecture, plus enrolment and
/// administration).
public enum PolicyAction: String, PolicyWord, Sendable, Hashable {
    /// A user hands a message to its own server.
    case submit
    /// The own server sends a message to a recipient (local or in another domain).
    case send
    /// A server of another domain delivers a message to this domain.
    case receive
    /// This domain's server passes a message on for another domain.
    case relay
    /// Someone fetches the ciphertext of an attachment.
    case fetchAttachment = "fetch-attachment"
    /// Someone looks up the directory (certificates of recipients).
    case lookup
    /// A user enrols for certificates.
    case enrol
    /// An officer approves or performs the recovery of an archived key.
    case recoverKey = "recover-key"
    /// Administration of the domain.
    case admin

    public static let noun = "action"

    /// Dense index for per-action tables.
    var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// Who is asking: a person with a user certificate, or a mail server.
public enum SubjectKind: String, PolicyWord, Sendable, Hashable {
    case user
    case server

    public static let noun = "subject kind"
}

/// How strongly the subject's identity was established, in the order
/// low < substantial < high (the levels of eIDAS, Regulation (EU) 910/2014, article 8).
public enum AssuranceLevel: String, PolicyWord, Sendable, Hashable, Comparable {
    case low
    case substantial
    case high

    public static let noun = "assurance level"

    var rank: Int {
        switch self {
        case .low: 0
        case .substantial: 1
        case .high: 2
        }
    }

    public static func < (lhs: AssuranceLevel, rhs: AssuranceLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Days of the week, evaluated in UTC.
public enum Weekday: String, PolicyWord, Sendable, Hashable {
    case mon, tue, wed, thu, fri, sat, sun

    public static let noun = "weekday"

    /// 0 for Monday ... 6 for Sunday.
    var number: Int { Self.allCases.firstIndex(of: self)! }
}

/// Content-encryption algorithms of S/MIME messages, ranked for the
/// `minimum-algorithm` obligation: a longer key ranks higher, and at equal key length
/// authenticated encryption (GCM, RFC 5084) ranks above CBC.
public enum ContentAlgorithm: String, PolicyWord, Sendable, Hashable, Comparable {
    case aes128CBC = "AES-128-CBC"
    case aes128GCM = "AES-128-GCM"
    case aes256CBC = "AES-256-CBC"
    case aes256GCM = "AES-256-GCM"

    public static let noun = "content-encryption algorithm"

    var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: ContentAlgorithm, rhs: ContentAlgorithm) -> Bool { lhs.rank < rhs.rank }
}

/// TLS protocol versions, spelled as OpenSSL prints them.
public enum TLSVersion: String, PolicyWord, Sendable, Hashable, Comparable {
    case tls10 = "TLSv1"
    case tls11 = "TLSv1.1"
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"

    public static let noun = "TLS version"

    var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rank < rhs.rank }
}
