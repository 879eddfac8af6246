import Foundation
import Testing

/// weir-exec through real pipes: order under concurrency, where the output goes, failing
/// and dying commands under each error policy, timeouts, and no child process left behind
/// (after the end, `| head -1`, SIGINT and SIGTERM).
@Suite struct ExecStageTests {
    /// A shell line that sets `$m` to a word no other process has on its command line (made
    /// by the shell, so that the test's own shell, whose command line is the script, does
    /// not carry it): the children given it are found with `pgrep -f "$m"`.
    static let marker = #"m="weir-exec-test-$$-$RANDOM$RANDOM""#

    /// A shell line that prints `left N`: how many processes carry `$m` on their command line.
    static let countLeft = #"echo "left $(pgrep -f -- "$m" | wc -l | tr -d ' ')""#

    static func records(_ count: Int) -> String {
        (1...count).map { "{\"i\":\($0)}\n" }.joined()
    }

    @Test("-c 8 with random child latencies keeps input order")
    func orderKept() throws {
        let input = Self.records(120)
        let result = try StageHarness.shell("weir-exec -c 8 --replace --shell 'sleep 0.0$((RANDOM % 6)); cat' --stats", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == input)
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 120 && stats["written"] == 120)
    }

    @Test("--as FIELD (JSON), --raw, --replace, and arguments passed as given")
    func placements() throws {
        let field = try StageHarness.shell("weir-exec --as copy -- cat", input: "{\"a\":1.10}\n")
        #expect(field.text == "{\"a\":1.10,\"copy\":{\"a\":1.10}}\n", "\(field.stderr)")
        let raw = try StageHarness.shell("weir-exec --raw -- printf '%s\\n' 'two words' '$HOME'", input: "{\"a\":1}\n")
        #expect(raw.text == "{\"a\":1,\"output\":\"two words\\n$HOME\"}\n", "\(raw.stderr)")
        let replaced = try StageHarness.shell("weir-exec --replace --raw -- wc -c", input: "{\"a\":1}\n")
        #expect(replaced.text == "\"8\"\n", "\(replaced.stderr)")
        let pretty = try StageHarness.shell(#"weir-exec --replace --shell 'printf "{\n  \"b\": [1, 2]\n}\n"'"#, input: "{\"a\":1}\n")
        #expect(pretty.text == "{\"b\":[1,2]}\n", "\(pretty.stderr)")
    }

    static let failing = #"--shell 'read l; case $l in *:2}|*:4}) echo "no good: $l" >&2; exit 3;; esac; echo "$l"'"#

    @Test("a failing command under fail, skip and reject: message, reject entry, counts reconciled")
    func failingCommand() throws {
        let input = Self.records(5)
        let fail = try StageHarness.shell("weir-exec \(Self.failing) --stats", input: input)
        #expect(fail.status == 1)
        #expect(fail.stderr.contains(#"weir-exec: <stdin>:2: 'read l; case "#), "\(fail.stderr)")
        #expect(fail.stderr.contains(#"exited with status 3; stderr: no good: {"i":2}"#), "\(fail.stderr)")
        #expect(fail.text == "{\"i\":1,\"output\":{\"i\":1}}\n")

        let skip = try StageHarness.shell("weir-exec \(Self.failing) --errors skip --stats", input: input)
        #expect(skip.status == 0, "\(skip.stderr)")
        #expect(skip.lines.count == 3)
        let skipStats = StageHarness.stats(skip.stderr)
        #expect(skipStats["read"] == 5 && skipStats["written"] == 3 && skipStats["rejected"] == 2)

        let directory = try StageHarness.temporaryDirectory()
        let reject = try StageHarness.shell("cd \(directory.path) && weir-exec \(Self.failing) --reject bad.ndjson --stats && cat bad.ndjson >&2", input: input)
        #expect(reject.status == 0, "\(reject.stderr)")
        let stats = StageHarness.stats(reject.stderr)
        #expect(stats["read"] == (stats["written"] ?? 0) + (stats["rejected"] ?? 0))
        #expect(stats["rejected"] == 2)
        let entries = reject.stderr.split(separator: "\n").filter { $0.hasPrefix("{\"file\"") }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entries.count == 2)
        #expect(entries.first?["line"] as? Int == 2)
        #expect(entries.first?["exit_status"] as? Int == 3)
        #expect(entries.first?["stderr"] as? String == "no good: {\"i\":2}\n")
        #expect(entries.first?["input"] as? String == "{\"i\":2}")
    }

    @Test("output that is not JSON, or nothing, is a bad record; --raw keeps it")
    func invalidOutput() throws {
        let text = try StageHarness.shell("weir-exec --errors skip --stats -- echo hello", input: "{\"a\":1}\n")
        #expect(text.status == 0)
        #expect(text.stderr.contains("'echo hello' printed output that is not JSON"), "\(text.stderr)")
        #expect(StageHarness.stats(text.stderr)["rejected"] == 1)
        let nothing = try StageHarness.shell("weir-exec -- true", input: "{\"a\":1}\n")
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("'true' printed nothing"), "\(nothing.stderr)")
        let notInput = try StageHarness.shell("weir-exec --errors skip --stats -- cat", input: "{\"a\":1}\nnope\n")
        #expect(notInput.text == "{\"a\":1,\"output\":{\"a\":1}}\n")
        #expect(StageHarness.stats(notInput.stderr)["rejected"] == 1)
    }

    @Test("--timeout kills the command (and what its shell started)")
    func timeoutKills() throws {
        let script = """
            \(Self.marker)
            start=$(date +%s%N)
            echo '{"a":1}' | weir-exec --timeout 300ms --errors skip --stats --shell "sleep 30 # $m"
            echo "status $? after $(( ($(date +%s%N) - start) / 1000000 )) ms"
            \(Self.countLeft)
            """
        let result = try StageHarness.shell(script)
        #expect(result.stderr.contains("ran longer than --timeout 300 ms and was killed"), "\(result.stderr)")
        let milliseconds = Int(result.lines.first?.split(separator: " ").dropLast().last ?? "") ?? Int.max
        #expect(result.lines.first?.hasPrefix("status 0 ") == true, "\(result.text)")
        #expect(milliseconds < 3000, "\(result.text)")
        #expect(result.lines.last == "left 0", "\(result.text)")
    }

    @Test("a co-process that exits after 3 lines is restarted; every record is answered")
    func coProcessRestarted() throws {
        let script = #"n=0; while read -r l; do n=$((n+1)); echo "$l"; [ $n -ge 3 ] && exit 1; done"#
        let input = Self.records(10)
        let result = try StageHarness.shell("weir-exec --persistent 1 --replace --stats --shell '\(script)'", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == input)
        #expect(StageHarness.stats(result.stderr)["restarts"] == 3)
    }

    @Test("a co-process that dies on a record: retried once in a new co-process, then rejected")
    func coProcessDiesOnRecord() throws {
        let directory = try StageHarness.temporaryDirectory()
        let poison = #"while read -r l; do case $l in *poison*) echo "poisoned by $l" >&2; exit 7;; esac; echo "$l"; done"#
        let input = "{\"i\":1}\n{\"poison\":2}\n{\"i\":3}\n"
        let result = try StageHarness.shell("cd \(directory.path) && weir-exec --persistent 2 --replace --reject bad.ndjson --stats --shell '\(poison)' && cat bad.ndjson >&2", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "{\"i\":1}\n{\"i\":3}\n")
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 3 && stats["written"] == 2 && stats["rejected"] == 1)
        #expect(stats["restarts"] == 2)
        let entry = result.stderr.split(separator: "\n").first { $0.hasPrefix("{\"file\"") }
            .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entry?["line"] as? Int == 2)
        #expect(entry?["attempts"] as? Int == 2)
        #expect(entry?["exit_status"] as? Int == 7)
        #expect((entry?["error"] as? String)?.contains("exited with status 7 (tried 2 times); stderr: poisoned by") == true, "\(result.stderr)")
    }

    @Test("a co-process that never answers makes the records bad without a spawn storm")
    func brokenCoProcess() throws {
        let result = try StageHarness.shell("weir-exec --persistent 1 --replace --errors skip -q --stats -- false", input: Self.records(2000))
        #expect(result.status == 0, "\(result.stderr)")
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["rejected"] == 2000)
        #expect((stats["restarts"] ?? 99) <= 3)
    }

    @Test("| head -1 on endless input ends promptly and leaves no child", arguments: ["-c 8", "--persistent 2"])
    func headEndsPromptly(mode: String) throws {
        let script = """
            \(Self.marker)
            start=$(date +%s%N)
            yes '{"a":1}' 2>/dev/null | weir-exec \(mode) --replace --shell "cat # $m" | head -1
            echo "took $(( ($(date +%s%N) - start) / 1000000 ))"
            sleep 0.2
            \(Self.countLeft)
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines.first == "{\"a\":1}", "\(result.text) \(result.stderr)")
        let milliseconds = Int(result.lines.dropFirst().first?.split(separator: " ").last ?? "") ?? Int.max
        #expect(milliseconds < 5000, "\(result.text)")
        #expect(result.lines.last == "left 0", "\(result.text)")
        #expect(!result.stderr.contains("weir-exec"), "\(result.stderr)")
    }

    @Test("SIGINT or SIGTERM during a run leaves no child", arguments: ["INT", "TERM"])
    func signalLeavesNoChild(signalName: String) throws {
        let script = """
            \(Self.marker)
            yes '{"a":1}' 2>/dev/null | weir-exec -c 4 --replace --shell "sleep 0.3; cat # $m" > /dev/null 2>&1 &
            pid=$!
            # Wait for a child of the stage, not for "$m" (weir-exec's own command line has it): a
            # background job of a script starts with SIGINT ignored until the stage takes it over.
            for i in $(seq 1 100); do [ "$(pgrep -P $pid | wc -l)" -ge 1 ] && break; sleep 0.1; done
            echo "running $(pgrep -P $pid | wc -l | tr -d ' ')"
            kill -\(signalName) $pid
            wait $pid
            echo "status $?"
            \(Self.countLeft)
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines.first != "running 0", "\(result.text)")
        #expect(result.lines.dropFirst().first == "status \(signalName == "INT" ? 130 : 143)", "\(result.text)")
        #expect(result.lines.last == "left 0", "\(result.text)")
    }

    @Test("finished children are reaped while the run goes on: no zombies")
    func noZombies() throws {
        let script = """
            ( for i in $(seq 1 20); do echo '{"a":1}'; sleep 0.05; done; sleep 2 ) | weir-exec -c 4 -- cat > /dev/null &
            pid=$!
            sleep 1.5
            echo "zombies $(ps -o stat= --ppid $pid | grep -c Z)"
            echo "children $(ps -o pid= --ppid $pid | wc -l | tr -d ' ')"
            wait
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines == ["zombies 0", "children 0"], "\(result.text)")
    }

    @Test("usage errors: no command, both kinds, a missing program, --replace with --as, -c with --persistent")
    func usageErrors() throws {
        for command in [
            "weir-exec", "weir-exec --shell true -- cat", "weir-exec -- no-such-program-here", "weir-exec --replace --as x -- cat",
            "weir-exec -c 2 --persistent 2 -- cat", "weir-exec --timeout 5x -- cat", "weir-exec --persistent 0 -- cat",
        ] {
            let result = try StageHarness.shell(command, input: "{}\n")
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("Try 'weir-exec --help'"), "\(command)")
        }
    }
}
