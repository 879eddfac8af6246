import Foundation
import Testing
@testable import WeirCore

/// ``SortKey`` (the byte image of jq's order) and ``ExternalSorter`` (runs, spills, merges).
@Suite struct ExternalSortTests {
    /// Values with every type, ties, big integers and nesting.
    static func randomValue(_ generator: inout SplitMix64, depth: Int = 0) -> JSONValue {
        switch generator.below(depth > 1 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(generator.below(2) == 0)
        case 2:
            let literals = ["0", "-0", "1", "1.0", "1.5", "-3", "1e3", "1000", "0.1", "12345678901234567890",
                            "12345678901234567891", "-12345678901234567891", "-12345678901234567890", "1e300", "-1e-300", "9007199254740993"]
            let literal = literals[Int(generator.below(UInt64(literals.count)))]
            return .number(JSONNumber(literal: literal))
        case 3: return .number(Double(Int(generator.below(7)) - 3) / 2)
        case 4:
            let strings = ["", "a", "A", "ab", "a\u{0}", "a\u{0}b", "é", "z", "b10", "b9", "\u{1F600}"]
            return .string(strings[Int(generator.below(UInt64(strings.count)))])
        case 5: return .array((0..<Int(generator.below(3))).map { _ in randomValue(&generator, depth: depth + 1) })
        default:
            var object = JSONObject()
            for name in ["b", "a", "c"] where generator.below(2) == 0 { object[name] = randomValue(&generator, depth: depth + 1) }
            return .object(object)
        }
    }

    static func encoded(_ value: JSONValue, _ options: SortKeyOptions = SortKeyOptions()) -> [UInt8] {
        var bytes: [UInt8] = []
        SortKey.appendValue(value, options: options, into: &bytes)
        return bytes
    }

    @Test func keyBytesOrderAsJSONValueCompare() {
        var generator = SplitMix64(seed: 11)
        let values = (0..<400).map { _ in Self.randomValue(&generator) }
        let keys = values.map { Self.encoded($0) }
        for i in values.indices {
            for j in values.indices {
                let order = JSONValue.compare(values[i], values[j]).signum()
                let byteOrder = SortKey.compareValues(keys[i], keys[j])
                // The bytes refine the order: where it says less or greater, so do they; equal
                // values get equal bytes except 1e20-style literals that share a double with a
                // big integer literal (the order calls them equal, the bytes put the plain one first).
                if order != 0 { #expect(byteOrder == order, "\(values[i]) vs \(values[j])") }
            }
        }
    }

    @Test func scalarsInJQOrder() {
        let ordered: [JSONValue] = [.null, .bool(false), .bool(true), .number(-1e300), .number(-1), .number(0),
                                    .number(JSONNumber(literal: "0.5")), .number(1), .number(JSONNumber(literal: "12345678901234567890")),
                                    .number(JSONNumber(literal: "12345678901234567891")), .string(""), .string("A"), .string("a"),
                                    .string("a\u{0}"), .string("ab"), .string("é"), .array([]), .array([.null]), .array([.number(1)]),
                                    .array([.number(1), .null]), .object(JSONObject())]
        for (a, b) in zip(ordered, ordered.dropFirst()) {
            #expect(SortKey.compareValues(Self.encoded(a), Self.encoded(b)) < 0, "\(a) < \(b)")
            #expect(JSONValue.compare(a, b) < 0, "\(a) < \(b)")
        }
        #expect(Self.encoded(.number(JSONNumber(literal: "-0"))) == Self.encoded(.number(0)))
        #expect(Self.encoded(.number(JSONNumber(literal: "1.0"))) == Self.encoded(.number(JSONNumber(literal: "1e0"))))
    }

    @Test func variations() {
        let natural = SortKeyOptions(natural: true)
        #expect(SortKey.compareValues(Self.encoded(.string("a2"), natural), Self.encoded(.string("a10"), natural)) < 0)
        #expect(SortKey.compareValues(Self.encoded(.string("a02"), natural), Self.encoded(.string("a2"), natural)) == 0)
        #expect(SortKey.compareValues(Self.encoded(.string("a2b"), natural), Self.encoded(.string("a2c"), natural)) < 0)
        let caseless = SortKeyOptions(ignoresCase: true)
        #expect(Self.encoded(.string("ABC"), caseless) == Self.encoded(.string("abc"), caseless))
        #expect(Self.encoded(.string("ÉTÉ"), caseless) == Self.encoded(.string("été"), caseless))
        let numeric = SortKeyOptions(numeric: true)
        #expect(SortKey.compareValues(Self.encoded(.string("10"), numeric), Self.encoded(.number(9), numeric)) > 0)
        #expect(SortKey.compareValues(Self.encoded(.string(" 2.5 "), numeric), Self.encoded(.number(3), numeric)) < 0)
        #expect(SortKey.compareValues(Self.encoded(.null, numeric), Self.encoded(.number(1e300), numeric)) > 0)
        #expect(SortKey.compareValues(Self.encoded(.string("x"), numeric), Self.encoded(.string("1e5"), numeric)) > 0)
        #expect(SortKey.numericValue(.string("0x10")) == nil && SortKey.numericValue(.string("inf")) == nil)
    }

    /// Frames of (key, record) with the given keys: `key` the sort key, `id` the input position.
    static func frames(_ keys: [JSONValue]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, key) in keys.enumerated() {
            let start = SortFrame.begin(into: &bytes)
            SortKey.appendSegment([key], options: SortKeyOptions(), into: &bytes)
            let recordStart = SortFrame.endKey(frameAt: start, into: &bytes)
            bytes.append(contentsOf: "\(index)".utf8)
            SortFrame.end(frameAt: start, recordAt: recordStart, into: &bytes)
        }
        return bytes
    }

    static func sortedIDs(_ keys: [JSONValue], budget: Int, fanIn: Int = 64, jobs: Int = 1, chunk: Int = 1000, directory: String) throws -> (ids: [Int], sorter: ExternalSorter) {
        let sorter = ExternalSorter(settings: ExternalSortSettings(memoryBudget: budget, temporaryDirectory: directory, fanIn: fanIn, jobs: jobs, descending: [false]))
        for start in stride(from: 0, to: keys.count, by: chunk) {
            let part = Array(keys[start..<min(keys.count, start + chunk)])
            // Frames carry their own record text: renumber from the chunk's start.
            var bytes: [UInt8] = []
            for (offset, key) in part.enumerated() {
                let frameStart = SortFrame.begin(into: &bytes)
                SortKey.appendSegment([key], options: SortKeyOptions(), into: &bytes)
                let recordStart = SortFrame.endKey(frameAt: frameStart, into: &bytes)
                bytes.append(contentsOf: "\(start + offset)".utf8)
                SortFrame.end(frameAt: frameStart, recordAt: recordStart, into: &bytes)
            }
            try bytes.withBytes { (raw) throws(IOError) in try sorter.add(frames: raw) }
        }
        var ids: [Int] = []
        let runs = sorter
        try sorter.finish { (record) throws(IOError) in ids.append(Int(String(decoding: record, as: UTF8.self))!) }
        return (ids, runs)
    }

    static func emptyDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "weir-sort-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("stable, in memory and with spills and multi-level merges", arguments: [
        (1 << 20, 64, 1), (64 << 10, 64, 1), (64 << 10, 2, 2), (64 << 10, 3, 2), (1 << 20, 64, 4),
    ])
    func stableAtEveryBudget(budget: Int, fanIn: Int, jobs: Int) throws {
        var generator = SplitMix64(seed: 5)
        let keys = (0..<20_000).map { _ in Self.randomValue(&generator) }
        let expected = keys.indices.sorted { a, b in
            let order = SortKey.compareValues(Self.encoded(keys[a]), Self.encoded(keys[b]))
            return order != 0 ? order < 0 : a < b
        }
        let directory = try Self.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (ids, sorter) = try Self.sortedIDs(keys, budget: budget, fanIn: fanIn, jobs: jobs, directory: directory)
        #expect(ids == expected)
        if budget < 1 << 20 {
            #expect(sorter.runsSpilled > 2)
            if sorter.runsSpilled > fanIn { #expect(sorter.intermediateMerges > 0) }
        } else {
            #expect(sorter.runsSpilled == 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func descendingSegmentsKeepEqualsInInputOrder() throws {
        let directory = try Self.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sorter = ExternalSorter(settings: ExternalSortSettings(memoryBudget: 64 << 10, temporaryDirectory: directory, descending: [true]))
        let keys: [JSONValue] = (0..<5000).map { .number($0 % 3) }
        try Self.frames(keys).withBytes { (raw) throws(IOError) in try sorter.add(frames: raw) }
        var ids: [Int] = []
        try sorter.finish { (record) throws(IOError) in ids.append(Int(String(decoding: record, as: UTF8.self))!) }
        let expected = keys.indices.filter { $0 % 3 == 2 } + keys.indices.filter { $0 % 3 == 1 } + keys.indices.filter { $0 % 3 == 0 }
        #expect(ids == expected)
        #expect(sorter.runsSpilled > 1)
    }

    @Test func stopThrowsCancelledAndLeavesNothing() throws {
        let directory = try Self.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        nonisolated(unsafe) var stop = false
        let sorter = ExternalSorter(settings: ExternalSortSettings(memoryBudget: 64 << 10, temporaryDirectory: directory, descending: [false])) { stop }
        try Self.frames((0..<20_000).map { .number(Double($0 % 101)) }).withBytes { (raw) throws(IOError) in try sorter.add(frames: raw) }
        stop = true
        #expect(throws: IOError.self) { try sorter.finish { (_) throws(IOError) in } }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func missingTemporaryDirectoryIsAClearError() throws {
        let sorter = ExternalSorter(settings: ExternalSortSettings(memoryBudget: 64 << 10, temporaryDirectory: "/nonexistent/weir", descending: [false]))
        do {
            try Self.frames((0..<20_000).map { .number(Double($0)) }).withBytes { (raw) throws(IOError) in try sorter.add(frames: raw) }
            Issue.record("no error")
        } catch {
            #expect(String(describing: error).contains("cannot create a temporary file in '/nonexistent/weir'"))
        }
    }
}
