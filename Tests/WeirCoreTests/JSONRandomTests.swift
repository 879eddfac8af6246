import Testing
@testable import WeirCore

/// Generated values and texts (fixed seeds): round trips, compactor/writer agreement,
/// mutations that must never crash and on which every reader agrees, and projection.
@Suite struct JSONRandomTests {
    static let valueCount = 3000

    @Test func writeThenParseGivesTheSameValue() throws {
        var random = JSONSeededGenerator(seed: 1)
        for _ in 0..<Self.valueCount {
            let value = JSONFixtures.randomValue(&random)
            let text = JSONFixtures.compactText(value)
            let parsed = try JSONParser.parse(text)
            #expect(parsed == value, "\(String(decoding: text, as: UTF8.self))")
            // Written again, the text is identical (literals and key order kept).
            #expect(JSONFixtures.compactText(parsed) == text)
        }
    }

    @Test func compactorOutputEqualsWriterOutput() {
        var random = JSONSeededGenerator(seed: 2)
        for _ in 0..<Self.valueCount {
            let value = JSONFixtures.randomValue(&random)
            let compact = JSONFixtures.compactText(value)
            var spaced: [UInt8] = []
            JSONFixtures.spacedText(value, &random, into: &spaced)
            #expect(compactBytes(compact) == .success(compact))
            #expect(compactBytes(spaced) == .success(compact), "\(String(decoding: spaced, as: UTF8.self))")
            #expect(validateBytes(spaced).failure == nil)
        }
    }

    @Test func compactingPrettyPrintedTextGivesTheCompactText() {
        var random = JSONSeededGenerator(seed: 3)
        for round in 0..<Self.valueCount {
            let value = JSONFixtures.randomValue(&random)
            let compact = JSONFixtures.compactText(value)
            var pretty: [UInt8] = []
            compact.withUnsafeBytes { JSONPrettyPrinter.format($0, indent: round % 5, into: &pretty) }
            #expect(compactBytes(pretty) == .success(compact), "\(String(decoding: pretty, as: UTF8.self))")
        }
    }

    /// The trusted compaction (for text a parse has validated) equals the validating one, on
    /// pretty-printed text, text with tabs, CRs and surrounding whitespace, and strings full of
    /// spaces, quotes and backslashes.
    @Test func compactingValidatedTextEqualsTheValidatingCompactor() {
        var random = JSONSeededGenerator(seed: 11)
        for round in 0..<Self.valueCount {
            let value = JSONFixtures.randomValue(&random)
            let compact = JSONFixtures.compactText(value)
            var pretty: [UInt8] = []
            compact.withUnsafeBytes { JSONPrettyPrinter.format($0, indent: round % 5, into: &pretty) }
            let spaced = Array(" \t\r\n".utf8) + pretty.map { $0 == 0x0A && round % 2 == 0 ? 0x09 : $0 } + Array("\r\n ".utf8)
            for text in [compact, pretty, spaced] {
                var output: [UInt8] = Array("x".utf8)  // appends after what is there
                text.withUnsafeBytes { JSONCompactor.appendValidated($0, into: &output) }
                #expect(output == Array("x".utf8) + compact, "\(String(decoding: text, as: UTF8.self))")
            }
        }
        for text in [#"{"a b":"\\\"  \\","c" : [ 1 , "\\" ] }"#, #"  "  "  "#, "[]", #"{"\u0022 x":" \" "}"#] {
            var output: [UInt8] = []
            Array(text.utf8).withUnsafeBytes { JSONCompactor.appendValidated($0, into: &output) }
            #expect(compactBytes(Array(text.utf8)) == .success(output), "\(text)")
        }
    }

    /// The parse says a text is compact exactly when it is its own compact form, whatever it
    /// keeps (a whole parse, nothing, one key, a missing key), so a stage may copy it as it is.
    @Test func theParseKnowsWhenATextIsCompact() throws {
        var random = JSONSeededGenerator(seed: 12)
        let trees: [JSONPathTree] = [.whole, .none, JSONPathTree(isWhole: false, children: ["a": .whole]),
                                     JSONPathTree(isWhole: false, children: ["b": JSONPathTree(isWhole: false, children: ["c": .whole])])]
        for round in 0..<Self.valueCount {
            let value = JSONFixtures.randomValue(&random)
            let compact = JSONFixtures.compactText(value)
            var pretty: [UInt8] = []
            compact.withUnsafeBytes { JSONPrettyPrinter.format($0, indent: round % 5, into: &pretty) }
            let object = Array(#"{"a":1,"b":"#.utf8) + pretty + Array("}".utf8)
            let compactObject = Array(#"{"a":1,"b":"#.utf8) + compact + Array("}".utf8)
            for text in [compact, pretty, Array(" ".utf8) + compact, compact + Array("\r".utf8), object, compactObject] {
                for tree in trees {
                    var isCompact = !(text == compact || text == compactObject)
                    _ = try text.withUnsafeBytes { bytes throws(JSONError) in try JSONParser.parse(bytes, keeping: tree, isCompact: &isCompact) }
                    #expect(isCompact == (text == compact || text == compactObject), "\(String(decoding: text, as: UTF8.self))")
                }
            }
        }
    }

    /// Random byte changes, insertions, deletions and truncations of valid texts.
    static func mutate(_ text: [UInt8], _ random: inout JSONSeededGenerator) -> [UInt8] {
        var bytes = text
        let interesting: [UInt8] = Array("{}[]:,\"\\ \n-+.eE0u1ntfal".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            let byte = Bool.random(using: &random) ? interesting.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !bytes.isEmpty: bytes[position] = byte
            case 1: bytes.insert(byte, at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            default: bytes = Array(bytes.prefix(position))
            }
        }
        return bytes
    }

    @Test func mutationsNeverCrashAndAllReadersAgree() {
        var random = JSONSeededGenerator(seed: 4)
        var rejected = 0
        for _ in 0..<20_000 {
            let value = JSONFixtures.randomValue(&random, maxDepth: 4)
            var text: [UInt8] = []
            JSONFixtures.spacedText(value, &random, into: &text)
            let mutated = Self.mutate(text, &random)
            let parsed = parseBytes(mutated)
            let compacted = compactBytes(mutated)
            let validated = validateBytes(mutated)
            let projected = parseBytes(mutated, keeping: JSONFixtures.randomTree(&random))
            let shallow = parseBytes(mutated, maxDepth: 2)
            let shallowCompacted = compactBytes(mutated, maxDepth: 2)
            #expect(parsed.failure == compacted.failure, "\(String(decoding: mutated, as: UTF8.self))")
            #expect(parsed.failure == validated.failure)
            #expect(parsed.failure == projected.failure)
            #expect(shallow.failure == shallowCompacted.failure)
            if let error = parsed.failure {
                rejected += 1
                #expect(error.offset >= 0 && error.offset <= mutated.count)
            } else if case .success(let value) = parsed, case .success(let compact) = compacted {
                #expect(parseBytes(compact).map { $0 == value } == .success(true))
            }
        }
        #expect(rejected > 10_000)  // most mutations break the text
    }

    @Test func truncationsAreAlwaysRejectedOrStillValid() {
        var random = JSONSeededGenerator(seed: 5)
        for _ in 0..<500 {
            let value = JSONFixtures.randomValue(&random)
            var text: [UInt8] = []
            JSONFixtures.spacedText(value, &random, into: &text)
            for length in 0..<text.count {
                let prefix = Array(text[..<length])
                let parsed = parseBytes(prefix)
                #expect(parsed.failure == compactBytes(prefix).failure)
                #expect(parsed.failure == validateBytes(prefix).failure)
            }
        }
    }

    // MARK: - Projection

    @Test func projectionParseEqualsProjectedFullParse() throws {
        var random = JSONSeededGenerator(seed: 6)
        for _ in 0..<Self.valueCount {
            let value = JSONFixtures.randomValue(&random)
            let record = JSONValue.object(JSONObject((0..<Int.random(in: 0..<5, using: &random)).map { _ in
                (["id", "tags", "store", "name", "a"].randomElement(using: &random)!, JSONFixtures.randomValue(&random))
            } + [("store", value)]))
            var text: [UInt8] = []
            JSONFixtures.spacedText(Bool.random(using: &random) ? record : value, &random, into: &text)
            let tree = JSONFixtures.randomTree(&random)
            let full = try JSONParser.parse(text)
            #expect(parseBytes(text, keeping: tree) == .success(tree.project(full)))
            #expect(parseBytes(text, keeping: .whole) == .success(full))
        }
    }

    @Test func projectionHandlesDuplicatesAndNonObjects() throws {
        var tree = JSONPathTree.none
        tree.insert(["a", "x"])
        tree.insert(["s", "y"])
        tree.insert(["n"])
        let cases: [(String, String)] = [
            ("{\"a\":{\"x\":1,\"z\":2},\"a\":{\"z\":3,\"x\":4},\"b\":5}", "{\"a\":{\"x\":4}}"),
            ("{\"a\":[1,{\"x\":2}],\"s\":\"str\",\"n\":null}", "{\"a\":[1,{\"x\":2}],\"s\":\"str\",\"n\":null}"),
            ("{\"s\":{\"y\":[],\"q\":1},\"a\":1,\"a\":{\"x\":2,\"w\":0}}", "{\"s\":{\"y\":[]},\"a\":{\"x\":2}}"),
            ("{\"b\":{\"a\":1}}", "{}"),
            ("[{\"a\":1,\"b\":2}]", "[{\"a\":1,\"b\":2}]"),
            ("\"top\"", "\"top\""),
            ("{\"\\u0061\":{\"x\":1}}", "{\"a\":{\"x\":1}}"),
            ("{\"n\":1,\"n\":{\"deep\":true}}", "{\"n\":{\"deep\":true}}"),
        ]
        for (input, expected) in cases {
            let bytes = Array(input.utf8)
            let projected = try JSONParser.parse(bytes, keeping: tree)
            #expect(JSONWriter.string(projected) == expected, "\(input)")
            #expect(projected == tree.project(try JSONParser.parse(bytes)))
        }
        // Keys match byte for byte: an NFD spelling is not the NFC key.
        var accented = JSONPathTree.none
        accented.insert(["\u{E9}"])
        #expect(JSONWriter.string(try JSONParser.parse(Array("{\"e\u{301}\":1,\"\u{E9}\":2}".utf8), keeping: accented)) == "{\"\u{E9}\":2}")
        // A tree changed after it was built matches its new keys.
        var changing = JSONPathTree.none
        changing.insert(["a"])
        changing.children["b"] = .whole
        changing.children["a"] = nil
        changing.formUnion(JSONPathTree(isWhole: false, children: ["c": .whole]))
        #expect(JSONWriter.string(try JSONParser.parse(Array("{\"a\":1,\"b\":2,\"c\":3}".utf8), keeping: changing)) == "{\"b\":2,\"c\":3}")
        #expect(changing == JSONPathTree(isWhole: false, children: ["b": .whole, "c": .whole]))
        // Errors in skipped parts are still errors, at the same place.
        for bad in ["{\"b\":[1,]}", "{\"b\":\"\\x\"}", "{\"b\":01}", "{\"b\":{\"c\" 1}}", "{\"a\":{\"z\":tru}}", "{\"b\":1,}"] {
            let bytes = Array(bad.utf8)
            #expect(parseBytes(bytes, keeping: tree).failure != nil)
            #expect(parseBytes(bytes, keeping: tree).failure == parseBytes(bytes).failure, "\(bad)")
        }
    }
}
