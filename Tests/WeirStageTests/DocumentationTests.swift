import Foundation
import Testing
import WeirTestSupport

/// The documentation cannot rot: every help example runs, and every man page is current.
@Suite struct DocumentationTests {
    static let stages = StageHarness.stageNames
    /// The service address help examples show.
    static let exampleHost = "127.0.0.1:8080"

    @Test("every stage is built and found") func stagesExist() {
        #expect(Self.stages.contains("weir-cat"), "no weir-* executables in \(StageHarness.binDirectory.path)")
    }

    @Test("help examples give the output they show", arguments: stages)
    func examplesRun(stage: String) throws {
        let listing = try StageHarness.shell("\(stage) --examples")
        #expect(listing.status == 0)
        let examples = listing.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(!examples.isEmpty, "\(stage) has no examples")
        // Examples that call a service (weir-fetch) show `127.0.0.1:8080`: they run against the
        // tests' local server, on whatever port it got.
        let needsServer = examples.contains { $0["command"]!.contains(Self.exampleHost) }
        try #require(!needsServer || TestHTTPServer.isAvailable, "\(stage)'s examples need python3 for the local HTTP server")
        let server = needsServer ? try TestHTTPServer() : nil
        for example in examples {
            // Each in a fresh directory: an example may write files (weir-split).
            let directory = try StageHarness.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let host = server.map { String($0.baseURL.dropFirst("http://".count)) } ?? Self.exampleHost
            let command = example["command"]!.replacingOccurrences(of: Self.exampleHost, with: host)
            let expected = example["output"]!.replacingOccurrences(of: Self.exampleHost, with: host)
            let result = try StageHarness.shell(command, input: Data(example["input"]!.utf8), directory: directory)
            #expect(result.status == 0, "\(stage): '\(command)' exited \(result.status): \(result.stderr)")
            #expect(result.text == expected, "\(stage): '\(command)' printed \(result.text)")
        }
    }

    @Test("man pages are generated from the current spec", arguments: stages)
    func manPageIsCurrent(stage: String) throws {
        let generated = try StageHarness.shell("\(stage) --man").text
        let path = StageHarness.repositoryRoot.appendingPathComponent("man/man1/\(stage).1")
        let committed = (try? String(contentsOf: path, encoding: .utf8)) ?? "(missing)"
        #expect(generated == committed, "man/man1/\(stage).1 is out of date: run bin/mkman")
    }

    @Test("the front door's man page is generated from its current text")
    func frontDoorManPageIsCurrent() throws {
        let generated = try StageHarness.shell("weir --man")
        #expect(generated.status == 0)
        let committed = (try? String(contentsOf: StageHarness.repositoryRoot.appendingPathComponent("man/man1/weir.1"), encoding: .utf8)) ?? "(missing)"
        #expect(generated.text == committed, "man/man1/weir.1 is out of date: run bin/mkman")
    }

    @Test("--spec describes the options --help lists, with the values the parser accepts", arguments: stages)
    func specMatchesHelp(stage: String) throws {
        let result = try StageHarness.shell("\(stage) --spec")
        #expect(result.status == 0)
        #expect(result.lines.count == 1)
        let spec = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(spec["executable"] as? String == stage)
        let options = try #require(spec["options"] as? [[String: Any]])
        let help = try StageHarness.shell("\(stage) --help").text
        for option in options {
            let long = try #require(option["long"] as? String)
            #expect(help.contains("--\(long)"), "\(stage) --spec has --\(long), --help does not")
            // An option with choices takes each of them and refuses anything else, as the spec says.
            let choices = option["choices"] as? [String] ?? []
            if let first = choices.first {
                let refused = try StageHarness.shell("\(stage) --\(long) no-such-choice --help")
                #expect(refused.status == 2, "\(stage) --\(long) no-such-choice: \(refused.status)")
                #expect(refused.stderr.contains("option '--\(long)' takes one of \(choices.joined(separator: ", ")), not 'no-such-choice'"), "\(refused.stderr)")
                #expect(try StageHarness.shell("\(stage) --\(long) \(first) --help").status == 0)
            }
        }
        #expect(options.contains { $0["long"] as? String == "help" })
    }

    @Test("--help, --version and usage errors follow the contract", arguments: stages)
    func commonContract(stage: String) throws {
        let help = try StageHarness.shell("\(stage) --help")
        #expect(help.status == 0)
        #expect(help.text.hasPrefix("Usage: \(stage) "))
        let version = try StageHarness.shell("\(stage) --version")
        #expect(version.text.hasPrefix("\(stage) "))
        let bad = try StageHarness.shell("\(stage) --no-such-option")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("Try '\(stage) --help'"))
        #expect(bad.text.isEmpty)
    }

    @Test("the README has a listed section for every stage", arguments: stages)
    func readmeSection(stage: String) throws {
        let text = try String(contentsOf: StageHarness.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.contains("## \(stage)"), "README.md has no '## \(stage)' section")
        #expect(text.contains("- [`\(stage)`](#\(stage))"), "README.md's stage list lacks \(stage)")
    }

    /// The README's shell examples that show output. In each ```sh block, every `$ COMMAND`
    /// (continued over lines that end in `\\`) up to the last one followed by output is run, in
    /// order, in one fresh directory; each must print exactly the lines after it (none when the
    /// next line is another `$`). Commands after the last output are illustrations, not run.
    struct ReadmeExample: CustomTestStringConvertible {
        var section: String
        var line: Int
        var commands: [(command: String, output: String)]
        var testDescription: String { "\(section) (README.md:\(line))" }
    }

    static let readmeExamples: [ReadmeExample] = {
        let url = StageHarness.repositoryRoot.appendingPathComponent("README.md")
        let lines = ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var examples: [ReadmeExample] = []
        var section = ""
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("## ") || line.hasPrefix("### ") { section = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces) }
            guard line == "```sh" else { index += 1; continue }
            let first = index + 1
            var end = first
            while end < lines.count && !lines[end].hasPrefix("```") { end += 1 }
            var commands: [(command: String, output: String, shown: Bool)] = []
            var row = first
            while row < end {
                let text = lines[row]
                if text.hasPrefix("$ ") {
                    var command = String(text.dropFirst(2))
                    while command.hasSuffix("\\"), row + 1 < end { row += 1; command += "\n" + lines[row] }
                    commands.append((command, "", false))
                } else if !commands.isEmpty {
                    commands[commands.count - 1].output += text + "\n"
                    if !text.isEmpty { commands[commands.count - 1].shown = true }
                }
                row += 1
            }
            if let last = commands.lastIndex(where: \.shown) {
                let run = commands[...last].map { command in
                    // Blank lines separate a command's output from the next example.
                    var output = command.output
                    while output.hasSuffix("\n\n") { output.removeLast() }
                    return (command: command.command, output: output == "\n" ? "" : output)
                }
                examples.append(ReadmeExample(section: section, line: first + 1, commands: run))
            }
            index = end + 1
        }
        return examples
    }()

    @Test("the README's examples print the output they show", arguments: readmeExamples)
    func readmeExample(_ example: ReadmeExample) throws {
        let needsServer = example.commands.contains { $0.command.contains(Self.exampleHost) }
        try #require(!needsServer || TestHTTPServer.isAvailable, "\(example.section)'s example needs python3 for the local HTTP server")
        let server = needsServer ? try TestHTTPServer() : nil
        let host = server.map { String($0.baseURL.dropFirst("http://".count)) } ?? Self.exampleHost
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (command, output) in example.commands {
            let result = try StageHarness.shell(command.replacingOccurrences(of: Self.exampleHost, with: host), directory: directory)
            #expect(result.text == output.replacingOccurrences(of: Self.exampleHost, with: host),
                    "README.md:\(example.line): '\(command)' printed:\n\(result.text)\(result.stderr)")
        }
    }

    @Test("every stage's README section, the front door, compressed files and the jq and Miller tables have a checked example")
    func readmeExamplesCoverEverySection() {
        let sections = Set(Self.readmeExamples.map(\.section))
        let needed = Self.stages + ["weir, the front door", "Compressed files", "For jq users", "For Miller users"]
        for name in needed {
            #expect(sections.contains(name), "README.md: the '\(name)' section has no example with its output")
        }
    }

    @Test("the README's code blocks are all closed") func readmeBlocks() throws {
        let text = try String(contentsOf: StageHarness.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // A section heading inside a code block means a block above it was left open.
        var inBlock = false
        for (number, line) in lines.enumerated() {
            if line.hasPrefix("```") { inBlock.toggle() }
            #expect(!(inBlock && line.hasPrefix("## ")), "README.md:\(number + 1): heading inside an unclosed code block")
        }
        #expect(!inBlock, "README.md ends inside a code block")
    }
}
