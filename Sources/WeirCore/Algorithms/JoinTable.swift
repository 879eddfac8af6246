#if canImport(Glibc)
import Glibc
#endif

/// The lookup side of a hash join (`weir-join`): records held compactly, found by key bytes.
///
/// Every record's bytes go into one arena with an end offset each; every distinct key's
/// bytes go into another. An open-addressing table of 32-bit slots maps a key (by hash and
/// bytes) to its first record; records of one key are chained in the order they were added,
/// so ``firstMatch(_:)`` then ``nextMatch(after:)`` visit them in lookup-file order. A
/// record added without a key is held (it can be listed as unmatched) but never found.
///
/// Memory for n records of b bytes each and k distinct keys of c bytes: n·(b + 16) +
/// k·(c + 20) + 8·(slots ≥ 2k) bytes, about what the records take as compact text. Keys
/// are compared as bytes, so the caller writes them canonically (``GroupingKey`` text for
/// jq's `==`). Built once, by one task, then shared read-only by every worker: a class, so a
/// worker holds one reference (a struct of eleven arrays retained each of them on every copy,
/// and a copy was made for each record).
package final class JoinTable: @unchecked Sendable {
    private var recordBytes: [UInt8] = []
    /// The end of record i in `recordBytes` (it starts where record i - 1 ends).
    private var recordEnds: [Int] = []
    /// The next record with the same key as record i, or -1.
    private var nextRecord: [Int32] = []
    /// The key number of record i, or -1 when it has none.
    private var recordKey: [Int32] = []
    private var keyBytes: [UInt8] = []
    private var keyEnds: [Int] = []
    private var keyHashes: [UInt64] = []
    private var keyFirst: [Int32] = []
    private var keyLast: [Int32] = []
    /// Key number + 1 per slot (0: empty); the count is a power of two.
    private var slots: [Int32] = Array(repeating: 0, count: 16)

    /// An empty table.
    package init() {}

    /// The records held (with a key or without).
    package var recordCount: Int { recordEnds.count }
    /// The distinct keys.
    package var keyCount: Int { keyEnds.count }
    /// The records added without a key.
    package private(set) var unkeyedCount = 0

    /// The bytes the table holds (its arrays' capacities), for `--stats`.
    package var bytesHeld: Int {
        recordBytes.capacity + recordEnds.capacity * 8 + nextRecord.capacity * 4 + recordKey.capacity * 4 + keyBytes.capacity
            + keyEnds.capacity * 8 + keyHashes.capacity * 8 + keyFirst.capacity * 4 + keyLast.capacity * 4 + slots.capacity * 4
    }

    /// The most records a table holds (indices are 32-bit).
    package static let maxRecords = Int(Int32.max) - 1

    /// Adds a record (its bytes as they are to be written) under `key`, or under no key
    /// (nil: held, never matched). Returns false when the table is full (``maxRecords``).
    @discardableResult
    package func add(_ record: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?) -> Bool {
        guard recordEnds.count < Self.maxRecords else { return false }
        let index = Int32(recordEnds.count)
        recordBytes.append(contentsOf: record)
        recordEnds.append(recordBytes.count)
        nextRecord.append(-1)
        guard let key else {
            recordKey.append(-1)
            unkeyedCount += 1
            return true
        }
        let hash = Self.hash(key)
        let (slot, found) = find(key, hash: hash)
        if let found {
            nextRecord[Int(keyLast[found])] = index
            keyLast[found] = index
            recordKey.append(Int32(found))
            return true
        }
        recordKey.append(Int32(keyEnds.count))
        keyBytes.append(contentsOf: key)
        keyEnds.append(keyBytes.count)
        keyHashes.append(hash)
        keyFirst.append(index)
        keyLast.append(index)
        slots[slot] = Int32(keyEnds.count)
        if keyEnds.count * 2 > slots.count { grow() }
        return true
    }

    /// The number (0..<``keyCount``) of the key spelled `key`, or nil when no record has it.
    @inline(__always)
    package func keyNumber(_ key: UnsafeRawBufferPointer) -> Int? {
        find(key, hash: Self.hash(key)).key
    }

    /// The first record (in the order added) under key number `key`.
    @inline(__always)
    package func firstRecord(ofKey key: Int) -> Int {
        Int(keyFirst[key])
    }

    /// The key number of record `record`, or nil when it was added without a key.
    @inline(__always)
    package func keyNumber(ofRecord record: Int) -> Int? {
        let key = recordKey[record]
        return key < 0 ? nil : Int(key)
    }

    /// The record after `record` with the same key, or nil.
    @inline(__always)
    package func nextMatch(after record: Int) -> Int? {
        let next = nextRecord[record]
        return next < 0 ? nil : Int(next)
    }

    /// Calls `body` with the bytes of record `index`.
    @inline(__always)
    package func withRecord<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws(RecordError) -> Result) throws(RecordError) -> Result {
        let start = index == 0 ? 0 : recordEnds[index - 1]
        let end = recordEnds[index]
        return try recordBytes.withBytes { (all) throws(RecordError) in try body(UnsafeRawBufferPointer(rebasing: all[start..<end])) }
    }

    /// Appends the bytes of record `index` to `output`.
    @inline(__always)
    package func appendRecord(_ index: Int, to output: inout [UInt8]) {
        let start = index == 0 ? 0 : recordEnds[index - 1]
        output.append(contentsOf: recordBytes[start..<recordEnds[index]])
    }

    /// The slot where `key` is or would go, and its key number when present.
    @inline(__always)
    private func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> (slot: Int, key: Int?) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return keyBytes.withUnsafeBytes { stored -> (slot: Int, key: Int?) in
            slots.withUnsafeBufferPointer { slots -> (slot: Int, key: Int?) in
                while true {
                    let entry = Int(slots[slot])
                    if entry == 0 { return (slot, nil) }
                    let number = entry - 1
                    if keyHashes[number] == hash {
                        let start = number == 0 ? 0 : keyEnds[number - 1]
                        let length = keyEnds[number] - start
                        if length == key.count, length == 0 || memcmp(stored.baseAddress! + start, key.baseAddress!, length) == 0 {
                            return (slot, number)
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// Doubles the slots and re-places every key.
    private func grow() {
        let count = slots.count * 2
        let mask = count - 1
        var grown = [Int32](repeating: 0, count: count)
        for (number, hash) in keyHashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while grown[slot] != 0 { slot = (slot + 1) & mask }
            grown[slot] = Int32(number + 1)
        }
        slots = grown
    }

    /// A 64-bit hash of key bytes (FNV-1a over 8-byte words, then a final mix).
    @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        guard let base = bytes.baseAddress else { return hash }
        let count = bytes.count
        var index = 0
        while index + 8 <= count {
            hash = (hash ^ base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x100_0000_01B3
            hash ^= hash >> 29
            index += 8
        }
        while index < count {
            hash = (hash ^ UInt64(base.load(fromByteOffset: index, as: UInt8.self))) &* 0x100_0000_01B3
            index += 1
        }
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return hash
    }
}

/// Which keys (or records) of a ``JoinTable`` were matched: one bit each, kept per worker and merged
/// (`formUnion`) at end of input.
package struct JoinMatchSet: Sendable {
    private var words: [UInt64]

    /// Nothing marked, of `count`.
    package init(count: Int) {
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    /// Marks `index`.
    @inline(__always)
    package mutating func insert(_ index: Int) {
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    /// True when `index` is marked.
    @inline(__always)
    package func contains(_ index: Int) -> Bool {
        words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// Adds what another set marked.
    package mutating func formUnion(_ other: JoinMatchSet) {
        for index in words.indices where index < other.words.count { words[index] |= other.words[index] }
    }

    /// How many are marked.
    package var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}
