import Testing
@testable import WeirCore

/// Column names made unique and non-empty.
@Suite struct CSVHeaderTests {
    @Test func repeatsGetSuffixesThatAreNotRealNames() {
        #expect(CSVHeader.uniqueNames(["a", "", "a", "a_2", "a"]) == ["a", "2", "a_3", "a_2", "a_4"])
        #expect(CSVHeader.uniqueNames(["a_2", "a", "a", "a"]) == ["a_2", "a", "a_3", "a_4"])
        #expect(CSVHeader.uniqueNames(["1", "", "1"]) == ["1", "2", "1_2"])
    }

    /// `--row` and `--filename` keep the names they were given; a column of that name moves aside.
    @Test func reservedNamesAreTakenFirst() {
        let header = CSVHeader(names: ["row", "x", "", "row_2"], reserving: ["row", "3"])
        #expect(header.names == ["row_3", "x", "3_2", "row_2"])
        #expect(header.displacedColumns == ["row": "row_3", "3": "3_2"])
        #expect(CSVHeader(names: ["a"], reserving: ["2"]).extraName(1) == "2_2")
        #expect(CSVHeader(names: ["a", "b"], reserving: ["c"]).displacedColumns.isEmpty)
    }

    /// 50,000 equal names once took minutes (each repeat tried `_2`, `_3`, … afresh).
    @Test func fiftyThousandEqualNames() {
        let names = CSVHeader.uniqueNames(Array(repeating: "a", count: 50_000))
        #expect(names.count == 50_000)
        #expect(Set(names).count == 50_000)
        #expect(names[0] == "a" && names[1] == "a_2" && names[49_999] == "a_50000")
    }
}
