#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WeirCore
import WeirTestSupport

/// A small deterministic random number generator (SplitMix64) so the JSON codec's random tests repeat exactly.
struct JSONSeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random JSON values and texts, files of the shared test data, and result helpers.
enum JSONFixtures {
    /// The conformance suites' folder (see ``TestData``).
    static func testDataDirectory() -> String { TestData.directory }

    /// The bytes of a file, or nil when it cannot be read.
    static func readFile(_ path: String) -> [UInt8]? { readFileBytes(path) }

    /// The names of the entries of a directory, sorted, or nil when it cannot be read.
    static func listDirectory(_ path: String) -> [String]? { listDirectoryIfReadable(path) }

    private static let keyPool = ["id", "sku", "name", "price", "stock", "tags", "store", "city", "a", "", "ключ", "emoji😀", "quote\"d", "long_key_name_over_16_bytes"]

    /// A random value up to `maxDepth` containers deep.
    static func randomValue(_ random: inout JSONSeededGenerator, depth: Int = 0, maxDepth: Int = 5) -> JSONValue {
        let kind = depth >= maxDepth ? Int.random(in: 0..<4, using: &random) : Int.random(in: 0..<7, using: &random)
        switch kind {
        case 0: return Bool.random(using: &random) ? .null : .bool(Bool.random(using: &random))
        case 1: return .number(JSONNumber(literal: randomNumberLiteral(&random)))
        case 2, 3: return .string(randomString(&random))
        case 4:
            let count = Int.random(in: 0..<5, using: &random)
            return .array((0..<count).map { _ in randomValue(&random, depth: depth + 1, maxDepth: maxDepth) })
        default:
            let count = Int.random(in: 0..<6, using: &random)
            var object = JSONObject()
            for _ in 0..<count {
                let key = Bool.random(using: &random) ? keyPool.randomElement(using: &random)! : randomString(&random)
                object[key] = randomValue(&random, depth: depth + 1, maxDepth: maxDepth)
            }
            return .object(object)
        }
    }

    /// A random valid number literal: integers, big integers, fractions and exponents.
    static func randomNumberLiteral(_ random: inout JSONSeededGenerator) -> String {
        func digits(_ count: Int) -> String {
            var text = String(Int.random(in: 1...9, using: &random))
            for _ in 1..<max(count, 1) { text += String(Int.random(in: 0...9, using: &random)) }
            return text
        }
        var text = Int.random(in: 0..<4, using: &random) == 0 ? "-" : ""
        text += Int.random(in: 0..<5, using: &random) == 0 ? "0" : digits(Int.random(in: 1...21, using: &random))
        if Bool.random(using: &random) {
            text += "."
            for _ in 0..<Int.random(in: 1...18, using: &random) { text += String(Int.random(in: 0...9, using: &random)) }
        }
        if Int.random(in: 0..<4, using: &random) == 0 {
            text += ["e", "E"].randomElement(using: &random)!
            text += ["", "+", "-"].randomElement(using: &random)!
            text += String(Int.random(in: 0...(Bool.random(using: &random) ? 30 : 400), using: &random))
        }
        return text
    }

    private static let stringPieces: [String] = [
        "a", "b", "Z", " ", "0", "price", "\"", "\\", "/", "\n", "\t", "\r", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}",
        "é", "ß", "€", "中文", "😀", "\u{FFFD}", "\u{2028}", "\u{10FFFF}", "\u{00}", "abcdefghijklmnop", "Ünïcödé text",
    ]

    /// A random string of ASCII, escapes, control characters and multi-byte scalars.
    static func randomString(_ random: inout JSONSeededGenerator) -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0..<8, using: &random) { text += stringPieces.randomElement(using: &random)! }
        return text
    }

    private static let whitespace: [[UInt8]] = [[], [], [], [0x20], [0x0A], [0x09], [0x0D, 0x0A], [0x20, 0x20, 0x20, 0x20]]

    /// The JSON text of `value` with random insignificant whitespace between all tokens.
    static func spacedText(_ value: JSONValue, _ random: inout JSONSeededGenerator, into output: inout [UInt8]) {
        func space() { output.append(contentsOf: whitespace.randomElement(using: &random)!) }
        switch value {
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            space()
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")); space() }
                spacedText(element, &random, into: &output)
                space()
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            space()
            for (index, (key, element)) in object.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")); space() }
                JSONWriter.writeString(key, into: &output)
                space()
                output.append(UInt8(ascii: ":"))
                space()
                spacedText(element, &random, into: &output)
                space()
            }
            output.append(UInt8(ascii: "}"))
        default:
            JSONWriter.write(value, into: &output)
        }
    }

    /// A random projection tree over the key pool.
    static func randomTree(_ random: inout JSONSeededGenerator, depth: Int = 0) -> JSONPathTree {
        if depth > 0, Int.random(in: 0..<4, using: &random) == 0 { return .whole }
        var tree = JSONPathTree.none
        for _ in 0..<Int.random(in: 0..<4, using: &random) {
            let key = keyPool.randomElement(using: &random)!
            tree.children[key] = depth < 3 ? randomTree(&random, depth: depth + 1) : .whole
        }
        return tree
    }

    /// The compact text of `value`.
    static func compactText(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        JSONWriter.write(value, into: &output)
        return output
    }
}

/// Runs a throwing JSON call and captures its outcome.
func capture<T>(_ body: () throws(JSONError) -> T) -> Result<T, JSONError> {
    do throws(JSONError) { return .success(try body()) } catch { return .failure(error) }
}

/// Validates bytes held in an array.
func validateBytes(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> Result<Void, JSONError> {
    bytes.withUnsafeBytes { buffer in capture { () throws(JSONError) in try JSONCompactor.validate(buffer, maxDepth: maxDepth) } }
}

/// Compacts bytes held in an array.
func compactBytes(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> Result<[UInt8], JSONError> {
    bytes.withUnsafeBytes { buffer in
        capture { () throws(JSONError) -> [UInt8] in
            var output: [UInt8] = []
            try JSONCompactor.compact(buffer, into: &output, maxDepth: maxDepth)
            return output
        }
    }
}

/// Parses bytes held in an array.
func parseBytes(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> Result<JSONValue, JSONError> {
    capture { () throws(JSONError) in try JSONParser.parse(bytes, maxDepth: maxDepth) }
}

/// Parses bytes held in an array, keeping only what `tree` keeps.
func parseBytes(_ bytes: [UInt8], keeping tree: JSONPathTree, maxDepth: Int = JSONParser.defaultMaxDepth) -> Result<JSONValue, JSONError> {
    capture { () throws(JSONError) in try JSONParser.parse(bytes, keeping: tree, maxDepth: maxDepth) }
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
