#if canImport(Glibc)
import Glibc
#endif
import WeirCore
import _StringProcessing

extension Builtins {
    /// Regular-expression builtins on Swift `Regex` (`test`, `match`, `capture`, `scan`, `split/2`,
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

/// Runs jq-style regular expressions: offsets and lengths in code points, jq's flags.
enum RegexSupport {
    private final class Cache: @unchecked Sendable {
        var mutex = pthread_mutex_t()
        var entries: [String: Regex<AnyRegexOutput>] = [:]
        /// Creates the node from its compiled parts.
        init() { pthread_mutex_init(&mutex, nil) }
    }

    private static let cache = Cache()

    private struct Options {
        var global = false
        var ignoreEmpty = false
        var regex: Regex<AnyRegexOutput>
    }

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
        if let cached { return Options(global: global, ignoreEmpty: ignoreEmpty, regex: cached) }
        var regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(extended ? "(?x)" + patternText : patternText)
        } catch {
            throw EvaluationError("\(patternText) (at offset 0) is not a valid regex: \(error)")
        }
        regex = regex.matchingSemantics(.unicodeScalar).ignoresCase(ignoreCase).dotMatchesNewlines(dotAll)
        pthread_mutex_lock(&cache.mutex)
        if cache.entries.count > 256 { cache.entries.removeAll() }
        cache.entries[key] = regex
        pthread_mutex_unlock(&cache.mutex)
        return Options(global: global, ignoreEmpty: ignoreEmpty, regex: regex)
    }

    /// The matches of `pattern` in `input`, each as jq's match object.
    private static func matches(_ input: JSONValue, _ pattern: JSONValue, _ flags: JSONValue, forceGlobal: Bool = false) throws -> [JSONValue] {
        let options = try compile(pattern, flags, input)
        guard case .string(let text) = input else { return [] }
        let scalars = text.unicodeScalars
        var results: [JSONValue] = []
        // Code-point offsets are computed incrementally from the previous match.
        var offsetBase = text.startIndex
        var offsetCount = 0
        func offset(of index: String.Index) -> Int {
            if index >= offsetBase {
                offsetCount += scalars.distance(from: offsetBase, to: index)
            } else {
                offsetCount = scalars.distance(from: text.startIndex, to: index)
            }
            offsetBase = index
            return offsetCount
        }
        let found: [Regex<AnyRegexOutput>.Match]
        if options.global || forceGlobal {
            found = text.matches(of: options.regex)
        } else {
            do {
                found = try options.regex.firstMatch(in: text).map { [$0] } ?? []
            } catch {
                throw EvaluationError("regex failure: \(error)")
            }
        }
        for match in found {
            let range = match.range
            if range.isEmpty && options.ignoreEmpty { continue }
            let start = offset(of: range.lowerBound)
            let length = scalars.distance(from: range.lowerBound, to: range.upperBound)
            var captures: [JSONValue] = []
            for position in 1..<match.output.count {
                let group = match.output[position]
                var capture = JSONObject()
                if let groupRange = group.range {
                    capture["offset"] = .number(scalars.distance(from: text.startIndex, to: groupRange.lowerBound))
                    capture["length"] = .number(scalars.distance(from: groupRange.lowerBound, to: groupRange.upperBound))
                    capture["string"] = .string(String(text[groupRange]))
                } else {
                    capture["offset"] = .number(-1)
                    capture["length"] = .number(0)
                    capture["string"] = .null
                }
                capture["name"] = group.name.map(JSONValue.string) ?? .null
                captures.append(.object(capture))
            }
            results.append(.object(JSONObject([
                ("offset", .number(start)), ("length", .number(length)),
                ("string", .string(String(text[range]))), ("captures", .array(captures)),
            ])))
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
            do {
                return .bool(try options.regex.firstMatch(in: text) != nil)
            } catch {
                throw EvaluationError("regex failure: \(error)")
            }
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
