#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WeirCore

/// The JSON parser, compactor and text splitter.
enum JSONFuzzTargets {
    /// Every JSON validator accepts the same texts: ``JSONParser`` (whole and partial),
    /// ``JSONCompactor`` (compact and validate) and, for objects, the ``CSVRecordFlattener``.
    /// On an accepted text, the compact form is valid, is its own compact form, parses to the
    /// same value, and `JSONWriter(parse(x))` is valid and parses to the same value.
    static func json(_ data: UnsafeRawBufferPointer) {
        let parsed = result { () throws(JSONError) in try JSONParser.parse(data) }
        let partial = result { () throws(JSONError) in try JSONParser.parse(data, keeping: .none) }
        let validated = result { () throws(JSONError) in try JSONCompactor.validate(data) }
        var compact: [UInt8] = [0x2A]  // something before, which compact must keep
        let compacted = result { () throws(JSONError) in try JSONCompactor.compact(data, into: &compact) }

        // Parser and compactor share one grammar: the same error, message and offset.
        switch (parsed, compacted) {
        case (.failure(let a), .failure(let b)):
            FuzzCheck.require(a == b, "JSONParser and JSONCompactor disagree on \(FuzzCheck.show(data)): \(a) vs \(b)")
            FuzzCheck.require(compact == [0x2A], "JSONCompactor left output behind on error: \(FuzzCheck.show(compact))")
        case (.success, .success): break
        default: FuzzCheck.fail("JSONParser and JSONCompactor disagree on accepting \(FuzzCheck.show(data)): \(parsed) vs \(compacted)")
        }
        FuzzCheck.require(sameOutcome(parsed, validated), "JSONCompactor.validate differs on \(FuzzCheck.show(data)): \(validated) vs \(parsed)")
        FuzzCheck.require(sameOutcome(parsed, partial), "the partial parse differs on \(FuzzCheck.show(data)): \(partial) vs \(parsed)")
        checkFlattener(data, parsed: parsed)

        guard case .success(let value) = parsed else { return }
        if case .object(let object) = value, let key = object.keys.first {
            // A partial parse keeping one key builds exactly that key.
            var tree = JSONPathTree.none
            tree.insert([key])
            let kept = result { () throws(JSONError) in try JSONParser.parse(data, keeping: tree) }
            FuzzCheck.require(sameOutcome(kept, .success(tree.project(value))),
                              "the partial parse keeping \(key) differs on \(FuzzCheck.show(data)): \(kept)")
        }
        let compactText = Array(compact.dropFirst())
        let text = JSONWriter.string(value)
        checkCompactForm(compactText, of: data, value: value)
        // The writer's text is valid, compact, and parses back to the same text.
        let written = Array(text.utf8)
        guard let rewritten = try? JSONParser.parse(written) else {
            FuzzCheck.fail("JSONWriter wrote invalid JSON \(FuzzCheck.show(written)) for \(FuzzCheck.show(data))")
        }
        FuzzCheck.require(JSONWriter.string(rewritten) == text, "JSONWriter's text does not parse back to itself: \(text)")
        var again: [UInt8] = []
        try? JSONCompactor.compact(written, into: &again)
        FuzzCheck.require(again == written, "JSONWriter's text is not compact: \(text)")
        // Already-validated text compacts the same without validation.
        var unvalidated: [UInt8] = []
        JSONCompactor.appendValidated(data, into: &unvalidated)
        FuzzCheck.require(unvalidated == compactText, "appendValidated \(FuzzCheck.show(unvalidated)) differs from compact \(FuzzCheck.show(compactText))")
    }

    /// The compact form of an accepted text: valid, idempotent, the same value and literals.
    private static func checkCompactForm(_ compactText: [UInt8], of data: UnsafeRawBufferPointer, value: JSONValue) {
        guard let reparsed = try? JSONParser.parse(compactText) else {
            FuzzCheck.fail("compact output \(FuzzCheck.show(compactText)) of \(FuzzCheck.show(data)) does not parse")
        }
        // Written back, the two values have the same text: same literals, key order and strings.
        FuzzCheck.require(JSONWriter.string(reparsed) == JSONWriter.string(value),
                          "parse(compact(x)) != parse(x) for \(FuzzCheck.show(data)): \(JSONWriter.string(reparsed)) vs \(JSONWriter.string(value))")
        FuzzCheck.require(reparsed == value, "parse(compact(x)) is not == parse(x) for \(FuzzCheck.show(data))")
        var twice: [UInt8] = []
        do { try JSONCompactor.compact(compactText, into: &twice) } catch {
            FuzzCheck.fail("compact output \(FuzzCheck.show(compactText)) is rejected by the compactor: \(error)")
        }
        FuzzCheck.require(twice == compactText, "compacting is not idempotent: \(FuzzCheck.show(compactText)) then \(FuzzCheck.show(twice))")
        FuzzCheck.require(!compactText.contains(0x0A), "compact output holds a raw line feed: \(FuzzCheck.show(compactText))")
    }

    /// The flattener (`weir-to-csv`'s own scanner) accepts a JSON object exactly when the parser
    /// does. Its messages and offsets are its own (issue 10, "one scanner per grammar"), so they
    /// are not compared; `WEIR_FUZZ_SHOW_MESSAGES=1` prints where they differ.
    private static func checkFlattener(_ data: UnsafeRawBufferPointer, parsed: Result<JSONValue, JSONError>) {
        guard let first = data.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }), first == UInt8(ascii: "{") else { return }
        var flattener = CSVRecordFlattener()
        let flattened = result { () throws(JSONError) in try flattener.flatten(data) }
        switch (parsed, flattened) {
        case (.success, .success): break
        case (.failure(let a), .failure(let b)):
            // Offsets differ too (an invalid escape: the parser points at the backslash, the
            // flattener at the byte after it), so only acceptance is asserted.
            if showMessageDifferences, a != b {
                FuzzCheck.printError("weir-fuzz: errors differ: JSONParser \(a) | CSVRecordFlattener \(b) | \(FuzzCheck.show(data))")
            }
        default:
            FuzzCheck.fail("CSVRecordFlattener and JSONParser disagree on accepting \(FuzzCheck.show(data)): \(flattened) vs \(parsed)")
        }
    }

    /// With `WEIR_FUZZ_SHOW_MESSAGES=1`, the `json` target prints each input on which the
    /// flattener's error differs from the parser's (`bin/fuzz --run json DIR` lists them
    /// for a corpus).
    private static let showMessageDifferences = getenv("WEIR_FUZZ_SHOW_MESSAGES") != nil

    /// The text splitter, fed in pieces, finds the same records and failure as fed at once; on
    /// a valid JSON text it finds the whole value (or, for an array, its elements).
    static func splitter(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let options = input.takeByte()
        let splitArrays = options & 1 == 0
        let sizes = [Int(options >> 1 & 7) + 1, Int(input.takeByte() & 31) + 1, 3]
        let text = input.rest
        let whole = split(text, splitArrays: splitArrays, pieces: [text.count])
        let pieced = split(text, splitArrays: splitArrays, pieces: pieceEnds(count: text.count, sizes: sizes))
        FuzzCheck.require(whole.records == pieced.records,
                          "the splitter cut \(FuzzCheck.show(text)) differently in pieces \(sizes): \(whole.records.map(FuzzCheck.show)) vs \(pieced.records.map(FuzzCheck.show))")
        FuzzCheck.require(whole.failure?.location == pieced.failure?.location && whole.failure?.error.message == pieced.failure?.error.message,
                          "the splitter failed differently on \(FuzzCheck.show(text)) in pieces: \(String(describing: whole.failure)) vs \(String(describing: pieced.failure))")
        for (record, location) in zip(whole.records, whole.locations) {
            FuzzCheck.require(!record.isEmpty, "empty record from \(FuzzCheck.show(text))")
            FuzzCheck.require(location.line >= 1 && location.column >= 1, "bad location \(location)")
        }
        // The records of a valid text are the text itself or its elements.
        guard let value = try? JSONParser.parse(text) else { return }
        FuzzCheck.require(whole.failure == nil, "the splitter fails on valid JSON \(FuzzCheck.show(text)): \(String(describing: whole.failure))")
        let expected: [JSONValue]
        if splitArrays, case .array(let elements) = value { expected = elements } else { expected = [value] }
        FuzzCheck.require(whole.records.count == expected.count,
                          "\(whole.records.count) records, expected \(expected.count), from \(FuzzCheck.show(text))")
        for (record, element) in zip(whole.records, expected) {
            guard let recordValue = try? JSONParser.parse(record) else {
                FuzzCheck.fail("record \(FuzzCheck.show(record)) of valid \(FuzzCheck.show(text)) does not parse")
            }
            FuzzCheck.require(JSONWriter.string(recordValue) == JSONWriter.string(element),
                              "record \(FuzzCheck.show(record)) is not the element \(JSONWriter.string(element))")
        }
    }

    /// What a run of the splitter found: record bytes with locations, and the failure.
    private struct Split {
        var records: [[UInt8]] = []
        var locations: [(line: Int, column: Int)] = []
        var failure: JSONTextSplitter.Failure?
    }

    /// Runs the splitter as a reader does: append a piece, split, drop what was consumed.
    private static func split(_ text: [UInt8], splitArrays: Bool, pieces: [Int]) -> Split {
        var splitter = JSONTextSplitter(splitTopLevelArrays: splitArrays)
        var found = Split()
        var buffer: [UInt8] = []
        var start = 0
        let ends = pieces.isEmpty || pieces.last! < text.count ? pieces + [text.count] : pieces
        for (index, end) in ends.enumerated() {
            buffer.append(contentsOf: text[start..<end])
            start = end
            let isEnd = index == ends.count - 1
            let output = buffer.withUnsafeBytes { splitter.split($0, isEndOfInput: isEnd) }
            for record in output.records {
                FuzzCheck.require(record.range.lowerBound >= 0 && record.range.upperBound <= buffer.count,
                                  "record range \(record.range) outside the buffer of \(buffer.count)")
                found.records.append(Array(buffer[record.range]))
                found.locations.append((record.line, record.column))
            }
            FuzzCheck.require(output.consumed >= 0 && output.consumed <= buffer.count, "consumed \(output.consumed) of \(buffer.count)")
            buffer.removeFirst(output.consumed)
            if let failure = output.failure {
                found.failure = failure
                return found
            }
        }
        return found
    }

    /// The outcome of a throwing call, for comparing.
    private static func result<T>(_ body: () throws(JSONError) -> T) -> Result<T, JSONError> {
        do throws(JSONError) { return .success(try body()) } catch { return .failure(error) }
    }

    /// Both accepted, or both rejected with the same error.
    private static func sameOutcome<A, B>(_ a: Result<A, JSONError>, _ b: Result<B, JSONError>) -> Bool {
        switch (a, b) {
        case (.success, .success): true
        case (.failure(let x), .failure(let y)): x == y
        default: false
        }
    }
}
