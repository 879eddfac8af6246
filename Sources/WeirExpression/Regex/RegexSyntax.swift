/// The parsed form of a regular expression in the syntax jq gets from Oniguruma
/// (`ONIG_SYNTAX_PERL_NG`): literals and escapes, `.`, classes with ranges, POSIX brackets and
/// `\p{…}`, groups (capturing, `(?:…)`, `(?<name>…)`, atomic `(?>…)`, look-ahead and
/// look-behind), inline options `(?imsx-imsx)`, greedy/lazy/possessive quantifiers,
/// back-references (`\1`, `\k<name>`), anchors (`^ $ \A \z \Z \b \B \G`) and `\K`.
indirect enum RegexNode {
    case empty
    case scalar(Unicode.Scalar, caseless: Bool)
    case any(dotAll: Bool)
    case set(RegexScalarSet, caseless: Bool)
    case assertion(RegexAssertion)
    case group(capture: Int?, RegexNode)
    case sequence([RegexNode])
    case alternation([RegexNode])
    case quantified(RegexNode, minimum: Int, maximum: Int?, kind: RegexQuantifierKind)
    case backreference([Int], caseless: Bool)
    case look(RegexNode, ahead: Bool, negative: Bool)
    case atomic(RegexNode)
    case keep
}

/// How a quantifier takes repetitions: as many as it can, as few, or as many without giving any back.
enum RegexQuantifierKind { case greedy, lazy, possessive }

/// The zero-width tests.
enum RegexAssertion: Sendable {
    case textStart, textEnd, textEndOrFinalNewline, lineStart, lineEnd, wordBoundary, notWordBoundary, searchStart
}

/// A character class: what `[…]`, `\d`, `\p{L}` and friends match, on Unicode scalars.
struct RegexScalarSet: Sendable {
    /// One member of a class.
    enum Item: Sendable {
        case scalar(Unicode.Scalar)
        case range(UInt32, UInt32)
        case property(RegexProperty, negated: Bool)
    }

    var items: [Item] = []
    var negated = false

    /// Whether `scalar` is in the class.
    func contains(_ scalar: Unicode.Scalar) -> Bool {
        let found = items.contains { item in
            switch item {
            case .scalar(let member): return member == scalar
            case .range(let low, let high): return scalar.value >= low && scalar.value <= high
            case .property(let property, let negated): return property.matches(scalar) != negated
            }
        }
        return found != negated
    }
}

/// The named classes: `\d \w \s`, POSIX brackets and the `\p{…}` properties Weir knows.
enum RegexProperty: Sendable {
    case digit, word, space, horizontalSpace, hexDigit, alpha, alnum, upper, lower, punct, cntrl, graph, print, blank, ascii, any
    case category(Set<Unicode.GeneralCategory>)

    /// Whether `scalar` has the property (Unicode-aware, as Oniguruma's UTF-8 encoding is).
    func matches(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch self {
        case .digit: return properties.generalCategory == .decimalNumber
        case .word:
            switch properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
            default: return false
            }
        case .space: return properties.isWhitespace
        case .horizontalSpace: return scalar == "\t" || properties.generalCategory == .spaceSeparator
        case .hexDigit: return scalar.isASCII && properties.isASCIIHexDigit
        case .alpha: return properties.isAlphabetic
        case .alnum: return properties.isAlphabetic || properties.generalCategory == .decimalNumber
        case .upper: return properties.isUppercase
        case .lower: return properties.isLowercase
        case .punct:
            switch properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
                 .finalPunctuation, .otherPunctuation: return true
            default: return scalar.isASCII && properties.generalCategory.isSymbol
            }
        case .cntrl: return properties.generalCategory == .control
        case .graph:
            return !properties.isWhitespace && ![.control, .surrogate, .unassigned].contains(properties.generalCategory)
        case .print:
            return properties.generalCategory == .spaceSeparator
                || (!properties.isWhitespace && ![.control, .surrogate, .unassigned].contains(properties.generalCategory))
        case .blank: return scalar == "\t" || properties.generalCategory == .spaceSeparator
        case .ascii: return scalar.isASCII
        case .any: return true
        case .category(let categories): return categories.contains(properties.generalCategory)
        }
    }

    /// The property a `\p{NAME}` or `[:NAME:]` names, or `nil`.
    static func named(_ name: String) -> RegexProperty? {
        let key = name.lowercased().filter { $0 != "_" && $0 != " " && $0 != "-" }
        switch key {
        case "digit", "nd", "decimalnumber": return key == "digit" ? .digit : .category([.decimalNumber])
        case "word": return .word
        case "space", "whitespace": return .space
        case "xdigit", "hexdigit", "asciihexdigit": return .hexDigit
        case "alpha", "alphabetic": return .alpha
        case "alnum": return .alnum
        case "upper", "uppercase": return .upper
        case "lower", "lowercase": return .lower
        case "punct", "punctuation": return key == "punct" ? .punct : .category(punctuation)
        case "cntrl", "cc", "control": return .category([.control])
        case "graph": return .graph
        case "print": return .print
        case "blank": return .blank
        case "ascii": return .ascii
        case "any": return .any
        case "l", "letter": return .category(letters)
        case "lu", "uppercaseletter": return .category([.uppercaseLetter])
        case "ll", "lowercaseletter": return .category([.lowercaseLetter])
        case "lt", "titlecaseletter": return .category([.titlecaseLetter])
        case "lm", "modifierletter": return .category([.modifierLetter])
        case "lo", "otherletter": return .category([.otherLetter])
        case "m", "mark", "combiningmark": return .category([.nonspacingMark, .spacingMark, .enclosingMark])
        case "mn", "nonspacingmark": return .category([.nonspacingMark])
        case "mc", "spacingmark": return .category([.spacingMark])
        case "me", "enclosingmark": return .category([.enclosingMark])
        case "n", "number": return .category([.decimalNumber, .letterNumber, .otherNumber])
        case "nl", "letternumber": return .category([.letterNumber])
        case "no", "othernumber": return .category([.otherNumber])
        case "p": return .category(punctuation)
        case "pc", "connectorpunctuation": return .category([.connectorPunctuation])
        case "pd", "dashpunctuation": return .category([.dashPunctuation])
        case "ps", "openpunctuation": return .category([.openPunctuation])
        case "pe", "closepunctuation": return .category([.closePunctuation])
        case "pi", "initialpunctuation": return .category([.initialPunctuation])
        case "pf", "finalpunctuation": return .category([.finalPunctuation])
        case "po", "otherpunctuation": return .category([.otherPunctuation])
        case "s", "symbol": return .category([.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol])
        case "sm", "mathsymbol": return .category([.mathSymbol])
        case "sc", "currencysymbol": return .category([.currencySymbol])
        case "sk", "modifiersymbol": return .category([.modifierSymbol])
        case "so", "othersymbol": return .category([.otherSymbol])
        case "z", "separator": return .category([.spaceSeparator, .lineSeparator, .paragraphSeparator])
        case "zs", "spaceseparator": return .category([.spaceSeparator])
        case "zl", "lineseparator": return .category([.lineSeparator])
        case "zp", "paragraphseparator": return .category([.paragraphSeparator])
        case "c", "other": return .category([.control, .format, .surrogate, .privateUse, .unassigned])
        case "cf", "format": return .category([.format])
        case "co", "privateuse": return .category([.privateUse])
        case "cn", "unassigned": return .category([.unassigned])
        default: return nil
        }
    }

    private static let letters: Set<Unicode.GeneralCategory> = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
    private static let punctuation: Set<Unicode.GeneralCategory> = [
        .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation,
    ]
}

extension Unicode.GeneralCategory {
    fileprivate var isSymbol: Bool { self == .mathSymbol || self == .currencySymbol || self == .modifierSymbol || self == .otherSymbol }
}

/// A pattern that does not parse, with Oniguruma's wording where Weir has it.
struct RegexSyntaxError: Error {
    let message: String
}

/// Parses a pattern into a ``RegexNode`` tree, numbering the capture groups.
struct RegexParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var caseless: Bool
    private var extended: Bool
    private var dotAll: Bool
    private var multiline = false
    /// The number of capture groups so far; group 0 is the whole match.
    private(set) var groupCount = 0
    /// Each group's name (`nil` when unnamed), by group number starting at 1.
    private(set) var groupNames: [String?] = []

    /// Prepares to parse `pattern` with jq's flags (`i`, `x`, and `p`/`s` for `.` and newlines).
    init(_ pattern: String, caseless: Bool, extended: Bool, dotAll: Bool) {
        scalars = Array(pattern.unicodeScalars)
        self.caseless = caseless
        self.extended = extended
        self.dotAll = dotAll
    }

    /// The whole pattern.
    mutating func parse() throws(RegexSyntaxError) -> RegexNode {
        let node = try parseAlternation()
        if position < scalars.count {
            throw RegexSyntaxError(message: scalars[position] == ")" ? "unmatched close parenthesis" : "invalid pattern")
        }
        return node
    }

    private var atEnd: Bool { position >= scalars.count }
    private var current: Unicode.Scalar? { atEnd ? nil : scalars[position] }

    private mutating func parseAlternation() throws(RegexSyntaxError) -> RegexNode {
        // Inline options such as `(?i)` last to the end of the enclosing group.
        let saved = (caseless, extended, dotAll, multiline)
        defer { (caseless, extended, dotAll, multiline) = saved }
        var branches: [RegexNode] = [try parseSequence()]
        while current == "|" {
            position += 1
            branches.append(try parseSequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseSequence() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        while let scalar = current, scalar != "|", scalar != ")" {
            if extended {
                if scalar.properties.isWhitespace { position += 1; continue }
                if scalar == "#" {
                    while let next = current, next != "\n" { position += 1 }
                    continue
                }
            }
            guard let atom = try parseAtom() else { continue }
            items.append(try parseQuantifiers(atom))
        }
        return items.count == 1 ? items[0] : items.isEmpty ? .empty : .sequence(items)
    }

    private mutating func parseQuantifiers(_ atom: RegexNode) throws(RegexSyntaxError) -> RegexNode {
        var node = atom
        while let scalar = current {
            var minimum = 0, maximum: Int? = nil
            switch scalar {
            case "*": position += 1
            case "+": position += 1; minimum = 1
            case "?": position += 1; maximum = 1
            case "{":
                guard let (low, high) = try parseInterval() else { return node }
                minimum = low
                maximum = high
            default: return node
            }
            if case .assertion = node { throw RegexSyntaxError(message: "target of repeat operator is invalid") }
            var kind = RegexQuantifierKind.greedy
            if current == "?" { kind = .lazy; position += 1 } else if current == "+" { kind = .possessive; position += 1 }
            node = .quantified(node, minimum: minimum, maximum: maximum, kind: kind)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`; `nil` (and no input taken) when the brace is a literal, as `{,n}` is here.
    private mutating func parseInterval() throws(RegexSyntaxError) -> (Int, Int?)? {
        var index = position + 1
        func number() -> Int? {
            var value: Int? = nil
            while index < scalars.count, scalars[index].value >= 48, scalars[index].value <= 57 {
                value = min((value ?? 0) * 10 + Int(scalars[index].value) - 48, 1_000_000)
                index += 1
            }
            return value
        }
        guard let low = number() else { return nil }
        var high: Int? = low
        if index < scalars.count, scalars[index] == "," {
            index += 1
            high = number()
        }
        guard index < scalars.count, scalars[index] == "}" else { return nil }
        if low > 100_000 || (high ?? 0) > 100_000 { throw RegexSyntaxError(message: "too big number for repeat range") }
        if let high, high < low { throw RegexSyntaxError(message: "upper is smaller than lower in repeat range") }
        position = index + 1
        return (low, high)
    }

    private mutating func parseAtom() throws(RegexSyntaxError) -> RegexNode? {
        guard let scalar = current else { return nil }
        position += 1
        switch scalar {
        case ".": return .any(dotAll: dotAll)
        case "^": return .assertion(multiline ? .lineStart : .textStart)
        case "$": return .assertion(multiline ? .lineEnd : .textEndOrFinalNewline)
        case "[": return .set(try parseClass(), caseless: caseless)
        case "(": return try parseGroup()
        case "\\": return try parseEscape()
        case "*", "+", "?": throw RegexSyntaxError(message: "target of repeat operator is not specified")
        default: return .scalar(scalar, caseless: caseless)
        }
    }

    private mutating func parseGroup() throws(RegexSyntaxError) -> RegexNode? {
        var capture: Int? = nil
        var name: String? = nil
        var capturing = current != "?"
        enum Kind { case group, look(ahead: Bool, negative: Bool), atomic }
        var kind = Kind.group
        if current == "?" {
            position += 1
            guard let marker = current else { throw RegexSyntaxError(message: "end pattern in group") }
            switch marker {
            case ":": position += 1
            case "=": position += 1; kind = .look(ahead: true, negative: false)
            case "!": position += 1; kind = .look(ahead: true, negative: true)
            case ">": position += 1; kind = .atomic
            case "#":
                while let next = current, next != ")" { position += 1 }
                guard current == ")" else { throw RegexSyntaxError(message: "end pattern in group") }
                position += 1
                return nil
            case "<" where position + 1 < scalars.count && (scalars[position + 1] == "=" || scalars[position + 1] == "!"):
                kind = .look(ahead: false, negative: scalars[position + 1] == "!")
                position += 2
            case "<", "'", "P":
                if marker == "P" {
                    position += 1
                    guard current == "<" else { throw RegexSyntaxError(message: "undefined group option") }
                }
                let close: Unicode.Scalar = current == "'" ? "'" : ">"
                position += 1
                var text = ""
                while let next = current, next != close { text.unicodeScalars.append(next); position += 1 }
                guard current == close, !text.isEmpty, !(text.first?.isNumber ?? true) else { throw RegexSyntaxError(message: "invalid group name <\(text)>") }
                position += 1
                name = text
                capturing = true
            default:
                // Options: (?imsx-imsx) for the rest of the group, or (?imsx-imsx:…) for a subgroup.
                var on = true
                var options = (caseless, extended, dotAll, multiline)
                while let letter = current, letter != ")", letter != ":" {
                    switch letter {
                    case "-": on = false
                    case "i": options.0 = on
                    case "x": options.1 = on
                    case "s": options.2 = on
                    case "m": options.3 = on
                    default: throw RegexSyntaxError(message: "undefined group option")
                    }
                    position += 1
                }
                guard let end = current else { throw RegexSyntaxError(message: "end pattern in group") }
                position += 1
                if end == ")" {
                    (caseless, extended, dotAll, multiline) = options
                    return nil
                }
                let saved = (caseless, extended, dotAll, multiline)
                (caseless, extended, dotAll, multiline) = options
                let body = try parseAlternation()
                (caseless, extended, dotAll, multiline) = saved
                guard current == ")" else { throw RegexSyntaxError(message: "end pattern with unmatched parenthesis") }
                position += 1
                return .group(capture: nil, body)
            }
        }
        if capturing {
            groupCount += 1
            groupNames.append(name)
            capture = groupCount
        }
        let body = try parseAlternation()
        guard current == ")" else { throw RegexSyntaxError(message: "end pattern with unmatched parenthesis") }
        position += 1
        switch kind {
        case .group: return .group(capture: capture, body)
        case .look(let ahead, let negative): return .look(body, ahead: ahead, negative: negative)
        case .atomic: return .atomic(body)
        }
    }

    private mutating func parseEscape() throws(RegexSyntaxError) -> RegexNode {
        guard let letter = current else { throw RegexSyntaxError(message: "end pattern at escape") }
        position += 1
        switch letter {
        case "A": return .assertion(.textStart)
        case "z": return .assertion(.textEnd)
        case "Z": return .assertion(.textEndOrFinalNewline)
        case "b": return .assertion(.wordBoundary)
        case "B": return .assertion(.notWordBoundary)
        case "G": return .assertion(.searchStart)
        case "K": return .keep
        case "k":
            guard current == "<" || current == "'" else { throw RegexSyntaxError(message: "invalid backref number/name") }
            let close: Unicode.Scalar = current == "'" ? "'" : ">"
            position += 1
            var text = ""
            while let next = current, next != close { text.unicodeScalars.append(next); position += 1 }
            guard current == close else { throw RegexSyntaxError(message: "invalid backref number/name") }
            position += 1
            if let number = Int(text), number > 0 { return .backreference([number], caseless: caseless) }
            let groups = groupNames.enumerated().filter { $0.element == text }.map { $0.offset + 1 }
            guard !groups.isEmpty else { throw RegexSyntaxError(message: "undefined name <\(text)> reference") }
            return .backreference(groups.reversed(), caseless: caseless)
        case "1"..."9":
            var number = Int(letter.value) - 48
            while let next = current, next.value >= 48, next.value <= 57, number * 10 + Int(next.value) - 48 <= groupCount {
                number = number * 10 + Int(next.value) - 48
                position += 1
            }
            guard number <= groupCount else { throw RegexSyntaxError(message: "invalid backref number/name") }
            return .backreference([number], caseless: caseless)
        default:
            position -= 1
            let item = try parseClassEscape()
            switch item {
            case .scalar(let scalar): return .scalar(scalar, caseless: caseless)
            default: return .set(RegexScalarSet(items: [item]), caseless: caseless)
            }
        }
    }

    /// An escape that stands for a scalar or a class (`\n`, `\x41`, `\x{e9}`, `\d`, `\p{L}`), the backslash already read.
    private mutating func parseClassEscape() throws(RegexSyntaxError) -> RegexScalarSet.Item {
        guard let letter = current else { throw RegexSyntaxError(message: "end pattern at escape") }
        position += 1
        switch letter {
        case "d": return .property(.digit, negated: false)
        case "D": return .property(.digit, negated: true)
        case "w": return .property(.word, negated: false)
        case "W": return .property(.word, negated: true)
        case "s": return .property(.space, negated: false)
        case "S": return .property(.space, negated: true)
        case "h": return .property(.horizontalSpace, negated: false)
        case "H": return .property(.horizontalSpace, negated: true)
        case "p", "P":
            guard current == "{" else { throw RegexSyntaxError(message: "invalid character property name {\(letter)}") }
            position += 1
            var text = ""
            while let next = current, next != "}" { text.unicodeScalars.append(next); position += 1 }
            guard current == "}" else { throw RegexSyntaxError(message: "invalid character property name {\(text)}") }
            position += 1
            var negated = letter == "P"
            if text.hasPrefix("^") { negated.toggle(); text.removeFirst() }
            guard let property = RegexProperty.named(text) else { throw RegexSyntaxError(message: "invalid character property name {\(text)}") }
            return .property(property, negated: negated)
        case "n": return .scalar("\n")
        case "t": return .scalar("\t")
        case "r": return .scalar("\r")
        case "f": return .scalar("\u{0C}")
        case "v": return .scalar("\u{0B}")
        case "a": return .scalar("\u{07}")
        case "e": return .scalar("\u{1B}")
        case "x":
            if current == "{" {
                position += 1
                return .scalar(try hexScalar(until: "}", maximumDigits: 8))
            }
            return .scalar(try hexScalar(until: nil, maximumDigits: 2))
        case "0":
            var value: UInt32 = 0
            var count = 0
            while count < 2, let next = current, next >= "0", next <= "7" { value = value * 8 + next.value - 48; position += 1; count += 1 }
            return .scalar(Unicode.Scalar(value)!)
        default:
            return .scalar(letter)  // `\.`, `\\`, `\/`, and `\u` in this syntax: the character itself
        }
    }

    private mutating func hexScalar(until close: Unicode.Scalar?, maximumDigits: Int) throws(RegexSyntaxError) -> Unicode.Scalar {
        var value: UInt32 = 0
        var count = 0
        while count < maximumDigits, let next = current, next.isASCII, next.properties.isASCIIHexDigit {
            value = value * 16 + UInt32(Int(String(next), radix: 16)!)
            position += 1
            count += 1
        }
        if let close {
            guard current == close, count > 0 else { throw RegexSyntaxError(message: "invalid code point value") }
            position += 1
        }
        guard count > 0, let scalar = Unicode.Scalar(value) else {
            throw RegexSyntaxError(message: "invalid code point value")
        }
        return scalar
    }

    /// `[…]`, the opening bracket already read.
    private mutating func parseClass() throws(RegexSyntaxError) -> RegexScalarSet {
        var set = RegexScalarSet()
        if current == "^" { set.negated = true; position += 1 }
        var first = true
        while true {
            guard let scalar = current else { throw RegexSyntaxError(message: "premature end of char-class") }
            if scalar == "]" && !first { position += 1; break }
            first = false
            // As in Oniguruma's Perl_NG syntax, a `[` inside a class is literal unless it opens a
            // POSIX bracket, and `&&` is not an intersection.
            let item: RegexScalarSet.Item
            if scalar == "[", position + 1 < scalars.count, scalars[position + 1] == ":", let posix = parsePosixClass() {
                item = posix
            } else if scalar == "\\" {
                position += 1
                item = try parseClassEscape()
            } else {
                position += 1
                item = .scalar(scalar)
            }
            if case .scalar(let low) = item, current == "-", position + 1 < scalars.count, scalars[position + 1] != "]" {
                position += 1
                var high: Unicode.Scalar
                if current == "\\" {
                    position += 1
                    guard case .scalar(let escaped) = try parseClassEscape() else { throw RegexSyntaxError(message: "char-class value at end of range") }
                    high = escaped
                } else {
                    high = current!
                    position += 1
                }
                guard low.value <= high.value else { throw RegexSyntaxError(message: "empty range in char class") }
                set.items.append(.range(low.value, high.value))
            } else {
                set.items.append(item)
            }
        }
        return set
    }

    /// `[:alpha:]` or `[:^alpha:]` at the current `[`; `nil` (nothing consumed) if it is not one.
    private mutating func parsePosixClass() -> RegexScalarSet.Item? {
        var index = position + 2
        var negated = false
        if index < scalars.count, scalars[index] == "^" { negated = true; index += 1 }
        var name = ""
        while index < scalars.count, scalars[index].properties.isAlphabetic { name.unicodeScalars.append(scalars[index]); index += 1 }
        guard index + 1 < scalars.count, scalars[index] == ":", scalars[index + 1] == "]", let property = RegexProperty.named(name) else { return nil }
        position = index + 2
        return .property(property, negated: negated)
    }
}
