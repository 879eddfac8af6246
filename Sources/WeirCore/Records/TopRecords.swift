/// Where a record stands in the input, for ties: earlier inputs first, then earlier lines,
/// then earlier columns (records sharing a line). Workers see disjoint records, so two
/// records never have the same order.
package struct InputOrder: Comparable, Sendable {
    package var inputIndex: Int
    package var line: Int
    package var column: Int

    package init(inputIndex: Int, line: Int, column: Int = 1) {
        self.inputIndex = inputIndex
        self.line = line
        self.column = column
    }

    /// The order of the record at `position`.
    package init(_ position: RecordPosition) {
        self.init(inputIndex: position.inputIndex, line: position.line, column: position.firstColumn)
    }

    package static func < (lhs: InputOrder, rhs: InputOrder) -> Bool {
        (lhs.inputIndex, lhs.line, lhs.column) < (rhs.inputIndex, rhs.line, rhs.column)
    }
}

/// The N records with the largest (or smallest) keys seen, in a bounded heap (`weir-top`):
/// memory is N records whatever the input's length. Ties go to the record earlier in the
/// input, so the result is that of a stable sort followed by taking the first N.
///
/// Mergeable: because entries are ranked by (key, input order), a total order, the top N of
/// the union of two inputs is the top N of their two tops, so each worker keeps its own and
/// ``merge(_:)`` folds them at end of input.
package struct TopRecords<Key> {
    /// One kept record.
    package struct Entry {
        package var key: Key
        package var order: InputOrder
        package var record: [UInt8]
    }

    /// How many records are kept.
    package let capacity: Int
    /// True to keep the largest keys, false the smallest.
    package let largest: Bool
    /// Three-way comparison of keys: negative, zero or positive.
    private let compare: (Key, Key) -> Int
    /// A binary heap whose root is the worst entry kept (the first to go).
    private var heap: [Entry] = []

    package init(capacity: Int, largest: Bool, compare: @escaping (Key, Key) -> Int) {
        self.capacity = max(0, capacity)
        self.largest = largest
        self.compare = compare
    }

    /// The number of records kept.
    package var count: Int { heap.count }

    /// True when a record with `key` at `order` would be kept now (so the caller can skip
    /// building what it would offer).
    package func wouldKeep(_ key: Key, at order: InputOrder) -> Bool {
        guard capacity > 0 else { return false }
        guard heap.count == capacity else { return true }
        return ranksBefore(key, order, heap[0].key, heap[0].order)
    }

    /// Offers a record; returns the number of records that left (0 when it was kept and the
    /// heap was not full, 1 otherwise: the record itself or the one it pushed out).
    @discardableResult
    package mutating func offer(_ key: Key, at order: InputOrder, record: UnsafeRawBufferPointer) -> Int {
        guard wouldKeep(key, at: order) else { return 1 }
        return add(Entry(key: key, order: order, record: Array(record)))
    }

    /// Takes over another keeper's records (same capacity and direction).
    package mutating func merge(_ other: consuming TopRecords<Key>) {
        for entry in other.heap where wouldKeep(entry.key, at: entry.order) { add(entry) }
    }

    /// The records kept, best first (ties in input order).
    package var sortedEntries: [Entry] {
        heap.sorted { ranksBefore($0.key, $0.order, $1.key, $1.order) }
    }

    /// True when (a, aOrder) ranks before (b, bOrder): a better key, or an equal key earlier.
    @inline(__always)
    private func ranksBefore(_ a: Key, _ aOrder: InputOrder, _ b: Key, _ bOrder: InputOrder) -> Bool {
        let order = compare(a, b)
        if order != 0 { return largest ? order > 0 : order < 0 }
        return aOrder < bOrder
    }

    @inline(__always)
    private func worse(_ i: Int, _ j: Int) -> Bool {
        ranksBefore(heap[j].key, heap[j].order, heap[i].key, heap[i].order)
    }

    private mutating func add(_ entry: Entry) -> Int {
        if heap.count < capacity {
            heap.append(entry)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard worse(child, parent) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
            return 0
        }
        heap[0] = entry
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var worst = parent
            if left < heap.count, worse(left, worst) { worst = left }
            if right < heap.count, worse(right, worst) { worst = right }
            if worst == parent { break }
            heap.swapAt(parent, worst)
            parent = worst
        }
        return 1
    }
}

/// A ``TopRecords`` per group (`weir-top --group`), groups given back in first-seen order.
/// Memory is N records per group, plus the group keys. Mergeable like ``TopRecords``: a
/// group's first-seen place is the earliest over the workers.
package struct TopRecordsByGroup<Key> {
    private struct Group {
        var first: InputOrder
        var top: TopRecords<Key>
    }

    /// Records kept per group.
    package let capacity: Int
    /// True to keep the largest keys.
    package let largest: Bool
    private let compare: (Key, Key) -> Int
    private var groups: [[UInt8]: Group] = [:]

    package init(capacity: Int, largest: Bool, compare: @escaping (Key, Key) -> Int) {
        self.capacity = max(0, capacity)
        self.largest = largest
        self.compare = compare
    }

    /// The number of groups seen.
    package var groupCount: Int { groups.count }

    /// Offers a record of group `group` (its key's bytes); returns the number of records that
    /// left, as ``TopRecords/offer(_:at:record:)``.
    @discardableResult
    package mutating func offer(_ key: Key, at order: InputOrder, group: UnsafeRawBufferPointer, record: UnsafeRawBufferPointer) -> Int {
        let groupKey = Array(group)
        if groups[groupKey] == nil {
            groups[groupKey] = Group(first: order, top: TopRecords(capacity: capacity, largest: largest, compare: compare))
        }
        return groups[groupKey]!.top.offer(key, at: order, record: record)
    }

    /// Takes over another keeper's groups.
    package mutating func merge(_ other: consuming TopRecordsByGroup<Key>) {
        for (groupKey, group) in other.groups {
            if var mine = groups.removeValue(forKey: groupKey) {
                mine.first = min(mine.first, group.first)
                mine.top.merge(group.top)
                groups[groupKey] = mine
            } else {
                groups[groupKey] = group
            }
        }
    }

    /// Each group's key bytes and its records (best first), groups in first-seen order.
    package var sortedGroups: [(group: [UInt8], entries: [TopRecords<Key>.Entry])] {
        groups.sorted { $0.value.first < $1.value.first }.map { ($0.key, $0.value.top.sortedEntries) }
    }
}
