import Testing
@testable import WeirCore

/// ``TopRecords`` and ``TopRecordsByGroup``: bounded, stable on ties, mergeable.
@Suite struct TopRecordsTests {
    private func compare(_ a: Int, _ b: Int) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
    private func order(_ line: Int) -> InputOrder { InputOrder(inputIndex: 0, line: line) }
    private func offer(_ top: inout TopRecords<Int>, _ key: Int, _ line: Int) {
        Array("r\(line)".utf8).withUnsafeBytes { _ = top.offer(key, at: order(line), record: $0) }
    }
    private func names(_ entries: [TopRecords<Int>.Entry]) -> [String] { entries.map { String(decoding: $0.record, as: UTF8.self) } }

    /// The reference: a stable sort by key (descending for largest), then the first N.
    private func reference(_ keys: [Int], _ n: Int, largest: Bool) -> [String] {
        let sorted = keys.enumerated().sorted { a, b in
            a.element != b.element ? (largest ? a.element > b.element : a.element < b.element) : a.offset < b.offset
        }
        return sorted.prefix(n).map { "r\($0.offset + 1)" }
    }

    @Test func keepsTheLargestWithTiesInInputOrder() {
        var top = TopRecords<Int>(capacity: 3, largest: true, compare: compare)
        for (line, key) in [5, 9, 1, 9, 7, 9, 3].enumerated() { offer(&top, key, line + 1) }
        #expect(names(top.sortedEntries) == ["r2", "r4", "r6"])
        var bottom = TopRecords<Int>(capacity: 2, largest: false, compare: compare)
        for (line, key) in [5, 1, 1, 0, 1].enumerated() { offer(&bottom, key, line + 1) }
        #expect(names(bottom.sortedEntries) == ["r4", "r2"])
    }

    @Test func matchesAStableSortOnRandomInput() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let keys = (0..<Int.random(in: 0...300, using: &generator)).map { _ in Int.random(in: 0...20, using: &generator) }
            let n = Int.random(in: 0...40, using: &generator)
            for largest in [true, false] {
                var top = TopRecords<Int>(capacity: n, largest: largest, compare: compare)
                for (line, key) in keys.enumerated() { offer(&top, key, line + 1) }
                #expect(names(top.sortedEntries) == reference(keys, n, largest: largest))
                #expect(top.count == min(n, keys.count))
            }
        }
    }

    @Test func theTopOfTopsIsTheTop() {
        let keys = (0..<1000).map { ($0 * 7919) % 37 }
        for workers in [1, 2, 3, 8] {
            var tops = (0..<workers).map { _ in TopRecords<Int>(capacity: 10, largest: true, compare: compare) }
            // Workers see chunks of 50 records, dealt in turn.
            for (line, key) in keys.enumerated() { offer(&tops[(line / 50) % workers], key, line + 1) }
            var merged = tops.removeFirst()
            for other in tops { merged.merge(other) }
            #expect(names(merged.sortedEntries) == reference(keys, 10, largest: true))
        }
    }

    @Test func wouldKeepSaysWhetherAnOfferCounts() {
        var top = TopRecords<Int>(capacity: 1, largest: true, compare: compare)
        #expect(top.wouldKeep(1, at: order(1)))
        offer(&top, 5, 1)
        #expect(!top.wouldKeep(5, at: order(2)))  // a tie later in the input loses
        #expect(top.wouldKeep(5, at: InputOrder(inputIndex: 0, line: 1, column: 0)))
        #expect(top.wouldKeep(6, at: order(3)))
        let none = TopRecords<Int>(capacity: 0, largest: true, compare: compare)
        #expect(!none.wouldKeep(9, at: order(1)))
    }

    @Test func groupsInFirstSeenOrderAcrossWorkers() {
        func offer(_ keeper: inout TopRecordsByGroup<Int>, _ group: String, _ key: Int, _ line: Int) {
            Array("r\(line)".utf8).withUnsafeBytes { record in
                Array(group.utf8).withUnsafeBytes { _ = keeper.offer(key, at: order(line), group: $0, record: record) }
            }
        }
        var first = TopRecordsByGroup<Int>(capacity: 2, largest: false, compare: compare)
        var second = TopRecordsByGroup<Int>(capacity: 2, largest: false, compare: compare)
        offer(&second, "b", 4, 1)
        offer(&first, "a", 3, 2)
        offer(&first, "b", 1, 3)
        offer(&second, "a", 3, 4)
        offer(&second, "a", 2, 5)
        offer(&first, "b", 9, 6)
        first.merge(second)
        let groups = first.sortedGroups
        #expect(groups.map { String(decoding: $0.group, as: UTF8.self) } == ["b", "a"])
        #expect(groups.map { names($0.entries) } == [["r3", "r1"], ["r5", "r2"]])
        #expect(first.groupCount == 2)
    }
}
