#if canImport(Glibc)
import Glibc
#endif
import WeirCore

extension Builtins {
    /// Regular-expression builtins on ``RegexProgram`` (`test`, `match`, `capture`, `scan`, `split/2`,
    /// `sub`, `gsub` are jq-defined over `_match_impl`).
    static var regexBuiltins: [String: Builtin] {
        [
            "_match_impl/3": .values { value, arguments in
                try RegexSupport.matchImplementation(value, arguments[0], arguments[1], testOnly: arguments[2].isTruthy)
            },
            "split/2": .values { value, arguments in .array(try RegexSupport.split(value, arguments[0], arguments[1])) },
        ]
    }
}

/// Runs jq-style regular expressions on Weir's own engine (``RegexProgram``): offsets and
/// lengths in code points, jq's flags, and a step limit that makes a runaway pattern an error.
enum RegexSupport {
    private final class Cache: @unchecked Sendable {
        var mutex = pthread_mutex_t()
        var entries: [String: RegexProgram] = [:]
        /// Creates the node from its compiled parts.
        init() { pthread_mutex_init(&mutex, nil) }
    }

    private static let cache = Cache()

    private struct Options {
        var global = false
        var ignoreEmpty = false
        var program: RegexProgram
    }

    /// The error of a search that ran out of steps: jq 1.8's, from Oniguruma's retry limit.
    static let stepLimitMessage = "Regex failure: retry-limit-in-match over"

    private static func compile(_ pattern: JSONValue, _ flags: JSONValue, _ input: JSONValue) throws -> Options {
        guard case .string = input else { throw Builtins.typeError(input, "cannot be matched, as it is not a string") }
        guard case .string(let patternText) = pattern else { throw Builtins.typeError(pattern, "is not a string") }
        var flagText = ""
        switch flags {
        case .null: break
        case .string(let text): flagText = text
        default: throw Builtins.typeError(flags, "is not a string")
        }
        var global = false, ignoreEmpty = false, ignoreCase = false, extended = false, dotAll = false
        for flag in flagText {
            switch flag {
            case "g": global = true
            case "n": ignoreEmpty = true
            case "i": ignoreCase = true
            case "x": extended = true
            case "s": break
            case "p": dotAll = true
            case "l": throw EvaluationError("regex flag 'l' (longest match) is not supported")
            default: throw EvaluationError("\(flagText) is not a valid modifier string")
            }
        }
        let key = "\(ignoreCase ? "i" : "")\(extended ? "x" : "")\(dotAll ? "p" : "")/\(patternText)"
        pthread_mutex_lock(&cache.mutex)
        let cached = cache.entries[key]
        pthread_mutex_unlock(&cache.mutex)
        if let cached { return Options(global: global, ignoreEmpty: ignoreEmpty, program: cached) }
        let program: RegexProgram
        do throws(RegexSyntaxError) {
            program = try RegexProgram(pattern: patternText, caseless: ignoreCase, extended: extended, dotAll: dotAll)
        } catch {
            throw EvaluationError("Regex failure: \(error.message)")  // jq 1.8 passes on Oniguruma's message
        }
        pthread_mutex_lock(&cache.mutex)
        if cache.entries.count > 256 { cache.entries.removeAll() }
        cache.entries[key] = program
        pthread_mutex_unlock(&cache.mutex)
        return Options(global: global, ignoreEmpty: ignoreEmpty, program: program)
    }

    /// The first match at `start` or later, the step limit turned into the record's error.
    private static func search(_ program: RegexProgram, _ scalars: [Unicode.Scalar], from start: Int) throws -> RegexProgram.Match? {
        do throws(RegexStepLimitExceeded) {
            return try program.firstMatch(in: scalars, from: start)
        } catch {
            throw EvaluationError(stepLimitMessage)
        }
    }

    /// The matches of `pattern` in `input`, each as jq's match object.
    private static func matches(_ input: JSONValue, _ pattern: JSONValue, _ flags: JSONValue, forceGlobal: Bool = false) throws -> [JSONValue] {
        let options = try compile(pattern, flags, input)
        guard case .string(let text) = input else { return [] }
        let scalars = Array(text.unicodeScalars)
        func string(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        var results: [JSONValue] = []
        // As jq: after an empty match the next search starts one code point further on.
        var start = 0
        while start <= scalars.count, let match = try search(options.program, scalars, from: start) {
            start = match.range.isEmpty ? match.range.upperBound + 1 : match.range.upperBound
            if !(match.range.isEmpty && options.ignoreEmpty) {
                var captures: [JSONValue] = []
                for (index, group) in match.groups.enumerated() {
                    var capture = JSONObject()
                    if let group {
                        capture["offset"] = .number(group.lowerBound)
                        capture["length"] = .number(group.count)
                        capture["string"] = .string(string(group))
                    } else {
                        capture["offset"] = .number(-1)
                        capture["length"] = .number(0)
                        capture["string"] = .null
                    }
                    capture["name"] = options.program.groupNames[index].map(JSONValue.string) ?? .null
                    captures.append(.object(capture))
                }
                results.append(.object(JSONObject([
                    ("offset", .number(match.range.lowerBound)), ("length", .number(match.range.count)),
                    ("string", .string(string(match.range))), ("captures", .array(captures)),
                ])))
            }
            if !(options.global || forceGlobal) { break }
        }
        return results
    }

    /// `_match_impl(re; flags; test)`: an array of match objects, or whether there is a match.
    static func matchImplementation(_ input: JSONValue, _ pattern: JSONValue, _ flags: JSONValue, testOnly: Bool) throws -> JSONValue {
        if testOnly, case .string(let flagText) = flags, flagText.contains("n") {
            guard case .array(let found) = try matchImplementation(input, pattern, flags, testOnly: false) else { return .bool(false) }
            return .bool(!found.isEmpty)
        }
        if testOnly {
            let options = try compile(pattern, flags, input)
            guard case .string(let text) = input else { return .bool(false) }
            return .bool(try search(options.program, Array(text.unicodeScalars), from: 0) != nil)
        }
        return .array(try matches(input, pattern, flags))
    }

    /// `split(re; flags)`: the pieces between the matches.
    static func split(_ input: JSONValue, _ pattern: JSONValue, _ flags: JSONValue) throws -> [JSONValue] {
        let found = try matches(input, pattern, flags, forceGlobal: true)
        guard case .string(let text) = input else { return [] }
        let scalars = Array(text.unicodeScalars)
        var pieces: [JSONValue] = []
        var previous = 0
        for match in found {
            guard case .object(let object) = match, case .number(let offset)? = object["offset"], case .number(let length)? = object["length"] else { continue }
            let start = Int(offset.double)
            pieces.append(.string(String(String.UnicodeScalarView(scalars[previous..<max(previous, start)]))))
            previous = start + Int(length.double)
        }
        pieces.append(.string(String(String.UnicodeScalarView(scalars[min(previous, scalars.count)...]))))
        return pieces
    }
}
