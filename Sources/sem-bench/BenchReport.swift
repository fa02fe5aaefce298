// What every benchmark hands to `scripts/bench`: its Markdown section on standard output,
// and, when SEM_BENCH_JSON names a file, the same figures as JSON there, each with the
// baseline it was measured against in the same run and the ratio of the two.
import Foundation

/// One measured figure and its baseline from the same run.
struct BenchFigure: Encodable {
    /// The benchmark it belongs to, e.g. "crypto".
    let item: String
    let measurement: String
    let ours: Double
    let baseline: Double
    /// "s", "ops/s", "bytes", ...
    let unit: String
    /// True for rates, where more is better; false for times, sizes and memory.
    let higherIsBetter: Bool
    /// What kind of cost the ratio expresses: "time" figures compete for "the slowest
    /// ratio"; "bytes" and "memory" figures are reported but not ranked with them.
    let kind: String

    init(item: String, measurement: String, ours: Double, baseline: Double, unit: String,
         higherIsBetter: Bool, kind: String = "time") {
        self.item = item
        self.measurement = measurement
        self.ours = ours
        self.baseline = baseline
        self.unit = unit
        self.higherIsBetter = higherIsBetter
        self.kind = kind
    }

    /// Ours against the baseline as written in the tables: ours / baseline.
    var ratio: Double { baseline == 0 ? 0 : ours / baseline }
    /// How many times the cost of the baseline ours costs (above 1: dearer).
    var costFactor: Double {
        guard ours > 0, baseline > 0 else { return 0 }
        return higherIsBetter ? baseline / ours : ours / baseline
    }

    enum CodingKeys: String, CodingKey { case item, measurement, ours, baseline, unit, higherIsBetter, kind, ratio, costFactor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(item, forKey: .item)
        try container.encode(measurement, forKey: .measurement)
        try container.encode(ours, forKey: .ours)
        try container.encode(baseline, forKey: .baseline)
        try container.encode(unit, forKey: .unit)
        try container.encode(higherIsBetter, forKey: .higherIsBetter)
        try container.encode(kind, forKey: .kind)
        try container.encode(ratio, forKey: .ratio)
        try container.encode(costFactor, forKey: .costFactor)
    }
}

enum BenchOutput {
    /// Prints `markdown` and writes `figures` (and `parameters`) to SEM_BENCH_JSON when set.
    static func emit(item: String, markdown: String, figures: [BenchFigure], parameters: [String: String] = [:]) throws {
        print(markdown)
        fflush(nil)
        guard let path = ProcessInfo.processInfo.environment["SEM_BENCH_JSON"], !path.isEmpty else { return }
        struct Section: Encodable {
            let item: String
            let parameters: [String: String]
            let figures: [BenchFigure]
            let markdown: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(Section(item: item, parameters: parameters, figures: figures, markdown: markdown))
            .write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Progress for the person waiting, on standard error so that it stays out of the report.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("sem-bench: \(text)\n".utf8))
    }
}

/// Settings from the environment, so that `scripts/bench` can shrink or grow a run.
enum BenchSettings {
    static func double(_ name: String, _ fallback: Double) -> Double {
        ProcessInfo.processInfo.environment[name].flatMap(Double.init) ?? fallback
    }

    static func int(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? fallback
    }

    static func ints(_ name: String, _ fallback: [Int]) -> [Int] {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return fallback }
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.isEmpty ? fallback : values
    }

    static func string(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Timing helpers shared by the benchmarks.
enum BenchClock {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Seconds `body` takes.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return Double(now() - start) / 1e9
    }

    /// The value at quantile `q` (0...1) of `values` (nearest rank).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// Runs `ours` and `baseline` in alternation until `budget` seconds have passed (at
    /// least `minimum` times each) and returns the median time of each. Alternating keeps
    /// a burst of load from other work on the machine from landing on one side only.
    static func paired(budget: Double, minimum: Int = 3, ours: () throws -> Void,
                       baseline: () throws -> Void) rethrows -> (ours: Double, baseline: Double, runs: Int) {
        var oursTimes: [Double] = [], baselineTimes: [Double] = []
        let deadline = now() + UInt64(budget * 1e9)
        while oursTimes.count < minimum || now() < deadline {
            baselineTimes.append(try seconds(baseline))
            oursTimes.append(try seconds(ours))
        }
        return (quantile(oursTimes, 0.5), quantile(baselineTimes, 0.5), oursTimes.count)
    }

    /// "1.23 ms", "456 µs", "2.1 s".
    static func format(seconds value: Double) -> String {
        if value >= 1 { return String(format: "%.2f s", value) }
        if value >= 1e-3 { return String(format: "%.2f ms", value * 1e3) }
        return String(format: "%.1f µs", value * 1e6)
    }
}
