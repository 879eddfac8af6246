import Foundation
import Testing

/// Runs the built stage executables through real pipes, as a shell user would.
enum StageHarness {
    /// The folder holding the built executables (the test runner's own folder).
    static let binDirectory: URL = {
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var directory = executable.deletingLastPathComponent()
        // The XCTest bundle layout puts the runner inside `Name.xctest/`; step out of it.
        while directory.lastPathComponent.hasSuffix(".xctest") || directory.lastPathComponent == "MacOS" || directory.lastPathComponent == "Contents" {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }()

    /// The repository root (for case folders and man pages).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The outcome of a command.
    struct Result {
        var stdout: Data
        var stderr: String
        var status: Int32
        var text: String { String(decoding: stdout, as: UTF8.self) }
        var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0).map(String.init) }
    }

    /// How long one command line may run before it and everything it started are killed
    /// (status 124, or 137 after the grace period): a hang fails its test instead of the suite.
    static let commandTimeLimit = "600"

    /// GNU timeout, which runs the command in a process group of its own and signals the group.
    static let timeoutProgram = ["/usr/bin/timeout", "/bin/timeout"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs a shell command line with the executables first on PATH, feeding `input`, under
    /// ``commandTimeLimit``.
    static func shell(_ command: String, input: Data = Data(), directory: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        if let timeoutProgram {
            process.executableURL = URL(fileURLWithPath: timeoutProgram)
            process.arguments = ["-k", "10", commandTimeLimit, "/bin/bash", "-o", "pipefail", "-c", command]
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-o", "pipefail", "-c", command]
        }
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = binDirectory.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["LC_ALL"] = "C.UTF-8"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let stdinPipe = Pipe(), stdoutPipe = Pipe(), stderrPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
        // Feed input and drain outputs concurrently so large data cannot deadlock.
        final class Collected: @unchecked Sendable { var stdout = Data(); var stderr = Data() }
        let collected = Collected()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            // The command may exit without reading its input (head -1): ignore EPIPE.
            signal(SIGPIPE, SIG_IGN)
            try? stdinPipe.fileHandleForWriting.write(contentsOf: input)
            try? stdinPipe.fileHandleForWriting.close()
        }
        DispatchQueue.global().async(group: group) { collected.stdout = stdoutPipe.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { collected.stderr = stderrPipe.fileHandleForReading.readDataToEndOfFile() }
        group.wait()
        process.waitUntilExit()
        return Result(stdout: collected.stdout, stderr: String(decoding: collected.stderr, as: UTF8.self), status: process.terminationStatus)
    }

    /// Runs a shell command line with text input.
    static func shell(_ command: String, input: String, environment: [String: String] = [:]) throws -> Result {
        try shell(command, input: Data(input.utf8), environment: environment)
    }

    /// The names of all stages that are built (`weir-*` in the build folder).
    static var stageNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: binDirectory.path)) ?? []
        return names.filter { $0.hasPrefix("weir-") && !$0.contains(".") }.sorted()
    }

    /// The counts of the `--stats` line on standard error (its last line that is one).
    static func stats(_ stderr: String) -> [String: Int] {
        let line = stderr.split(separator: "\n").last { $0.hasPrefix("{\"stage\"") }.map(String.init) ?? "{}"
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? Int }
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("weir-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
