/// The column names of a CSV file, made unique, with their JSON keys escaped once.
///
/// Names come from the header row, from `--columns`, or are the column numbers (`1`,
/// `2`, …) for `--no-header`. A name repeated in the header gets a suffix (`a`, `a_2`,
/// `a_3`, skipping suffixes that are real names); an empty name becomes its column number,
/// so every key of every output object is distinct and non-empty.
///
/// Reserved names (those of the fields `--row` and `--filename` add) count as taken before
/// the first column, so a column of that name is suffixed like a repeat: the added field
/// keeps the name it was given, as a Miller user expects of `cat -N`, and the column's
/// values are kept under the new name rather than lost.
package struct CSVHeader: Sendable, Equatable {
    /// The unique names, one per column.
    package let names: [String]
    /// The names no column may have (see the type's comment).
    let reservedNames: [String]
    /// For each reserved name that a column had: the name that column got instead.
    package let displacedColumns: [String: String]
    /// `,"name":` for every column, back to back (``keyRange(_:)`` finds one).
    private let keyBytes: [UInt8]
    /// Where each column's `,"name":` starts in `keyBytes`, plus the end.
    private let keyOffsets: [Int]

    /// A header with the given names, made unique and kept clear of `reservedNames`.
    package init(names rawNames: [String], reserving reservedNames: [String] = []) {
        let filled = Self.filledNames(rawNames)
        let names = Self.uniqueFilledNames(filled, reserving: reservedNames)
        self.names = names
        self.reservedNames = reservedNames
        var displaced: [String: String] = [:]
        for reserved in reservedNames {
            if let index = filled.firstIndex(of: reserved) { displaced[reserved] = names[index] }
        }
        displacedColumns = displaced
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        for name in names {
            offsets.append(bytes.count)
            bytes.append(UInt8(ascii: ","))
            JSONWriter.writeString(name, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }
        offsets.append(bytes.count)
        keyBytes = bytes
        keyOffsets = offsets
    }

    /// The header `1`, `2`, … `count`, for files without a header row.
    package static func numbered(_ count: Int, reserving reservedNames: [String] = []) -> CSVHeader {
        CSVHeader(names: (0..<count).map { String($0 + 1) }, reserving: reservedNames)
    }

    /// The header named by the current record of `tokenizer` (doubled quotes undone).
    package static func from(_ tokenizer: CSVTokenizer, reserving reservedNames: [String] = []) -> CSVHeader {
        CSVHeader(names: tokenizer.fields.map { $0.text(in: tokenizer.chunk, quote: tokenizer.dialect.quote) }, reserving: reservedNames)
    }

    /// The number of columns.
    package var count: Int { names.count }

    /// The bytes `,"name":` of column `index` (without the comma when `first`).
    @inline(__always)
    package func withKey<R>(_ index: Int, first: Bool, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        keyBytes.withUnsafeBufferPointer { all in
            let start = keyOffsets[index] + (first ? 1 : 0)
            return body(UnsafeBufferPointer(rebasing: all[start..<keyOffsets[index + 1]]))
        }
    }

    /// All the `,"name":` keys back to back with their offsets, for writers that hold the
    /// storage across a whole chunk.
    var packedKeys: (bytes: [UInt8], offsets: [Int]) { (keyBytes, keyOffsets) }

    /// The name for an extra field past the header (`--ragged pad`): its column number,
    /// suffixed if that is already a name (or a reserved one).
    package func extraName(_ index: Int) -> String {
        func isTaken(_ name: String) -> Bool { names.contains(name) || reservedNames.contains(name) }
        let base = String(index + 1)
        if !isTaken(base) { return base }
        var suffix = 2
        while isTaken("\(base)_\(suffix)") { suffix += 1 }
        return "\(base)_\(suffix)"
    }

    /// Names with every empty one replaced by its column number.
    private static func filledNames(_ rawNames: [String]) -> [String] {
        rawNames.enumerated().map { $0.element.isEmpty ? String($0.offset + 1) : $0.element }
    }

    /// Makes names unique: empty ones become their column number, repeats (and names in
    /// `reservedNames`) get `_2`, `_3`, ….
    ///
    /// Each name remembers the next suffix to try, so `n` repeats of one name cost `O(n)`
    /// rather than trying `_2`, `_3`, … afresh for each: a suffix passed over once stays
    /// unusable, since names only ever become taken.
    package static func uniqueNames(_ rawNames: [String], reserving reservedNames: [String] = []) -> [String] {
        uniqueFilledNames(filledNames(rawNames), reserving: reservedNames)
    }

    /// ``uniqueNames(_:reserving:)`` for names that have no empty one left.
    private static func uniqueFilledNames(_ filled: [String], reserving reservedNames: [String]) -> [String] {
        let given = Set(filled).union(reservedNames)
        var taken = Set(reservedNames)
        var nextSuffix: [String: Int] = [:]
        var result: [String] = []
        result.reserveCapacity(filled.count)
        for name in filled {
            if taken.insert(name).inserted {
                result.append(name)
                continue
            }
            var suffix = nextSuffix[name] ?? 2
            var candidate = "\(name)_\(suffix)"
            while taken.contains(candidate) || given.contains(candidate) {
                suffix += 1
                candidate = "\(name)_\(suffix)"
            }
            nextSuffix[name] = suffix + 1
            taken.insert(candidate)
            result.append(candidate)
        }
        return result
    }
}
