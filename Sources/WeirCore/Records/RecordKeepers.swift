/// The last N records seen: a ring buffer (`weir-tail`). Memory is N records whatever the
/// input's length; the ring grows to N as records come, so a large N costs nothing up front.
package struct LastRecords {
    /// How many records are kept.
    package let capacity: Int
    private var ring: [[UInt8]] = []
    /// The slot the next record goes to once the ring is full (the oldest record's).
    private var oldest = 0

    package init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Keeps a copy of `record`; returns true when that pushed a record out (the oldest, or
    /// `record` itself when the capacity is 0).
    @discardableResult
    package mutating func add(_ record: UnsafeRawBufferPointer) -> Bool {
        guard capacity > 0 else { return true }
        if ring.count < capacity {
            ring.append(Array(record))
            return false
        }
        ring[oldest].removeAll(keepingCapacity: true)
        ring[oldest].append(contentsOf: record)
        oldest = oldest + 1 == capacity ? 0 : oldest + 1
        return true
    }

    /// The records kept, oldest first.
    package var records: [[UInt8]] { Array(ring[oldest...] + ring[..<oldest]) }
}

/// The last N records of each key, given back in input order (`weir-tail --by`). Memory is
/// N records per distinct key, plus the keys.
package struct LastRecordsByKey {
    /// Records kept per key.
    package let capacity: Int
    private var rings: [[UInt8]: KeyRing] = [:]
    private var sequence = 0

    /// One key's records with their input positions; `oldest` as in ``LastRecords``.
    private struct KeyRing {
        var entries: [(sequence: Int, record: [UInt8])] = []
        var oldest = 0

        mutating func add(_ record: UnsafeRawBufferPointer, sequence: Int, capacity: Int) -> Bool {
            if entries.count < capacity {
                entries.append((sequence, Array(record)))
                return false
            }
            entries[oldest].sequence = sequence
            entries[oldest].record.removeAll(keepingCapacity: true)
            entries[oldest].record.append(contentsOf: record)
            oldest = oldest + 1 == capacity ? 0 : oldest + 1
            return true
        }
    }

    package init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Keeps a copy of `record` under `key`; returns true when that pushed a record out (the
    /// key's oldest, or `record` itself when the capacity is 0).
    @discardableResult
    package mutating func add(_ record: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> Bool {
        guard capacity > 0 else { return true }
        sequence += 1
        let sequence = self.sequence
        return rings[Array(key), default: KeyRing()].add(record, sequence: sequence, capacity: capacity)
    }

    /// Every record kept, in input order.
    package var records: [[UInt8]] {
        var all: [(sequence: Int, record: [UInt8])] = []
        for ring in rings.values { all.append(contentsOf: ring.entries) }
        all.sort { $0.sequence < $1.sequence }
        return all.map(\.record)
    }

    /// The number of distinct keys seen.
    package var keyCount: Int { rings.count }
}

/// Admits the first N records of each key and refuses the rest (`weir-head --by`). Memory is
/// one count per distinct key.
package struct FirstRecordsByKey {
    /// Records admitted per key.
    package let capacity: Int
    private var counts: [[UInt8]: Int] = [:]

    package init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// True when `key` has had fewer than N records so far (the record is then counted).
    package mutating func admits(_ key: UnsafeRawBufferPointer) -> Bool {
        guard capacity > 0 else { return false }
        let key = Array(key)
        let admitted = counts[key, default: 0]
        guard admitted < capacity else { return false }
        counts[key] = admitted + 1
        return true
    }

    /// The number of distinct keys seen.
    package var keyCount: Int { counts.count }
}
