import Testing
@testable import WeirCore

/// What a stage says about its command line for `--spec`, and the choices the parser enforces.
@Suite struct StageDescriptionTests {
    enum Mode: String, CaseIterable { case fast, exact }

    static let spec = StageSpec(
        name: "demo", summary: "show the description", operands: "EXPR [FILE...]", description: "",
        options: [
            .value("mode", short: "m", "MODE", default: "fast", choices: Mode.self, help: "How: fast or exact."),
            .value("slurpfile", "NAME FILE", repeatable: true, arity: 2, help: "Bind $NAME to FILE's values."),
            .value("cache", "DIR", help: "Keep answers in DIR."),
            .flag("pretty", help: "Indent."),
        ])

    @Test func optionsWithChoicesTakeOnlyThem() throws {
        let options = Self.spec.allOptions
        #expect(try ParsedOptions(arguments: ["--mode", "exact"], options: options).value("mode") == "exact")
        #expect(try ParsedOptions(arguments: ["-mfast"], options: options).value("mode") == "fast")
        do {
            _ = try ParsedOptions(arguments: ["--mode=slow"], options: options)
            Issue.record("--mode=slow was accepted")
        } catch {
            #expect(error.message == "option '--mode' takes one of fast, exact, not 'slow'")
        }
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["--errors", "ignore"], options: options) }
        #expect(CommonOptions.errors.choices == ["fail", "skip", "reject"])
    }

    @Test func valueKindsComeFromTheValueNamesAndChoices() {
        let kinds = Dictionary(uniqueKeysWithValues: Self.spec.allOptions.map { ($0.long, $0.valueKinds) })
        #expect(kinds["mode"] == [.choice])
        #expect(kinds["slurpfile"] == [.text, .file])
        #expect(kinds["cache"] == [.directory])
        #expect(kinds["output"] == [.file])
        #expect(kinds["jobs"] == [.text])
        #expect(kinds["pretty"] == [])
    }

    @Test func theJSONFormReadsBackAsTheSameDescription() throws {
        let description = StageDescription(Self.spec)
        #expect(description.executable == "weir-demo")
        #expect(description.operandsAreFiles)
        #expect(description.options.map(\.long).prefix(4) == ["mode", "slurpfile", "cache", "pretty"])
        let text = JSONWriter.string(description.json)
        #expect(!text.contains("\n"))
        let read = try #require(StageDescription(json: text))
        #expect(read == description)
        let generator = StageDescription(StageSpec(name: "gen", summary: "make records", description: "", input: .none))
        #expect(!(try #require(StageDescription(json: JSONWriter.string(generator.json)))).operandsAreFiles)
    }

    @Test func otherOutputIsNotADescription() {
        for text in ["", "hello --spec", "[]", "{\"name\":\"x\"}", "{\"name\":1,\"executable\":\"weir-x\",\"summary\":\"\",\"operands\":\"\",\"input\":\"files\",\"operandsAreFiles\":true,\"options\":[]}"] {
            #expect(StageDescription(json: text) == nil, "\(text)")
        }
    }

    @Test func completionScriptsLeaveOutNamesThatAreNotPlain() throws {
        var odd = StageDescription(Self.spec)
        odd.name = "x'; rm -rf ~"
        odd.executable = "weir-x'; rm -rf ~"
        for shell in CompletionScripts.shells {
            let script = try #require(CompletionScripts.script(for: shell, stages: [StageDescription(Self.spec), odd]))
            #expect(script.contains("weir-demo"))
            #expect(!script.contains("rm -rf"), "\(shell)")
        }
        #expect(CompletionScripts.script(for: "tcsh", stages: []) == nil)
    }
}
