import Foundation
import Testing

/// `weir-map`'s text output for the end of a pipeline: `-r`, `--join-output`, `--raw-output0`, as jq.
@Suite struct MapStageTests {
    static let corpus = [
        #"{"s":"caf\u00e9 \"q\" \\ \t tab","n":2.5,"a":[1,"x",{"k":null}],"o":{"b":true},"z":null}"#,
        #"{"s":"two\nlines","n":12345,"a":[],"o":{},"z":false}"#,
        #"{"s":"","n":-3,"a":["\u001b[31m"],"o":{"u":"\ud83d\ude00"},"z":"東京"}"#,
    ].joined(separator: "\n") + "\n"
    static let expression = ".s, .n, .a, .o, .z, (.a[]?), \"x\\(.n)\""

    @Test("-r and --join-output write what jq -rc and jq -jc write", arguments: [("-r", "-rc"), ("--join-output", "-jc")])
    func sameAsJQ(ours: String, jq: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/jq") else { return }
        let weir = try StageHarness.shell("weir-map \(ours) '\(Self.expression)'", input: Self.corpus)
        let reference = try StageHarness.shell("/usr/bin/jq \(jq) '\(Self.expression)'", input: Self.corpus)
        #expect(weir.status == 0 && reference.status == 0, "\(weir.stderr)")
        #expect(weir.text == reference.text)
        #expect(weir.text.contains("café \"q\" \\ \t tab"))
        // Number literals pass through as jq 1.8 writes them (jq 1.6 would print 1.1).
        let literals = try StageHarness.shell("weir-map \(ours) '.n, \"\\(.n)\"'", input: "{\"n\":1.10}\n{\"n\":12345678901234567890}\n")
        #expect(literals.text == (ours == "-r" ? "1.10\n1.10\n12345678901234567890\n12345678901234567890\n" : "1.101.101234567890123456789012345678901234567890"))
    }

    @Test("--raw-output0 ends each output with a NUL, for xargs -0")
    func nulSeparated() throws {
        let result = try StageHarness.shell(#"printf '{"f":"a b"}\n{"f":"c\\nd"}\n{"f":["e"]}\n' | weir-map --raw-output0 .f | xargs -0 -n1 printf '<%s>'"#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "<a b><c\nd><[\"e\"]>")
        let bytes = try StageHarness.shell(#"printf '{"f":"a"}\n' | weir-map --raw-output0 '.f, 1' | od -An -c"#)
        #expect(bytes.text.split(separator: " ", omittingEmptySubsequences: true).map(String.init).joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines) == "a \\0 1 \\0")
    }

    @Test("a string with a NUL under --raw-output0 is a bad record with jq 1.8's message; -r writes it")
    func nulInString() throws {
        let input = "{\"f\":\"ok\"}\n{\"f\":\"a\\u0000b\"}\n{\"f\":\"last\"}\n"
        let failed = try StageHarness.shell("weir-map --raw-output0 .f", input: input)
        #expect(failed.status == 1)
        #expect(failed.text == "ok\0")
        #expect(failed.stderr.hasPrefix("weir-map: <stdin>:2: Cannot dump a string containing NUL with --raw-output0 option"), "\(failed.stderr)")
        let skipped = try StageHarness.shell("weir-map --raw-output0 --errors skip .f", input: input)
        #expect(skipped.status == 0 && skipped.text == "ok\0last\0")
        // `try` in the expression does not swallow it: it is not an error of the expression.
        let caught = try StageHarness.shell("weir-map --raw-output0 --errors skip 'try .f catch \"no\"'", input: input)
        #expect(caught.text == "ok\0last\0")
        let raw = try StageHarness.shell("weir-map -r .f", input: input)
        #expect(raw.stdout == Data("ok\na\0b\nlast\n".utf8))
    }

    @Test("the last of -r, --join-output and --raw-output0 given does not matter: the strongest wins, as in jq")
    func combinations() throws {
        let input = "{\"f\":\"a\"}\n{\"f\":\"b\"}\n"
        #expect(try StageHarness.shell("weir-map -r --join-output .f", input: input).text == "ab")
        #expect(try StageHarness.shell("weir-map --join-output --raw-output0 .f", input: input).text == "a\0b\0")
        #expect(try StageHarness.shell("weir-map .f", input: input).text == "\"a\"\n\"b\"\n")
    }

    @Test("-r on many chunks keeps input order with any -j, and -j is still --jobs")
    func order() throws {
        let result = try StageHarness.shell("weir-seq 200000 | weir-map -j 2 -r '\"n\\(.n)\"' | cmp - <(seq 200000 | sed 's/^/n/') && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
    }
}
