// sem-bench: in-process benchmarks. `sem-bench pdp` measures policy decisions per second
// for a realistic policy (about 50 rules, nested groups, a rate-limited rule, time
// windows) with and without the decision cache, against baselines measured in the same
// run: decoding the request JSON alone, and an engine whose only rule permits everything.
// `sem-bench pdp-https` measures the same over the PDP's HTTPS interface
// (PDPHTTPSBenchmark.swift). Each prints a Markdown section for BENCHMARKS.md.
import Foundation
import SEMPolicy

@main
struct SEMBench {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        let seconds = arguments.dropFirst().first.flatMap(Double.init) ?? 1.0
        do {
            switch arguments.first {
            case "pdp": try PDPBenchmark(secondsPerMeasurement: seconds).run()
            case "pdp-https": try PDPHTTPSBenchmark(secondsPerMeasurement: seconds).run()
            case "crypto": try CryptoBenchmark(secondsPerMeasurement: seconds).run()
            case "mailbox": try MailboxBenchmark(samples: BenchSettings.int("SEM_BENCH_MAILBOX_SAMPLES", 2000)).run()
            case "mail": try MailBenchmark(arguments: Array(arguments.dropFirst())).run()
            default:
                print("""
                    usage: sem-bench pdp|pdp-https|crypto [seconds-per-measurement]
                           sem-bench mailbox
                           sem-bench mail --demo DIRECTORY [--seconds T]
                    Sizes and counts come from SEM_BENCH_* environment variables (see scripts/bench).
                    """)
                exit(2)
            }
        } catch {
            FileHandle.standardError.write(Data("sem-bench: \(error)\n".utf8))
            exit(1)
        }
    }
}

struct PDPBenchmark {
    let secondsPerMeasurement: Double

    func run() throws {
        let policy = try PolicyDocument.parse(BenchPolicy.json())
        let facts = BenchPolicy.facts()
        let requestTexts = BenchPolicy.requests(count: 2000)
        let requestData = requestTexts.map { Data($0.utf8) }
        let requests = try requestData.map(DecisionRequest.parse)

        let plain = try PolicyEngine(document: policy, facts: facts)
        let cached = try PolicyEngine(document: policy, facts: facts,
                                      options: PolicyEngineOptions(cacheTimeToLive: 600))
        let trivial = try PolicyEngine(document: PolicyDocument(rules: [
            PolicyRule(id: "all", effect: .permit, description: "everything", actions: PolicyAction.allCases),
        ]))
        let permits = requests.filter { plain.decide($0).isPermit }.count

        // For profilers (`perf record`): decide for a few seconds and stop.
        if ProcessInfo.processInfo.environment["SEM_BENCH_PROFILE"] == "decide" {
            _ = PDPBenchmark(secondsPerMeasurement: 3).measure { index in
                _ = plain.decide(requests[index % requests.count])
            }
            return
        }
        let decode = measure { index in _ = try? DecisionRequest.parse(requestData[index % requestData.count]) }
        let trivialRate = measure { index in _ = trivial.decide(requests[index % requests.count]) }
        let engineRate = measure { index in _ = plain.decide(requests[index % requests.count]) }
        for request in requests { _ = cached.decide(request) }
        let cachedRate = measure { index in _ = cached.decide(requests[index % requests.count]) }
        let endToEnd = measure { index in
            if let request = try? DecisionRequest.parse(requestData[index % requestData.count]) {
                _ = try? plain.decide(request).jsonData()
            }
        }
        let hits = cached.cache?.statistics
        let rateLimited = policy.rules.filter { $0.conditions?.rateLimit != nil }.count
        let timed = policy.rules.filter { $0.conditions?.time != nil }.count
        let micro = { (rate: Double) in String(format: "%.1f µs", 1e6 / rate) }

        let line = { (label: String, rate: Double) -> String in
            "| \(label) | \(Self.format(rate)) | \(String(format: "%.2f", rate / decode)) |"
        }
        // Paragraphs are single lines in the Markdown; the pieces keep the source narrow.
        let setting = [
            "`scripts/bench-pdp` (`swift run -c release sem-bench pdp`), one thread, in process, on this machine",
            "(2 cores shared with other work, so figures vary by some 10-20 % between runs).",
            "Policy: \(policy.rules.count) rules, \(policy.groups.count) groups (nested),",
            "\(facts.agreements.count) agreements, \(rateLimited) rule(s) with a rate limit",
            "and \(timed) with a time window;",
            "\(requests.count) distinct requests over all nine actions",
            "(\(permits) permitted, \(requests.count - permits) denied).",
            "\"× decode\" compares each rate with decoding the request JSON alone, measured in the same run.",
        ].joined(separator: " ")
        let reading = [
            "One decision takes \(micro(engineRate)) without the cache and \(micro(cachedRate)) with it;",
            "reading the request JSON (syntax pass, strict typed decoding, normalisation) takes \(micro(decode)).",
            "A PDP answering over HTTPS therefore spends most of its time on JSON, not on the policy.",
            "Cache after the run: \(hits?.hits ?? 0) hits, \(hits?.misses ?? 0) misses, \(hits?.entries ?? 0) entries",
            "(decisions that consulted the rate limit are never cached).",
            "Each figure is the best of three runs of \(secondsPerMeasurement) s.",
        ].joined(separator: " ")
        var figures = [
            BenchFigure(item: "pdp", measurement: "realistic policy, no cache, vs decode JSON", ours: engineRate,
                        baseline: decode, unit: "decisions/s", higherIsBetter: true),
            BenchFigure(item: "pdp", measurement: "realistic policy, no cache, vs always-permit engine", ours: engineRate,
                        baseline: trivialRate, unit: "decisions/s", higherIsBetter: true),
            BenchFigure(item: "pdp", measurement: "decode + decide + encode, vs decode JSON", ours: endToEnd,
                        baseline: decode, unit: "decisions/s", higherIsBetter: true),
        ]
        let (ruleRows, ruleFigures) = try ruleCountRows(requests: requests, trivialRate: trivialRate)
        figures += ruleFigures
        let markdown = """
            ## Policy decisions

            \(setting)

            | measurement | per second | × decode |
            |-------------|-----------:|---------:|
            \(line("decode request JSON only (baseline)", decode))
            \(line("always-permit engine, one rule (baseline)", trivialRate))
            \(line("realistic policy, no cache", engineRate))
            \(line("realistic policy, cache on (TTL 600 s)", cachedRate))
            \(line("decode JSON + decide (no cache) + encode response", endToEnd))

            \(reading)

            ### By number of rules

            The same requests against the policy cut to its first 10 rules, or grown with per-person rules (each
            permits one sender to write to one partner domain; the requests rarely match them). Above 10,000 rules,
            the most a policy may have by default (`PolicyLimits.standard`), the engine is built with
            `PolicyLimits.large`, as a deployment that generates one rule per person would configure it. Baseline:
            the always-permit engine above, same run.

            | rules | parse + compile | per second, no cache | per second, cache on | no cache × always-permit |
            |------:|----------------:|---------------------:|---------------------:|-------------------------:|
            \(ruleRows.joined(separator: "\n"))
            """
        try BenchOutput.emit(item: "pdp", markdown: markdown, figures: figures,
                             parameters: ["secondsPerMeasurement": "\(secondsPerMeasurement)",
                                          "ruleCounts": Self.ruleCounts.map(String.init).joined(separator: ",")])
    }

    /// The rule counts asked for (SEM_BENCH_PDP_RULES).
    static var ruleCounts: [Int] {
        BenchSettings.ints("SEM_BENCH_PDP_RULES", [10, 1_000, 100_000]).filter { $0 <= PolicyLimits.large.maxRules }
    }

    /// The limits a policy of `count` rules needs: the default ones up to their bound.
    static func limits(forRules count: Int) -> PolicyLimits {
        count <= PolicyLimits.standard.maxRules ? .standard : .large
    }

    /// One table row and one figure per rule count.
    private func ruleCountRows(requests: [DecisionRequest], trivialRate: Double) throws -> ([String], [BenchFigure]) {
        var rows: [String] = [], figures: [BenchFigure] = []
        for count in Self.ruleCounts {
            var engine: PolicyEngine?, cached: PolicyEngine?
            let setup = try BenchClock.seconds {
                let limits = Self.limits(forRules: count)
                let document = try PolicyDocument.parse(BenchPolicy.json(ruleCount: count), limits: limits)
                engine = try PolicyEngine(document: document, facts: BenchPolicy.facts(),
                                          options: PolicyEngineOptions(limits: limits))
                cached = try PolicyEngine(document: document, facts: BenchPolicy.facts(),
                                          options: PolicyEngineOptions(cacheTimeToLive: 600, limits: limits))
            }
            guard let engine, let cached else { continue }
            let plain = measure { index in _ = engine.decide(requests[index % requests.count]) }
            for request in requests { _ = cached.decide(request) }
            let warm = measure { index in _ = cached.decide(requests[index % requests.count]) }
            rows.append("| \(Self.format(Double(count))) | \(BenchClock.format(seconds: setup)) | \(Self.format(plain)) | "
                        + "\(Self.format(warm)) | \(String(format: "%.3f", plain / trivialRate)) |")
            figures.append(BenchFigure(item: "pdp", measurement: "\(count) rules, no cache, vs always-permit engine",
                                       ours: plain, baseline: trivialRate, unit: "decisions/s", higherIsBetter: true))
            BenchOutput.note("pdp: \(count) rules done")
        }
        return (rows, figures)
    }

    /// Operations per second: best of three timed runs of `body`.
    func measure(_ body: (Int) -> Void) -> Double {
        var best = 0.0
        var index = 0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let deadline = start + UInt64(secondsPerMeasurement * 1e9)
            var count = 0
            var now = start
            while now < deadline {
                for _ in 0..<256 {
                    body(index)
                    index &+= 1
                }
                count += 256
                now = DispatchTime.now().uptimeNanoseconds
            }
            best = max(best, Double(count) / (Double(now - start) / 1e9))
        }
        return best
    }

    static func format(_ rate: Double) -> String {
        let whole = Int(rate.rounded())
        var digits = Array(String(whole))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }
}
