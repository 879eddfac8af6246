/// Eight-bytes-at-a-time tests (SWAR) shared by the CSV codec's scanning loops.
///
/// Each test returns a word with the high bit set in the bytes that match. The equality
/// test is exact; the range tests may also flag bytes above (later than) a true match,
/// because borrows and carries only run upwards, so the lowest flagged byte, which is all
/// the scanning loops use, is always right.
package enum CSVByteScan {
    /// `0x01` in every byte.
    package static let ones: UInt64 = 0x0101_0101_0101_0101
    /// `0x80` in every byte.
    static let highBits: UInt64 = 0x8080_8080_8080_8080
    private static let lowBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// `byte` in every byte of a word.
    @inline(__always)
    static func broadcast(_ byte: UInt8) -> UInt64 { UInt64(byte) &* ones }

    /// The bytes of `word` equal to the byte broadcast in `pattern`.
    @inline(__always)
    package static func equal(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let x = word ^ pattern
        return ~(((x & lowBits) &+ lowBits) | x | lowBits)
    }

    /// The bytes of `word` below 0x20 (control characters).
    @inline(__always)
    package static func control(_ word: UInt64) -> UInt64 {
        (word &- 0x2020_2020_2020_2020) & ~word & highBits
    }

    /// The bytes of `word` at or above 0x80 (non-ASCII).
    @inline(__always)
    static func nonASCII(_ word: UInt64) -> UInt64 { word & highBits }

    /// The index of the first flagged byte of a non-zero test result.
    @inline(__always)
    static func firstFlagged(_ flags: UInt64) -> Int { flags.trailingZeroBitCount >> 3 }

    /// Loads eight bytes at `offset`.
    @inline(__always)
    package static func load(_ base: UnsafePointer<UInt8>, _ offset: Int) -> UInt64 {
        UnsafeRawPointer(base).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    }
}
