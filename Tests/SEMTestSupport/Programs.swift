// Locating and running the package's own executables (sem, semd, semctl) from tests.
public import Foundation

public enum Programs {
    /// The build directory that holds the test bundle, and with it the executables.
    public static var buildDirectory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1, !url.lastPathComponent.hasSuffix(".xctest") {
            url.deleteLastPathComponent()
        }
        return url.deletingLastPathComponent()
    }

    public static func url(_ name: String) -> URL { buildDirectory.appendingPathComponent(name) }

    /// Runs one of the package's executables.
    public static func run(_ name: String, _ arguments: [String], input: Data? = nil,
                           environment: [String: String] = [:], in directory: URL? = nil) throws -> ToolResult {
        try ExternalTool.run(url(name).path, arguments, input: input, environment: environment, in: directory)
    }
}
