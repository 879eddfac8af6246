/// A command line that does not fit a stage's ``StageSpec``: exit status 2.
package struct UsageError: Error, Sendable {
    /// What is wrong, e.g. `unknown option '--frob'`.
    package var message: String
    package init(_ message: String) { self.message = message }
}

/// The options and operands of one invocation, checked against a ``StageSpec``.
///
/// Accepts `--opt=value`, `--opt value`, `-o value`, `-ovalue`, grouped short flags
/// (`-qv`), `--` to end options, and `-` as an operand (standard input).
package struct ParsedOptions: Sendable {
    private var valuesByName: [String: [String]] = [:]
    private var flags: Set<String> = []
    /// The operands in order (everything that is not an option).
    package var operands: [String] = []
    /// Every option given, flags too, in command-line order (by long name), for a stage whose
    /// options modify the one before them (`weir-sort --by .a -r --by .b`).
    package private(set) var occurrences: [(name: String, values: [String])] = []

    /// Parses `arguments` (without the executable name) against `options`. With
    /// `negativeNumbersAreOperands`, an argument such as `-5` or `-.5` is an operand, not an
    /// option (as GNU seq reads `seq -3 -1`).
    package init(arguments: [String], options: [OptionSpec], negativeNumbersAreOperands: Bool = false) throws(UsageError) {
        var byLong: [String: OptionSpec] = [:]
        var byShort: [Character: OptionSpec] = [:]
        for option in options {
            byLong[option.long] = option
            if let short = option.short { byShort[short] = option }
        }
        var index = 0
        func takeValues(_ option: OptionSpec, inline: String?, spelled: String) throws(UsageError) -> [String] {
            var values: [String] = []
            if let inline { values.append(inline) }
            while values.count < option.arity {
                index += 1
                guard index < arguments.count else {
                    throw UsageError("option '\(spelled)' needs \(option.arity == 1 ? "a value" : "\(option.arity) values") (\(option.valueName ?? "VALUE"))")
                }
                values.append(arguments[index])
            }
            return values
        }
        func record(_ option: OptionSpec, _ values: [String], spelled: String) throws(UsageError) {
            occurrences.append((option.long, values))
            if option.isFlag {
                flags.insert(option.long)
                return
            }
            if !option.repeatable, valuesByName[option.long] != nil {
                throw UsageError("option '\(spelled)' given more than once")
            }
            if !option.choices.isEmpty, let wrong = values.first(where: { !option.choices.contains($0) }) {
                throw ParsedOptions.notAChoice(option.long, option.choices, wrong)
            }
            valuesByName[option.long, default: []].append(contentsOf: values)
        }
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") || (negativeNumbersAreOperands && ParsedOptions.isNegativeNumber(argument)) {
                operands.append(argument)
            } else if argument == "--" {
                optionsEnded = true
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: String, inline: String?
                if let equals = body.firstIndex(of: "=") {
                    name = String(body[..<equals])
                    inline = String(body[body.index(after: equals)...])
                } else {
                    name = String(body)
                    inline = nil
                }
                guard let option = byLong[name] else {
                    let suggestion = ParsedOptions.closest(to: name, among: Array(byLong.keys)).map { " (did you mean '--\($0)'?)" } ?? ""
                    throw UsageError("unknown option '--\(name)'\(suggestion)")
                }
                if option.isFlag, inline != nil { throw UsageError("option '--\(name)' takes no value") }
                let values = option.isFlag ? [] : try takeValues(option, inline: inline, spelled: "--\(name)")
                try record(option, values, spelled: "--\(name)")
            } else {
                // One or more short options: -q, -qv, -o FILE, -oFILE, -j4.
                var letters = Substring(argument.dropFirst())
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    guard let option = byShort[letter] else { throw UsageError("unknown option '-\(letter)'") }
                    if option.isFlag {
                        try record(option, [], spelled: "-\(letter)")
                        continue
                    }
                    let values = try takeValues(option, inline: letters.isEmpty ? nil : String(letters), spelled: "-\(letter)")
                    try record(option, values, spelled: "-\(letter)")
                    break
                }
            }
            index += 1
        }
    }

    /// True when the flag `long` was given.
    package func flag(_ long: String) -> Bool { flags.contains(long) }

    /// The value of option `long` (the last one if repeated), or nil.
    package func value(_ long: String) -> String? { valuesByName[long]?.last }

    /// All values given for option `long`, in order (for options of arity 2: pairs flattened).
    package func values(_ long: String) -> [String] { valuesByName[long] ?? [] }

    /// The value of `long` as a whole number in `range`, or `defaultValue` when absent.
    ///
    /// Every numeric option has a range, stated in its help (``rangeText(_:)``): a value
    /// outside it, or too large for an `Int`, is a usage error, so nothing computed from it
    /// later can overflow or run away.
    package func integer(_ long: String, default defaultValue: Int, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = value(long) else { return defaultValue }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("option '--\(long)' takes a whole number from \(Self.rangeText(range)), not '\(text)'")
        }
        return number
    }

    /// The value of `long` as a byte count in `range`, written with an optional K, M or G
    /// suffix (binary units), or `defaultValue` when absent.
    ///
    /// The suffix's multiplication is overflow-checked; a size outside `range` (stated in the
    /// option's help with ``sizeRangeText(_:)``) is a usage error.
    package func byteSize(_ long: String, default defaultValue: Int, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = value(long) else { return defaultValue }
        var digits = Substring(text)
        var multiplier = 1
        switch digits.last {
        case "k", "K": multiplier = 1 << 10
        case "m", "M": multiplier = 1 << 20
        case "g", "G": multiplier = 1 << 30
        default: break
        }
        if multiplier != 1 { digits = digits.dropLast() }
        let problem = UsageError("option '--\(long)' takes a size from \(Self.sizeRangeText(range)) (such as 4096, 64K or 16M), not '\(text)'")
        guard let number = Int(digits) else { throw problem }
        let (size, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, range.contains(size) else { throw problem }
        return size
    }

    /// `1 to 256`: a range of whole numbers as option help and messages state it.
    package static func rangeText(_ range: ClosedRange<Int>) -> String {
        "\(range.lowerBound) to \(range.upperBound)"
    }

    /// `1 to 1G`: a range of byte sizes as option help and messages state it.
    package static func sizeRangeText(_ range: ClosedRange<Int>) -> String {
        "\(sizeText(range.lowerBound)) to \(sizeText(range.upperBound))"
    }

    /// `64M` for 67108864: a byte count in the largest unit that divides it exactly.
    package static func sizeText(_ size: Int) -> String {
        for (shift, suffix) in [(30, "G"), (20, "M"), (10, "K")] where size != 0 && size % (1 << shift) == 0 {
            return "\(size >> shift)\(suffix)"
        }
        return "\(size)"
    }

    /// The value of `long`, which must be one of `choices`, or `defaultValue` when absent.
    /// (An option declared with ``OptionSpec/choices`` is checked while parsing already.)
    package func choice(_ long: String, _ choices: [String], default defaultValue: String) throws(UsageError) -> String {
        guard let text = value(long) else { return defaultValue }
        guard choices.contains(text) else { throw Self.notAChoice(long, choices, text) }
        return text
    }

    /// The usage error for a value of `--long` that is not one of its `choices`.
    private static func notAChoice(_ long: String, _ choices: [String], _ text: String) -> UsageError {
        UsageError("option '--\(long)' takes one of \(choices.joined(separator: ", ")), not '\(text)'")
    }

    /// True for `-` followed by a digit, or by `.` and a digit.
    private static func isNegativeNumber(_ argument: String) -> Bool {
        let bytes = Array(argument.utf8.prefix(3))
        func isDigit(_ index: Int) -> Bool { index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9") }
        return bytes.first == UInt8(ascii: "-") && (isDigit(1) || (bytes.count > 1 && bytes[1] == UInt8(ascii: ".") && isDigit(2)))
    }

    /// The option name closest to a misspelling, if any is close.
    private static func closest(to name: String, among names: [String]) -> String? {
        var best: (name: String, distance: Int)? = nil
        for candidate in names {
            let distance = editDistance(Array(name), Array(candidate))
            if distance <= 2, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.name
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
