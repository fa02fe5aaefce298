// `sem-bench crypto`: sealing (LetterComposer.compose: protected headers, MIME, sign,
// encrypt) and opening (LetterReader.read: decrypt, verify, parse, sender check) a letter,
// against the CMS operations under them timed directly in the same process: CMSSigner
// over the same payload bytes, then CMSEnvelope for the same recipients (open: CMSEnvelope
// decrypt, then CMSVerifier). The ratio is what the message layer adds to the cryptography.
import Foundation
import SEMCrypto
import SEMMessage

struct CryptoBenchmark {
    let secondsPerMeasurement: Double

    /// A throw-away PKI: an EC P-256 CA issuing by the user profiles, as a domain's CA does.
    private struct PKI {
        let root: CertificateIssuer
        let now = Date()

        func user(_ name: String, encryption: KeyAlgorithm) throws -> (signer: CMSSigner, key: PrivateKey,
                                                                       certificate: Certificate, address: String) {
            let address = "\(name)@bench.test"
            let signingKey = try PrivateKey.generate(.ecP256)
            let encryptionKey = try PrivateKey.generate(encryption)
            func issue(_ profile: CertificateProfile, _ key: PrivateKey) throws -> Certificate {
                try root.issue(profile, CertificateParameters(
                    subject: DistinguishedName([("O", "Bench"), ("CN", name)]), publicKey: key.publicKey,
                    notBefore: now - 60, notAfter: now + 86400, emailAddresses: [address]))
            }
            let signer = try CMSSigner(key: signingKey, certificate: try issue(.userSigning, signingKey),
                                       chain: [root.certificate])
            return (signer, encryptionKey, try issue(.userEncryption, encryptionKey), address)
        }
    }

    func run() throws {
        let counts = BenchSettings.ints("SEM_BENCH_CRYPTO_RECIPIENTS", [1, 10, 100])
        let rsaCounts = BenchSettings.ints("SEM_BENCH_CRYPTO_RSA_RECIPIENTS", [1, 10])
        let sizes = BenchSettings.ints("SEM_BENCH_CRYPTO_SIZES", [4096, 1 << 20])
        let caKey = try PrivateKey.generate(.ecP256)
        let pki = PKI(root: try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("O", "Bench"), ("CN", "Bench CA")]), key: caKey,
            notBefore: Date() - 3600, notAfter: Date() + 86400))
        let sender = try pki.user("sender", encryption: .ecP256)
        let most = max(counts.max() ?? 1, rsaCounts.max() ?? 1)
        BenchOutput.note("crypto: issuing \(most) EC and \(rsaCounts.max() ?? 0) RSA-3072 recipient certificates")
        let ecRecipients = try (0..<most).map { try pki.user("ec\($0)", encryption: .ecP256) }
        let rsaRecipients = try (0..<(rsaCounts.max() ?? 0)).map { try pki.user("rsa\($0)", encryption: .rsa(bits: 3072)) }

        var figures: [BenchFigure] = []
        var rows: [String] = []
        var cases: [(label: String, recipients: ArraySlice<(signer: CMSSigner, key: PrivateKey, certificate: Certificate,
                                                               address: String)>)] = []
        for count in counts { cases.append(("EC P-256", ecRecipients.prefix(count))) }
        for count in rsaCounts { cases.append(("RSA-3072", rsaRecipients.prefix(count))) }
        for size in sizes {
            let payload = Self.pattern(size)
            for (label, recipients) in cases {
                let certificates = recipients.map(\.certificate)
                let reader = recipients[recipients.startIndex]
                let letter = Letter(from: MailAddress(sender.address), to: recipients.map { MailAddress($0.address) },
                                    subject: "benchmark", body: "A letter with one attachment.",
                                    attachments: [InlineAttachment(fileName: "data.bin", mediaType: "application/octet-stream",
                                                                   content: payload)])
                let all = certificates + [sender.certificate]
                var sealed = try LetterComposer.compose(letter, signer: sender.signer, recipients: certificates,
                                                        senderCertificate: sender.certificate)
                var raw = try CMSEnvelope.encrypt(try sender.signer.sign(payload), for: all)
                let seal = try BenchClock.paired(budget: secondsPerMeasurement, ours: {
                    sealed = try LetterComposer.compose(letter, signer: sender.signer, recipients: certificates,
                                                        senderCertificate: sender.certificate)
                }, baseline: {
                    raw = try CMSEnvelope.encrypt(try sender.signer.sign(payload), for: all)
                })
                // Open as the first recipient; for RSA and EC alike the reader's key is found
                // among all recipient infos, as in use.
                let open = try BenchClock.paired(budget: secondsPerMeasurement, ours: {
                    let read = try LetterReader.read(sealed.message, key: reader.key, certificate: reader.certificate)
                    guard read.senderCheck.isConsistent, read.letter.attachments.first?.content.count == size else {
                        throw BenchFailure("the opened letter differs from the sealed one")
                    }
                }, baseline: {
                    let decrypted = try CMSEnvelope.decrypt(raw, key: reader.key, certificate: reader.certificate)
                    guard try CMSVerifier.verify(decrypted.content).content.count == size else {
                        throw BenchFailure("the raw CMS round trip lost bytes")
                    }
                })
                let what = "\(Self.size(size)), \(recipients.count) \(label) recipient(s)"
                for (operation, timing) in [("seal", seal), ("open", open)] {
                    figures.append(BenchFigure(item: "crypto", measurement: "\(operation), \(what)", ours: timing.ours,
                                               baseline: timing.baseline, unit: "s", higherIsBetter: false))
                    rows.append("| \(operation) | \(Self.size(size)) | \(recipients.count) \(label) | "
                                + "\(BenchClock.format(seconds: timing.ours)) | \(BenchClock.format(seconds: timing.baseline)) | "
                                + "\(String(format: "%.2f", timing.ours / timing.baseline)) | \(timing.runs) |")
                }
                BenchOutput.note("crypto: \(what) done")
            }
        }
        let markdown = """
            ## Message crypto

            `sem-bench crypto`. Seal: `LetterComposer.compose` (inner MIME entity with protected headers, the payload
            as a base64 attachment, CMS SignedData by an EC P-256 signing key, AES-256-GCM AuthEnvelopedData for the
            recipients plus the sender, outer message). Open: `LetterReader.read` by the first recipient (outer MIME,
            decrypt, verify, inner MIME, sender check). Baseline, same process, same run, alternating with ours:
            `CMSSigner.sign` of the payload bytes then `CMSEnvelope.encrypt` for the same certificates; open:
            `CMSEnvelope.decrypt` then `CMSVerifier.verify`. Median of alternating runs for
            \(secondsPerMeasurement) s per row (at least 3 each).

            | operation | payload | recipients | ours | raw CMS (baseline) | ours / baseline | runs |
            |---|---|---|---:|---:|---:|---:|
            \(rows.joined(separator: "\n"))
            """
        try BenchOutput.emit(item: "crypto", markdown: markdown, figures: figures,
                             parameters: ["secondsPerRow": "\(secondsPerMeasurement)",
                                          "recipients": counts.map(String.init).joined(separator: ","),
                                          "rsaRecipients": rsaCounts.map(String.init).joined(separator: ","),
                                          "sizes": sizes.map(String.init).joined(separator: ",")])
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB"
            : bytes >= 1024 && bytes % 1024 == 0 ? "\(bytes >> 10) KiB" : "\(bytes) B"
    }

    /// Deterministic bytes that do not compress, made once per size.
    static func pattern(_ count: Int) -> Data {
        var generator = PatternGenerator(length: count)
        return generator.next(maximum: count)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
