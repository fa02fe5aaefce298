// sem-fuzz: fuzz targets for the parsers that read what strangers send.
//
//   sem-fuzz TARGET [libFuzzer flags] [corpus directories]
//
// Built by scripts/fuzz with -sanitize=fuzzer,address and -D SEM_FUZZ, it hands control
// to libFuzzer's driver. A normal build (swift build) has no libFuzzer: there it replays
// the files and directories it is given, each file one input, which is how a crashing
// input from a fuzz run is checked after a fix. FuzzTarget.swift holds the targets.
import Foundation
#if SEM_FUZZ
import CFuzzDriver
#endif

/// The target chosen on the command line. libFuzzer's callback is a C function that
/// cannot carry context, so it reads this global, set once before the driver starts.
let selectedTarget = CommandLine.arguments.count > 1 ? FuzzTarget(rawValue: CommandLine.arguments[1]) : nil

@main
struct SEMFuzz {
    static func main() {
        guard let target = selectedTarget else {
            let names = FuzzTarget.allCases.map { "  \($0.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))"
                + $0.summary }
            FileHandle.standardError.write(Data(("usage: sem-fuzz TARGET [libFuzzer flags] [corpus directories]\n"
                + "targets:\n" + names.joined(separator: "\n") + "\n").utf8))
            exit(2)
        }
        let rest = Array(CommandLine.arguments.dropFirst(2))
        #if SEM_FUZZ
        exit(fuzz(rest))
        #else
        exit(replay(target, rest))
        #endif
    }

    #if SEM_FUZZ
    /// Runs libFuzzer with the program name followed by `arguments` as its argv.
    static func fuzz(_ arguments: [String]) -> Int32 {
        let strings = [CommandLine.arguments[0]] + arguments
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        var argc = Int32(strings.count)
        return pointers.withUnsafeMutableBufferPointer { buffer in
            var argv = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
                selectedTarget?.run(input)
                return 0
            }
        }
    }
    #endif

    /// Runs `target` over every file named, and every file inside the directories named.
    static func replay(_ target: FuzzTarget, _ paths: [String]) -> Int32 {
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data(("sem-fuzz was built without libFuzzer; give it files or directories "
                + "to replay, or build it with scripts/fuzz.\n").utf8))
            return 2
        }
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("sem-fuzz: \(path) does not exist.\n".utf8))
                return 2
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run([UInt8](data))
                count += 1
            }
        }
        print("sem-fuzz \(target.rawValue): \(count) inputs replayed, no crash")
        return 0
    }
}
