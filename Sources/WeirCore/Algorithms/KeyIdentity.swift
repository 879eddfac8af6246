/// A 128-bit identity of a byte string (a grouping key's text), made so that most keys are
/// told apart exactly without keeping their text.
///
/// A key of at most ``inlineLimit`` (15) bytes *is* its identity: its bytes and its length
/// packed into the 128 bits, so two short keys have the same identity exactly when they are
/// the same bytes. A longer key's identity is its MurmurHash3 (x64, 128-bit) with the top bit
/// set, so it never equals a short key's (whose top bit is clear); two different long keys
/// share an identity only by a hash collision, which ``DistinctKeySet`` either rules out (it
/// keeps long keys' text and compares it) or states (`hashed` mode).
package struct KeyIdentity: Hashable, Sendable {
    /// The low 64 bits (a short key's first 8 bytes, little-endian).
    package var low: UInt64
    /// The high 64 bits (a short key's bytes 8 to 14, then its length; top bit set for a hash).
    package var high: UInt64

    /// The longest key whose identity is its own bytes.
    static let inlineLimit = 15

    package init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// The identity of `key`.
    package init(of key: UnsafeRawBufferPointer) {
        if key.count <= Self.inlineLimit {
            var low: UInt64 = 0, high: UInt64 = 0
            for index in 0..<key.count {
                let byte = UInt64(key[index])
                if index < 8 { low |= byte << (8 * UInt64(index)) } else { high |= byte << (8 * UInt64(index - 8)) }
            }
            high |= UInt64(key.count) << 56
            self.init(low: low, high: high)
        } else {
            let (h1, h2) = MurmurHash3.hash128(key)
            self.init(low: h1, high: h2 | (1 << 63))
        }
    }

    /// True when the identity holds the key's bytes themselves (a key of at most 15 bytes).
    package var isInline: Bool { high >> 63 == 0 }

    /// The bytes of an inline identity (nil for a hashed one).
    package var inlineBytes: [UInt8]? {
        guard isInline else { return nil }
        let count = Int(high >> 56)
        return (0..<count).map { index in
            index < 8 ? UInt8(truncatingIfNeeded: low >> (8 * UInt64(index))) : UInt8(truncatingIfNeeded: high >> (8 * UInt64(index - 8)))
        }
    }
}

/// MurmurHash3, x64 128-bit variant (Austin Appleby, public domain): fast, well mixed, and
/// with published test vectors. Not a cryptographic hash: crafted inputs can collide.
package enum MurmurHash3 {
    /// The two 64-bit halves (h1, h2) of the hash of `bytes`.
    package static func hash128(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> (UInt64, UInt64) {
        let c1: UInt64 = 0x87c3_7b91_1142_53d5, c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1 = seed, h2 = seed
        let count = bytes.count
        let blocks = count / 16
        guard let base = bytes.baseAddress else { return finish(h1, h2, count) }
        for block in 0..<blocks {
            var k1 = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: block * 16, as: UInt64.self))
            var k2 = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: block * 16 + 8, as: UInt64.self))
            k1 &*= c1; k1 = rotate(k1, 31); k1 &*= c2; h1 ^= k1
            h1 = rotate(h1, 27); h1 &+= h2; h1 = h1 &* 5 &+ 0x52dc_e729
            k2 &*= c2; k2 = rotate(k2, 33); k2 &*= c1; h2 ^= k2
            h2 = rotate(h2, 31); h2 &+= h1; h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16
        var k1: UInt64 = 0, k2: UInt64 = 0
        let remaining = count - tail
        if remaining > 8 {
            for index in stride(from: remaining - 1, through: 8, by: -1) { k2 = k2 << 8 | UInt64(bytes[tail + index]) }
            k2 &*= c2; k2 = rotate(k2, 33); k2 &*= c1; h2 ^= k2
        }
        if remaining > 0 {
            for index in stride(from: min(remaining, 8) - 1, through: 0, by: -1) { k1 = k1 << 8 | UInt64(bytes[tail + index]) }
            k1 &*= c1; k1 = rotate(k1, 31); k1 &*= c2; h1 ^= k1
        }
        return finish(h1, h2, count)
    }

    @inline(__always)
    private static func finish(_ h1: UInt64, _ h2: UInt64, _ count: Int) -> (UInt64, UInt64) {
        var h1 = h1 ^ UInt64(count), h2 = h2 ^ UInt64(count)
        h1 &+= h2; h2 &+= h1
        h1 = mix(h1); h2 = mix(h2)
        h1 &+= h2; h2 &+= h1
        return (h1, h2)
    }

    @inline(__always)
    private static func rotate(_ value: UInt64, _ amount: UInt64) -> UInt64 { value << amount | value >> (64 - amount) }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33; k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33; k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
