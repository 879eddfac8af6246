/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast 64-bit generator with a fixed
/// definition, so a seed gives the same numbers on every platform and Swift version (Swift's
/// own `random(in:using:)` makes no such promise).
///
/// Its `n`-th output is a pure function of the seed and `n` (``output(seed:index:)``), which
/// is what lets a stage decide about record `n` without any state carried between records.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The golden-ratio increment added to the state before each output.
    package static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    private var state: UInt64

    /// A generator whose first output is ``output(seed:index:)`` with index 0.
    package init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix(state)
    }

    /// The output at `index` (0-based) of a generator seeded with `seed`, without making the others.
    package static func output(seed: UInt64, index: UInt64) -> UInt64 {
        mix(seed &+ (index &+ 1) &* gamma)
    }

    /// SplitMix64's finalizer (a variant of MurmurHash3's): a bijection that scatters every bit.
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A whole number uniform in `0..<bound` (`bound` > 0), without modulo bias: Lemire's
    /// multiply-and-reject (2019), fixed here so that a seed's sample never changes.
    package mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "below(0)")
        var product = bound.multipliedFullWidth(by: next())
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = bound.multipliedFullWidth(by: next()) }
        }
        return product.high
    }

    /// The top 53 bits of `bits` as a number uniform in [0, 1).
    package static func unitInterval(_ bits: UInt64) -> Double {
        Double(bits >> 11) * 0x1p-53
    }
}

/// Where a run without `--seed` gets its seed: the system's random source
/// (`SystemRandomNumberGenerator`, which is `getrandom(2)` on Linux).
package enum RandomSeed {
    /// A fresh seed from the system.
    static func fromSystem() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}

/// A uniform random sample of a fixed size from a stream of unknown length, in one pass and
/// O(capacity) memory: reservoir sampling (Vitter's Algorithm R) with a seeded ``SplitMix64``.
///
/// The first `capacity` elements fill the reservoir; element `i` (0-based) after that replaces
/// a uniformly chosen slot with probability `capacity / (i + 1)`, so at the end every element
/// offered has had the same chance to be in the sample. Each kept element remembers its
/// position, so the sample can be given back in stream order (``sampleInOrder``). The element
/// is only made (copied) when it enters the reservoir.
package struct ReservoirSampler<Element> {
    /// The sample size asked for.
    package let capacity: Int
    /// How many elements were offered.
    package private(set) var offeredCount = 0
    private var entries: [(index: Int, element: Element)] = []
    private var generator: SplitMix64

    /// An empty reservoir for `capacity` (≥ 0) elements, its choices drawn from `seed`.
    package init(capacity: Int, seed: UInt64) {
        precondition(capacity >= 0, "negative reservoir capacity")
        self.capacity = capacity
        generator = SplitMix64(seed: seed)
        entries.reserveCapacity(min(capacity, 4096))
    }

    /// Offers the stream's next element; `element` is called only when it enters the sample
    /// (possibly replacing an earlier one). Returns true when it did.
    @discardableResult
    package mutating func offer<Failure: Error>(_ element: () throws(Failure) -> Element) throws(Failure) -> Bool {
        let index = offeredCount
        offeredCount += 1
        if entries.count < capacity {
            entries.append((index, try element()))
            return true
        }
        guard capacity > 0 else { return false }
        let slot = generator.below(UInt64(index) + 1)
        guard slot < UInt64(capacity) else { return false }
        entries[Int(slot)] = (index, try element())
        return true
    }

    /// How many elements the sample holds now (`min(capacity, offeredCount)`).
    package var sampleCount: Int { entries.count }

    /// The sample with each element's position in the stream, in stream order.
    package var sampleInOrder: [(index: Int, element: Element)] {
        entries.sorted { $0.index < $1.index }
    }
}

/// A streaming Bernoulli sample: each element kept with probability ``probability``, decided
/// from a hash of (seed, the element's position) alone.
///
/// Since no state is carried from one decision to the next, the sample of a stream depends
/// only on the seed and the order of the stream, never on how it was cut into chunks or how
/// many workers looked at it.
package struct BernoulliSampler: Sendable {
    /// The chance that an element is kept, in [0, 1].
    package let probability: Double
    /// The seed the decisions are drawn from.
    package let seed: UInt64

    /// A sampler keeping each element with `probability` (in [0, 1]).
    package init(probability: Double, seed: UInt64) {
        precondition(probability >= 0 && probability <= 1, "probability out of [0, 1]")
        self.probability = probability
        self.seed = seed
    }

    /// True when the element at `index` (0-based position in the stream) is in the sample.
    package func keeps(_ index: UInt64) -> Bool {
        SplitMix64.unitInterval(SplitMix64.output(seed: seed, index: index)) < probability
    }
}

extension ParsedOptions {
    /// The value of `long` (default `seed`) as a seed, a whole number from 0 to 2⁶⁴−1; when
    /// the option is absent, a fresh seed from the system (``RandomSeed/fromSystem()``).
    package func seed(_ long: String = "seed") throws(UsageError) -> UInt64 {
        guard let text = value(long) else { return RandomSeed.fromSystem() }
        guard let seed = UInt64(text) else {
            throw UsageError("option '--\(long)' takes a whole number from 0 to 18446744073709551615, not '\(text)'")
        }
        return seed
    }

    /// The value of `long` as a probability, a decimal number from 0 to 1 (`0.25`, `1e-3`), or nil when absent.
    package func probability(_ long: String) throws(UsageError) -> Double? {
        guard let text = value(long) else { return nil }
        let startsWithDigit = text.utf8.first.map { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") } ?? false
        let isDecimal = startsWithDigit && text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
        }
        guard isDecimal, let probability = Double(text), probability >= 0, probability <= 1 else {
            throw UsageError("option '--\(long)' takes a number from 0 to 1 (such as 0.1), not '\(text)'")
        }
        return probability
    }
}
