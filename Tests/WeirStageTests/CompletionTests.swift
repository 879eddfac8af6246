import Foundation
import Testing

/// Programs the tests need from the system, looked for on `PATH`.
enum ShellTools {
    /// True when `program` is an executable on `PATH` (or in /usr/bin, /bin).
    static func installed(_ program: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return (path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]).contains { directory in
            FileManager.default.isExecutableFile(atPath: directory + "/" + program)
        }
    }

    /// The reason a test that needs `shell` is skipped.
    static func missing(_ shell: String) -> Comment {
        Comment(rawValue: "\(shell) is not installed (.ci/run installs it, so CI checks the \(shell) completions)")
    }
}

/// The shell completions `weir completions SHELL` generates from the stages' specs, loaded in
/// the real shells and asked for completions as the shell would ask.
@Suite struct CompletionTests {
    /// The completion script for `shell`, written to a file in `directory`.
    static func script(_ shell: String, in directory: URL, environment: [String: String] = [:]) throws -> URL {
        let result = try StageHarness.shell("weir completions \(shell)", environment: environment)
        try #require(result.status == 0, "weir completions \(shell): \(result.stderr)")
        let file = directory.appendingPathComponent(shell == "zsh" ? "_weir" : "weir.\(shell)")
        try result.stdout.write(to: file)
        return file
    }

    /// What the bash completion offers for each command line (its words; the last one is the
    /// word at the cursor), one `|`-separated line per command line.
    static func bashCompletions(_ script: URL, _ lines: [[String]], directory: URL) throws -> [String] {
        var program = "source '\(script.path)' || exit 3\n"
        program += "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _weir; (IFS='|'; echo \"${COMPREPLY[*]}\"); }\n"
        for words in lines {
            program += "t " + words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ") + "\n"
        }
        let result = try StageHarness.shell("bash --norc --noprofile -c '\(program.replacingOccurrences(of: "'", with: "'\\''"))'", input: Data(), directory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        return result.lines
    }

    @Test("bash: stage names, options, choices and files, for weir-NAME and weir NAME")
    func bash() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = try Self.script("bash", in: directory)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        for name in ["data/orders.ndjson", "data/stores.csv", "data/other.txt"] {
            try "{}\n".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let cases: [(words: [String], expected: String)] = [
            (["weir", "ma"], "map"),
            (["weir", "me"], "merge"),
            (["weir", "m"], "map|merge"),
            (["weir", "from-"], "from-csv|from-json|from-lines"),
            (["weir", "he"], "head|help"),
            (["weir", "--v"], "--version"),
            (["weir-map", "--err"], "--errors"),
            (["weir-map", "--errors", ""], "fail|skip|reject"),
            (["weir-map", "--errors", "s"], "skip"),
            (["weir", "map", "--err"], "--errors"),
            (["weir", "map", "--errors", "re"], "reject"),
            (["weir-map", "--errors=r"], "--errors=reject"),
            (["weir-map", "--errors", "=", "r"], "reject"),             // bash splits --errors=r at '='
            (["weir-from-csv", "--ragged", ""], "error|pad|truncate"),
            (["weir-to-json", "--color", ""], "never|always|auto"),
            (["weir-map", ".", "data/o"], "data/orders.ndjson|data/other.txt"),
            (["weir", "cat", "data/s"], "data/stores.csv"),
            (["weir-map", "-o", "data/st"], "data/stores.csv"),
            (["weir-map", "--slurpfile", "name", "data/or"], "data/orders.ndjson"),
            (["weir-map", "--slurpfile", "da"], ""),                    // the first value is a NAME
            (["weir-map", "--arg", "x", "da"], ""),
            (["weir-map", "-j", "da"], ""),
            (["weir-seq", "da"], ""),                                    // weir-seq reads no files
            (["weir", "help", "fi"], "filter"),
            (["weir", "completions", ""], "bash|zsh|fish"),
            (["weir-map", "--", "--err"], ""),
            (["weir", "nosuch", "--err"], ""),
        ]
        let replies = try Self.bashCompletions(script, cases.map(\.words), directory: directory)
        try #require(replies.count == cases.count, "\(replies)")
        for (test, reply) in zip(cases, replies) {
            // Files come in directory order: compare as sets.
            #expect(Set(reply.split(separator: "|")) == Set(test.expected.split(separator: "|")), "\(test.words): \(reply)")
        }
        // Every stage's name completes, and the function is registered for each weir-NAME.
        let stageNames = StageHarness.stageNames.map { String($0.dropFirst("weir-".count)) }
        let all = try Self.bashCompletions(script, [["weir", ""]], directory: directory)
        #expect(Set(all.first?.split(separator: "|").map(String.init) ?? []) == Set(stageNames + ["help", "completions"]))
        let registered = try StageHarness.shell("bash --norc -c \"source '\(script.path)'; complete -p\"")
        for stage in ["weir"] + StageHarness.stageNames {
            #expect(registered.text.contains("complete -F _weir ") && registered.lines.contains { $0.hasPrefix("complete -F _weir ") && $0.hasSuffix(" \(stage)") }, "\(stage) has no completion")
        }
    }

    @Test("a stage found on PATH completes from its own --spec, with no change to the front door")
    func stageAddedLater() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A stage the front door was not built with: it only answers --spec.
        let spec = #"{"name":"greet","executable":"weir-greet","summary":"say hello","operands":"[FILE...]","input":"files","operandsAreFiles":true,"options":[{"long":"greeting","short":"g","value":"WORD","values":["choice"],"choices":["hello","bonjour"],"repeatable":false,"help":"The word."}]}"#
        let stages = try FrontDoorTests.fakeStages([("greet", "[ \"$1\" = --spec ] && echo '\(spec)'")])
        defer { try? FileManager.default.removeItem(at: stages) }
        let environment = ["PATH": StageHarness.binDirectory.path + ":" + stages.path + ":/usr/bin:/bin"]
        let script = try Self.script("bash", in: directory, environment: environment)
        let replies = try Self.bashCompletions(script, [["weir", "gr"], ["weir-greet", "--gr"], ["weir", "greet", "-g", "b"]], directory: directory)
        #expect(replies == ["greet", "--greeting", "bonjour"])
        let listing = try StageHarness.shell("weir", environment: environment)
        #expect(listing.lines.contains { $0.hasPrefix("  greet ") && $0.hasSuffix(" say hello") }, "\(listing.text)")
    }

    @Test("zsh: the script parses and registers _weir for weir and every stage", .enabled(if: ShellTools.installed("zsh"), ShellTools.missing("zsh")))
    func zsh() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = try Self.script("zsh", in: directory)
        let syntax = try StageHarness.shell("zsh -n '\(script.path)'")
        #expect(syntax.status == 0, "\(syntax.stderr)")
        // compinit reads the #compdef line of each function in $fpath.
        let loaded = try StageHarness.shell(
            "zsh -f -c 'fpath=(\(directory.path) $fpath); autoload -Uz compinit; compinit -u -d \(directory.path)/zcompdump; for c in weir \(StageHarness.stageNames.joined(separator: " ")); do print -r -- \"$c=$_comps[$c]\"; done'")
        #expect(loaded.status == 0, "\(loaded.stderr)")
        for stage in ["weir"] + StageHarness.stageNames {
            #expect(loaded.lines.contains("\(stage)=_weir"), "\(stage): \(loaded.text)")
        }
    }

    @Test("fish: the script parses, and completes stage names, options, choices and files", .enabled(if: ShellTools.installed("fish"), ShellTools.missing("fish")))
    func fish() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = try Self.script("fish", in: directory)
        let syntax = try StageHarness.shell("fish -n '\(script.path)'")
        #expect(syntax.status == 0, "\(syntax.stderr)")
        try "{}\n".write(to: directory.appendingPathComponent("orders.ndjson"), atomically: true, encoding: .utf8)
        let cases: [(line: String, expected: [String])] = [
            ("weir ma", ["map"]),
            ("weir-map --err", ["--errors"]),
            ("weir-map --errors ", ["fail", "reject", "skip"]),
            ("weir map --err", ["--errors"]),
            ("weir map --errors s", ["skip"]),
            ("weir-map . ord", ["orders.ndjson"]),
            ("weir cat ord", ["orders.ndjson"]),
            ("weir help fi", ["filter"]),
            ("weir completions z", ["zsh"]),
        ]
        var program = "source '\(script.path)'; or exit 3\n"
        for test in cases { program += "echo (complete -C '\(test.line)' | string replace -r '\\t.*' '' | sort | string join '|')\n" }
        let result = try StageHarness.shell("fish --no-config -c '\(program.replacingOccurrences(of: "'", with: "'\\''"))'", input: Data(), directory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        try #require(result.lines.count == cases.count, "\(result.text) \(result.stderr)")
        for (test, line) in zip(cases, result.lines) {
            #expect(line == test.expected.joined(separator: "|"), "'\(test.line)': \(line)")
        }
        // Every stage's name completes after weir, with its summary.
        let names = try StageHarness.shell("fish --no-config -c \"source '\(script.path)'; complete -C 'weir '\"")
        for stage in StageHarness.stageNames {
            let name = String(stage.dropFirst("weir-".count))
            #expect(names.lines.contains { $0.hasPrefix(name + "\t") }, "\(name): \(names.text)")
        }
    }
}
