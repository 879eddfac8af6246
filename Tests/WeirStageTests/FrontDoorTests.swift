import Foundation
import Testing

/// The `weir` front door, run as a user runs it: `weir STAGE ARGS…` is `weir-STAGE ARGS…`.
@Suite struct FrontDoorTests {
    /// What `weir-NAME --spec` says, as a dictionary.
    static func spec(_ stage: String) throws -> [String: Any] {
        let result = try StageHarness.shell("\(stage) --spec")
        try #require(result.status == 0, "\(stage) --spec: \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], "\(stage) --spec: \(result.text)")
    }

    /// A directory with a `weir-NAME` shell script in it for each (name, script body) pair.
    static func fakeStages(_ scripts: [(name: String, body: String)]) throws -> URL {
        let directory = try StageHarness.temporaryDirectory()
        for (name, body) in scripts {
            let path = directory.appendingPathComponent("weir-\(name)").path
            try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        return directory
    }

    @Test("weir alone lists every stage with its one-line summary")
    func listsEveryStage() throws {
        let result = try StageHarness.shell("weir")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.hasPrefix("Usage: weir STAGE"))
        let stages = StageHarness.stageNames
        #expect(stages.count >= 20)
        for stage in stages {
            let summary = try #require(try Self.spec(stage)["summary"] as? String)
            let name = String(stage.dropFirst("weir-".count))
            let listed = result.lines.contains { line in
                line.hasPrefix("  \(name) ") && line.hasSuffix(" \(summary)")
                    && line.dropFirst(2 + name.count).dropLast(summary.count + 1).allSatisfy { $0 == " " }
            }
            #expect(listed, "the listing lacks '\(name)  \(summary)':\n\(result.text)")
        }
        #expect(try StageHarness.shell("weir --help").stdout == result.stdout)
    }

    @Test("weir cat FILE prints what weir-cat FILE prints; standard input passes through")
    func runsTheStage() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("in.ndjson")
        try "{ \"sku\": \"A-1\", \"price\": 1.10 }\n[1, 2]\n".write(to: file, atomically: true, encoding: .utf8)
        let viaFrontDoor = try StageHarness.shell("weir cat '\(file.path)'")
        let direct = try StageHarness.shell("weir-cat '\(file.path)'")
        #expect(viaFrontDoor.status == 0 && direct.status == 0)
        #expect(viaFrontDoor.text == "{\"sku\":\"A-1\",\"price\":1.10}\n[1,2]\n")
        #expect(viaFrontDoor.stdout == direct.stdout)
        let mapped = try StageHarness.shell("weir map --arg x y '{a, x: $x}'", input: "{\"a\":1}\n{\"a\":2}\n")
        #expect(mapped.status == 0, "\(mapped.stderr)")
        #expect(mapped.text == "{\"a\":1,\"x\":\"y\"}\n{\"a\":2,\"x\":\"y\"}\n")
    }

    @Test("the stage's exit status and messages are the stage's own")
    func exitStatusPassesThrough() throws {
        let badExpression = try StageHarness.shell("weir filter '.a +'", input: "{\"a\":1}\n")
        #expect(badExpression.status == 2)
        #expect(badExpression.stderr.hasPrefix("weir-filter: "), "\(badExpression.stderr)")
        let badRecord = try StageHarness.shell("weir cat", input: "{\"a\":1}\n{\n")
        #expect(badRecord.status == 1)
        #expect(badRecord.text == "{\"a\":1}\n")
        #expect(badRecord.stderr.contains("weir-cat: <stdin>:2:"), "\(badRecord.stderr)")
        let unknownOption = try StageHarness.shell("weir map --no-such .")
        #expect(unknownOption.status == 2)
        #expect(unknownOption.stderr.contains("Try 'weir-map --help'"))
    }

    @Test("weir replaces itself with the stage: same process, and a signal ends it as it ends the stage")
    func replacesItself() throws {
        // weir cat reads a FIFO this shell holds open, so it waits; once weir has exec'd the
        // stage, the process's name is weir-cat. SIGTERM then ends it with the stage's 143.
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = """
            cd '\(directory.path)' && mkfifo input
            weir cat < input &
            pid=$!
            exec 3> input
            for i in $(seq 100); do [ "$(cat /proc/$pid/comm 2>/dev/null)" = weir-cat ] && break; sleep 0.1; done
            echo "name $(cat /proc/$pid/comm)"
            kill -TERM $pid
            wait $pid
            echo "status $?"
            exec 3>&-
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines.contains("name weir-cat"), "\(result.text) \(result.stderr)")
        #expect(result.lines.contains("status 143"), "\(result.text) \(result.stderr)")
    }

    @Test("an unknown stage is a usage error, with the closest names")
    func unknownStage() throws {
        let unknown = try StageHarness.shell("weir nosuch a b")
        #expect(unknown.status == 2)
        #expect(unknown.text.isEmpty)
        #expect(unknown.stderr.hasPrefix("weir: 'nosuch' is not a weir stage\n"), "\(unknown.stderr)")
        let typo = try StageHarness.shell("weir fliter '.a'")
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("(did you mean 'filter'?)"), "\(typo.stderr)")
        let prefix = try StageHarness.shell("weir from")
        #expect(prefix.stderr.contains("did you mean 'from-csv' or 'from-json' or 'from-lines'?"), "\(prefix.stderr)")
        for command in ["weir --frob", "weir completions", "weir completions tcsh", "weir help map extra", "weir --version extra", "weir help nosuch", "weir ../weir-cat"] {
            let result = try StageHarness.shell(command)
            #expect(result.status == 2, "\(command): \(result.status)")
            #expect(result.stderr.hasPrefix("weir: "), "\(command): \(result.stderr)")
            #expect(result.text.isEmpty, "\(command)")
        }
    }

    @Test("weir help STAGE prints the stage's --help when standard output is not a terminal")
    func helpWithoutTerminal() throws {
        let help = try StageHarness.shell("weir help map")
        #expect(help.status == 0)
        #expect(help.text.hasPrefix("Usage: weir-map [OPTIONS] EXPR [FILE...]\n"))
        #expect(help.stdout == (try StageHarness.shell("weir-map --help")).stdout)
        #expect(try StageHarness.shell("weir help").stdout == (try StageHarness.shell("weir")).stdout)
    }

    @Test("weir help STAGE on a terminal shows the installed man page",
          .enabled(if: ShellTools.installed("script") && ShellTools.installed("man"), "script(1) or man(1) is not installed"))
    func helpOnTerminal() throws {
        // script(1) gives weir a terminal; MANPATH points man at the repository's pages.
        let manDirectory = StageHarness.repositoryRoot.appendingPathComponent("man").path
        let result = try StageHarness.shell(
            "script -qec 'weir help map' /dev/null",
            environment: ["MANPATH": manDirectory, "MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100", "TERM": "dumb"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.contains("replace each record by the outputs of an expression"), "\(result.text.prefix(400))")
        #expect(result.text.contains("Weir Manual"), "\(result.text.prefix(400))")
        #expect(!result.text.contains("Usage: weir-map"))
    }

    @Test("weir --version")
    func version() throws {
        let result = try StageHarness.shell("weir --version")
        #expect(result.status == 0)
        let stageVersion = try StageHarness.shell("weir-cat --version").text
        #expect(result.text == "weir " + stageVersion.dropFirst("weir-cat ".count))
    }

    @Test("the listing remembers each stage's --spec answer until the stage's file changes")
    func listingCache() throws {
        let cache = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        func spec(_ summary: String) -> String {
            "[ \"$1\" = --spec ] && echo '{\"name\":\"greet\",\"executable\":\"weir-greet\",\"summary\":\"\(summary)\",\"operands\":\"\",\"input\":\"none\",\"operandsAreFiles\":false,\"options\":[]}'"
        }
        let stages = try Self.fakeStages([("greet", spec("say hello"))])
        defer { try? FileManager.default.removeItem(at: stages) }
        let environment = ["PATH": StageHarness.binDirectory.path + ":" + stages.path + ":/usr/bin:/bin", "XDG_CACHE_HOME": cache.path]
        let first = try StageHarness.shell("weir", environment: environment)
        #expect(first.lines.contains { $0.hasPrefix("  greet ") && $0.hasSuffix(" say hello") }, "\(first.text)")
        let cacheFile = cache.appendingPathComponent("weir").appendingPathComponent("stages-" + (try StageHarness.shell("weir --version").text.dropFirst(5).dropLast()) + ".ndjson")
        let remembered = try String(contentsOf: cacheFile, encoding: .utf8)
        #expect(remembered.split(separator: "\n").count == StageHarness.stageNames.count + 1, "\(remembered.prefix(300))")
        #expect(try StageHarness.shell("weir", environment: environment).stdout == first.stdout)
        // A changed stage is asked again.
        try ("#!/bin/sh\n" + spec("say bonjour") + "\n").write(to: stages.appendingPathComponent("weir-greet"), atomically: false, encoding: .utf8)
        let changed = try StageHarness.shell("weir", environment: environment)
        #expect(changed.lines.contains { $0.hasPrefix("  greet ") && $0.hasSuffix(" say bonjour") }, "\(changed.text)")
        // A cache that is not one is ignored (and replaced).
        try "not json\n".write(to: cacheFile, atomically: true, encoding: .utf8)
        #expect(try StageHarness.shell("weir", environment: environment).stdout == changed.stdout)
        #expect(try String(contentsOf: cacheFile, encoding: .utf8).contains("say bonjour"))
    }

    @Test("stages are found beside weir first, then on PATH, and any weir-NAME on PATH runs")
    func findsStagesOnPath() throws {
        let directory = try Self.fakeStages([
            ("hello", "echo \"hello $*\""),
            ("cat", "echo 'the PATH weir-cat, not the one beside weir'"),
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        // PATH's weir-cat comes first on PATH, but the one beside weir wins.
        let path = ["PATH": directory.path + ":" + StageHarness.binDirectory.path + ":/usr/bin:/bin"]
        let hello = try StageHarness.shell("weir hello a 'b c'", environment: path)
        #expect(hello.status == 0)
        #expect(hello.text == "hello a b c\n")
        let cat = try StageHarness.shell("weir cat", input: "{\"a\": 1}\n", environment: path)
        #expect(cat.text == "{\"a\":1}\n")
        let listing = try StageHarness.shell("weir", environment: path)
        #expect(listing.status == 0)
        #expect(listing.lines.contains { $0.hasPrefix("  hello ") && $0.contains("did not describe itself") }, "\(listing.text)")
        #expect(listing.lines.filter { $0.hasPrefix("  cat ") }.count == 1)
    }
}
