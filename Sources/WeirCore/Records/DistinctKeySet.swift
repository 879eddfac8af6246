/// The distinct keys seen so far, each numbered in first-seen order (`weir-uniq`), stored
/// compactly: memory grows with the number of distinct keys, never with the records.
///
/// Each key is held as its 128-bit ``KeyIdentity`` (16 bytes) in an open-addressed table. A
/// key of at most 15 bytes is its identity, so it needs nothing more and is compared exactly.
/// A longer key is known by its MurmurHash3; in ``Mode/exact`` (the default) its text is also
/// kept, in one byte arena (no allocation per key), and compared whenever identities match,
/// so a hash collision can never merge two different keys. In ``Mode/hashed`` the text of
/// long keys is not kept: about 28 bytes per key whatever its length, and two different long
/// keys are taken as one only if their 127-bit hashes collide (for n keys, a chance of about
/// n² / 2^128: 3 × 10^-21 for a billion keys).
package struct DistinctKeySet {
    /// How long keys are told apart.
    package enum Mode: Sendable {
        /// Long keys' text is kept and compared: exact.
        case exact
        /// Long keys are known by their hash only.
        case hashed
    }

    /// How long keys are told apart.
    package let mode: Mode
    /// The identity of each key, by ordinal (first-seen order).
    private var identities: [KeyIdentity] = []
    /// Where each key's text ends in `arena` (exact mode): the text of key `i` is
    /// `arena[textEnds[i - 1] ..< textEnds[i]]`, empty for an inline key.
    private var textEnds: [Int] = []
    private var arena: [UInt8] = []
    /// Open-addressed slots (linear probing): ordinal + 1, 0 when empty; a power of two in size.
    private var slots: [UInt32]

    /// Tests only: every long key gets the same identity, so that text comparison is what
    /// tells them apart (a collision on demand).
    var forcesHashCollisionsForTesting = false

    package init(mode: Mode = .exact) {
        self.mode = mode
        slots = [UInt32](repeating: 0, count: 1024)
    }

    /// The number of distinct keys.
    package var count: Int { identities.count }

    /// The bytes the set holds (table, identities, text), for a memory bound.
    package var memoryBytes: Int {
        slots.capacity * 4 + identities.capacity * 16 + textEnds.capacity * 8 + arena.capacity
    }

    /// Adds `key` if it is new; returns its ordinal (0 for the first key seen, and so on) and
    /// whether it was new.
    @inline(__always)
    package mutating func insert(_ key: UnsafeRawBufferPointer) -> (ordinal: Int, inserted: Bool) {
        let identity = self.identity(of: key)
        let mask = slots.count - 1
        var slot = Self.slotHash(identity) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let ordinal = Int(entry) - 1
            if identities[ordinal] == identity, mode == .hashed || identity.isInline || textMatches(ordinal, key) {
                return (ordinal, false)
            }
            slot = (slot + 1) & mask
        }
        let ordinal = identities.count
        precondition(ordinal < Int(UInt32.max) - 1, "too many distinct keys")
        identities.append(identity)
        if mode == .exact {
            if !identity.isInline { arena.append(contentsOf: key) }
            textEnds.append(arena.count)
        }
        slots[slot] = UInt32(ordinal + 1)
        if identities.count * 2 > slots.count { grow() }
        return (ordinal, true)
    }

    /// True when `key` is in the set.
    package func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        let identity = self.identity(of: key)
        let mask = slots.count - 1
        var slot = Self.slotHash(identity) & mask
        while slots[slot] != 0 {
            let ordinal = Int(slots[slot]) - 1
            if identities[ordinal] == identity, mode == .hashed || identity.isInline || textMatches(ordinal, key) { return true }
            slot = (slot + 1) & mask
        }
        return false
    }

    /// The text of the key numbered `ordinal`; nil for a long key in hashed mode.
    package func key(_ ordinal: Int) -> [UInt8]? {
        let identity = identities[ordinal]
        if let bytes = identity.inlineBytes { return bytes }
        guard mode == .exact else { return nil }
        return Array(arena[textRange(ordinal)])
    }

    /// Where an identity's probe starts: mixed, because an inline identity is raw key bytes
    /// (keys `"10001"` and `"10002"` differ only in a high byte of `low`).
    @inline(__always)
    private static func slotHash(_ identity: KeyIdentity) -> Int {
        var mixed = identity.low &* 0x9E37_79B9_7F4A_7C15 ^ (identity.high &* 0xC2B2_AE3D_27D4_EB4F)
        mixed ^= mixed >> 29
        mixed &*= 0xBF58_476D_1CE4_E5B9
        mixed ^= mixed >> 32
        return Int(truncatingIfNeeded: mixed)
    }

    @inline(__always)
    private func identity(of key: UnsafeRawBufferPointer) -> KeyIdentity {
        let identity = KeyIdentity(of: key)
        if forcesHashCollisionsForTesting, !identity.isInline { return KeyIdentity(low: 42, high: 1 << 63) }
        return identity
    }

    @inline(__always)
    private func textRange(_ ordinal: Int) -> Range<Int> {
        (ordinal == 0 ? 0 : textEnds[ordinal - 1])..<textEnds[ordinal]
    }

    private func textMatches(_ ordinal: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let range = textRange(ordinal)
        guard range.count == key.count else { return false }
        return arena.withUnsafeBytes { stored in
            memcmp(stored.baseAddress! + range.lowerBound, key.baseAddress!, key.count) == 0
        }
    }

    private mutating func grow() {
        var newSlots = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = newSlots.count - 1
        for (ordinal, identity) in identities.enumerated() {
            var slot = Self.slotHash(identity) & mask
            while newSlots[slot] != 0 { slot = (slot + 1) & mask }
            newSlots[slot] = UInt32(ordinal + 1)
        }
        slots = newSlots
    }
}

/// Records held in one byte arena, numbered in the order they were added: the first record
/// of each key for `weir-uniq --unique` and `--repeated`, written at the end of input.
package struct RecordArena {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    package init() {}

    /// The number of records held.
    package var count: Int { ends.count }

    /// The bytes held, for a memory bound.
    package var memoryBytes: Int { bytes.capacity + ends.capacity * 8 }

    /// Adds a copy of `record`; returns its number.
    @discardableResult
    package mutating func append(_ record: UnsafeRawBufferPointer) -> Int {
        bytes.append(contentsOf: record)
        ends.append(bytes.count)
        return ends.count - 1
    }

    /// Calls `body` with the bytes of record `index`.
    package func withRecord<Result, Failure: Error>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        let start = index == 0 ? 0 : ends[index - 1]
        let end = ends[index]
        return try bytes.withBytes { (all) throws(Failure) -> Result in try body(UnsafeRawBufferPointer(rebasing: all[start..<end])) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
