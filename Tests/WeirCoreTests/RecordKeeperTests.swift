import Testing
@testable import WeirCore

/// ``LastRecords``, ``LastRecordsByKey`` and ``FirstRecordsByKey``.
@Suite struct RecordKeeperTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private func texts(_ records: [[UInt8]]) -> [String] { records.map { String(decoding: $0, as: UTF8.self) } }

    @Test func lastRecordsKeepsTheLastNInOrder() {
        var last = LastRecords(capacity: 3)
        var pushedOut = 0
        for index in 1...10 where bytes("r\(index)").withUnsafeBytes({ last.add($0) }) { pushedOut += 1 }
        #expect(texts(last.records) == ["r8", "r9", "r10"])
        #expect(pushedOut == 7)
        var short = LastRecords(capacity: 5)
        for index in 1...2 { bytes("r\(index)").withUnsafeBytes { _ = short.add($0) } }
        #expect(texts(short.records) == ["r1", "r2"])
        var none = LastRecords(capacity: 0)
        #expect(bytes("x").withUnsafeBytes { none.add($0) })
        #expect(none.records.isEmpty)
    }

    @Test func lastRecordsByKeyKeepsNPerKeyInInputOrder() {
        var keeper = LastRecordsByKey(capacity: 2)
        var pushedOut = 0
        for (key, record) in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("a", "a3"), ("c", "c1"), ("b", "b2"), ("a", "a4"), ("b", "b3")] {
            let out = bytes(record).withUnsafeBytes { record in bytes(key).withUnsafeBytes { keeper.add(record, key: $0) } }
            if out { pushedOut += 1 }
        }
        #expect(texts(keeper.records) == ["a3", "c1", "b2", "a4", "b3"])
        #expect(pushedOut == 3)
        #expect(keeper.keyCount == 3)
    }

    @Test func firstRecordsByKeyAdmitsNPerKey() {
        var keeper = FirstRecordsByKey(capacity: 2)
        let admitted = ["a", "b", "a", "a", "b", "c", "b"].map { key in bytes(key).withUnsafeBytes { keeper.admits($0) } }
        #expect(admitted == [true, true, true, false, true, true, false])
        #expect(keeper.keyCount == 3)
        var none = FirstRecordsByKey(capacity: 0)
        #expect(!bytes("a").withUnsafeBytes { none.admits($0) })
    }
}
