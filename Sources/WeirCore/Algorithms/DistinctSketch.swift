/// A 64-bit hash of bytes that is the same on every machine and every run (unlike Swift's
/// seeded `Hasher`): FNV-1a, then MurmurHash3's 64-bit finalizer so every input bit reaches
/// the high bits ``HyperLogLog`` takes its register index from.
package enum StableHash {
    /// The hash of `bytes`.
    @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return mix(hash)
    }

    /// The hash of an array of bytes.
    package static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// MurmurHash3's `fmix64`.
    @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        var key = value
        key ^= key >> 33
        key = key &* 0xff51_afd7_ed55_8ccd
        key ^= key >> 33
        key = key &* 0xc4ce_b9fe_1a85_ec53
        key ^= key >> 33
        return key
    }
}

/// A HyperLogLog distinct-count estimator (Flajolet et al. 2007) with 2^14 one-byte
/// registers: a standard error of 1.04/√16384 ≈ 0.81% at any cardinality (small counts use
/// linear counting), in 16 KiB per estimator, allocated at the first value.
///
/// Merging takes the larger register of each pair, so it is exact and order-free: the
/// merge of estimators over the parts of a data set equals the estimator over all of it.
/// Values are hashed with ``StableHash``, so estimates are reproducible.
package struct HyperLogLog: Sendable, Equatable {
    /// Register index bits.
    package static let precision = 14
    /// Registers.
    package static let registerCount = 1 << precision
    /// The relative standard error, 1.04/√m.
    package static let standardError = 1.04 / Double(registerCount).squareRoot()

    private var registers: [UInt8] = []

    package init() {}

    /// Adds a value by its 64-bit hash.
    @inline(__always)
    package mutating func add(hash: UInt64) {
        if registers.isEmpty { registers = [UInt8](repeating: 0, count: Self.registerCount) }
        let index = Int(hash >> UInt64(64 - Self.precision))
        let rest = hash << UInt64(Self.precision)
        let rank = UInt8(min(rest.leadingZeroBitCount, 64 - Self.precision) + 1)
        if rank > registers[index] { registers[index] = rank }
    }

    /// Takes in another estimator (register-wise maximum).
    package mutating func merge(_ other: HyperLogLog) {
        guard !other.registers.isEmpty else { return }
        guard !registers.isEmpty else {
            registers = other.registers
            return
        }
        for index in 0..<Self.registerCount where other.registers[index] > registers[index] {
            registers[index] = other.registers[index]
        }
    }

    /// The estimated number of distinct values.
    package var estimate: Int {
        guard !registers.isEmpty else { return 0 }
        let m = Double(Self.registerCount)
        var harmonic = 0.0
        var zeros = 0
        for register in registers {
            harmonic += 1.0 / Double(UInt64(1) << UInt64(register))
            if register == 0 { zeros += 1 }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        var estimate = alpha * m * m / harmonic
        if estimate <= 2.5 * m, zeros > 0 {
            estimate = m * log(m / Double(zeros))
        }
        return Int(estimate.rounded())
    }

    /// The registers as lower-case hex (32,768 characters), or "" when empty: the state of a partial aggregate.
    package var stateText: String {
        guard !registers.isEmpty else { return "" }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(registers.count * 2)
        for register in registers {
            text.append(digits[Int(register >> 4)])
            text.append(digits[Int(register & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// An estimator from its ``stateText``; nil for anything else.
    package init?(stateText: String) {
        let bytes = Array(stateText.utf8)
        if bytes.isEmpty { return }
        guard bytes.count == Self.registerCount * 2 else { return nil }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var registers = [UInt8](repeating: 0, count: Self.registerCount)
        for index in 0..<Self.registerCount {
            guard let high = nibble(bytes[2 * index]), let low = nibble(bytes[2 * index + 1]) else { return nil }
            let value = high << 4 | low
            guard value <= 64 - Self.precision + 1 else { return nil }
            registers[index] = value
        }
        self.registers = registers
    }

    /// Heap bytes held (for `--stats`).
    package var heapBytes: Int { registers.capacity }
}

#if canImport(Glibc)
import Glibc
#endif
