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
