/// What another program needs to know about a stage's command line, as one JSON object: the
/// output of the hidden `--spec` flag, read by the `weir` front door to list the stages and
/// to generate shell completions.
///
/// It is made from the stage's ``StageSpec`` (so it cannot drift from `--help`), and read
/// back from JSON, so the front door learns about a stage it was not built with (one added
/// on another branch, or installed later) by asking it:
///
/// ```json
/// {"name":"map","executable":"weir-map","summary":"…","operands":"EXPR [FILE...]",
///  "input":"files","operandsAreFiles":true,
///  "options":[{"long":"errors","short":null,"value":"MODE","values":["choice"],
///              "choices":["fail","skip","reject"],"repeatable":false,"help":"…"}, …]}
/// ```
package struct StageDescription: Sendable, Equatable {
    /// One option, as completion needs it.
    package struct Option: Sendable, Equatable {
        /// The long name without dashes (`errors`).
        package var long: String
        /// The short letter, if any (`o`).
        package var short: Character?
        /// The value's placeholder as help shows it (`FILE`, `NAME VALUE`); nil for a flag.
        var valueName: String?
        /// What each value is (none for a flag; two for `--arg NAME VALUE`).
        package var values: [OptionValueKind]
        /// The values a ``OptionValueKind/choice`` value takes.
        package var choices: [String]
        /// True when the option may be given more than once.
        package var repeatable: Bool
        /// The option's help text.
        package var help: String

        /// True when the option takes no value.
        var isFlag: Bool { values.isEmpty }
    }

    /// The verb after `weir-` (`map`).
    package var name: String
    /// The executable's name (`weir-map`).
    package var executable: String
    /// The one-line summary.
    package var summary: String
    /// The operands as help shows them (`EXPR [FILE...]`).
    package var operands: String
    /// What the stage reads (``StageInput``'s case name).
    package var input: String
    /// True when the operands are files to read.
    package var operandsAreFiles: Bool
    /// Every option the stage accepts, its own first, then the common ones.
    package var options: [Option]

    /// The description of a stage declared by `spec`.
    package init(_ spec: StageSpec) {
        name = spec.name
        executable = spec.executableName
        summary = spec.summary
        operands = spec.operands
        input = "\(spec.input)"
        operandsAreFiles = spec.input.operandsAreFiles
        options = spec.allOptions.map { option in
            Option(long: option.long, short: option.short, valueName: option.valueName, values: option.valueKinds,
                   choices: option.choices, repeatable: option.repeatable, help: option.help)
        }
    }

    /// The JSON object `--spec` prints.
    package var json: JSONValue {
        func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        let optionValues: [JSONValue] = options.map { option in
            .object(JSONObject([
                ("long", .string(option.long)),
                ("short", option.short.map { .string(String($0)) } ?? .null),
                ("value", option.valueName.map { .string($0) } ?? .null),
                ("values", strings(option.values.map(\.rawValue))),
                ("choices", strings(option.choices)),
                ("repeatable", .bool(option.repeatable)),
                ("help", .string(option.help)),
            ]))
        }
        return .object(JSONObject([
            ("name", .string(name)), ("executable", .string(executable)), ("summary", .string(summary)),
            ("operands", .string(operands)), ("input", .string(input)), ("operandsAreFiles", .bool(operandsAreFiles)),
            ("options", .array(optionValues)),
        ]))
    }

    /// Reads the JSON object `--spec` printed; nil when it is not one (another program's
    /// output, or a stage of an incompatible version).
    package init?(json text: String) {
        guard case .object(let object)? = try? JSONParser.parse(text),
              case .string(let name)? = object["name"], case .string(let executable)? = object["executable"],
              case .string(let summary)? = object["summary"], case .string(let operands)? = object["operands"],
              case .string(let input)? = object["input"], case .bool(let operandsAreFiles)? = object["operandsAreFiles"],
              case .array(let optionValues)? = object["options"]
        else { return nil }
        func strings(_ value: JSONValue?) -> [String]? {
            guard case .array(let items)? = value else { return nil }
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else { return nil }
                result.append(text)
            }
            return result
        }
        var options: [Option] = []
        for value in optionValues {
            guard case .object(let option) = value, case .string(let long)? = option["long"],
                  let kinds = strings(option["values"]), let choices = strings(option["choices"]),
                  case .bool(let repeatable)? = option["repeatable"], case .string(let help)? = option["help"]
            else { return nil }
            var values: [OptionValueKind] = []
            for kind in kinds {
                // A kind this front door does not know yet completes as free text.
                values.append(OptionValueKind(rawValue: kind) ?? .text)
            }
            var short: Character? = nil
            if case .string(let letter)? = option["short"], letter.count == 1 { short = letter.first }
            var valueName: String? = nil
            if case .string(let text)? = option["value"] { valueName = text }
            options.append(Option(long: long, short: short, valueName: valueName, values: values, choices: choices, repeatable: repeatable, help: help))
        }
        self.name = name
        self.executable = executable
        self.summary = summary
        self.operands = operands
        self.input = input
        self.operandsAreFiles = operandsAreFiles
        self.options = options
    }
}
