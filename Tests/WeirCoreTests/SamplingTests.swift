import Testing
@testable import WeirCore

@Suite struct SamplingTests {
    @Test func splitMix64MatchesTheReferenceOutputs() {
        // The published outputs for seed 1234567 (Rosetta Code, "Pseudo-random numbers/Splitmix64").
        var generator = SplitMix64(seed: 1_234_567)
        let expected: [UInt64] = [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                                  4_593_380_528_125_082_431, 16_408_922_859_458_223_821]
        for (index, value) in expected.enumerated() {
            #expect(generator.next() == value)
            #expect(SplitMix64.output(seed: 1_234_567, index: UInt64(index)) == value)
        }
    }

    @Test func belowIsInRangeAndRoughlyUniform() {
        var generator = SplitMix64(seed: 42)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 {
            let value = generator.below(6)
            #expect(value < 6)
            counts[Int(value)] += 1
        }
        // 10,000 expected per face; the standard deviation is about 91.
        for count in counts { #expect((9_500...10_500).contains(count), "\(counts)") }
        #expect(generator.below(1) == 0)
        #expect(generator.below(UInt64.max) < UInt64.max)
    }

    @Test func unitIntervalCoversZeroToOne() {
        #expect(SplitMix64.unitInterval(0) == 0)
        #expect(SplitMix64.unitInterval(UInt64.max) < 1)
        #expect(SplitMix64.unitInterval(1 << 63) == 0.5)
    }

    func sample(_ count: Int, capacity: Int, seed: UInt64) -> [(index: Int, element: Int)] {
        var sampler = ReservoirSampler<Int>(capacity: capacity, seed: seed)
        for value in 0..<count { sampler.offer { value * 10 } }
        #expect(sampler.offeredCount == count)
        return sampler.sampleInOrder
    }

    @Test func aReservoirLargerThanTheStreamKeepsItAllInOrder() {
        let kept = sample(7, capacity: 10, seed: 1)
        #expect(kept.map(\.index) == Array(0..<7))
        #expect(kept.map(\.element) == (0..<7).map { $0 * 10 })
        #expect(sample(0, capacity: 3, seed: 1).isEmpty)
        #expect(sample(50, capacity: 0, seed: 1).isEmpty)
    }

    @Test func theSampleHasTheSizeAskedForInStreamOrder() {
        let kept = sample(10_000, capacity: 100, seed: 9)
        #expect(kept.count == 100)
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.index < $1.index })
        #expect(kept.allSatisfy { $0.element == $0.index * 10 })
    }

    @Test func theSameSeedGivesTheSameSample() {
        let first = sample(5_000, capacity: 20, seed: 123).map(\.index)
        #expect(sample(5_000, capacity: 20, seed: 123).map(\.index) == first)
        #expect(sample(5_000, capacity: 20, seed: 124).map(\.index) != first)
    }

    @Test func theElementIsOnlyMadeWhenItIsKept() {
        var sampler = ReservoirSampler<Int>(capacity: 5, seed: 3)
        var made = 0
        for value in 0..<10_000 {
            let kept = sampler.offer { made += 1; return value }
            _ = kept
        }
        // Expected 5 + 5·(H(10000) − H(5)) ≈ 42 replacements; far fewer than 10,000.
        #expect(made >= 5 && made < 200, "\(made)")
    }

    @Test func everyElementHasTheSameChanceToBeSampled() {
        // 20,000 samples of 5 out of 20: each element is in a quarter of them (5,000 expected,
        // standard deviation about 61), the first and the last alike.
        var counts = [Int](repeating: 0, count: 20)
        for trial in 0..<20_000 {
            for entry in sample(20, capacity: 5, seed: 0xFEED_0000 + UInt64(trial)) { counts[entry.index] += 1 }
        }
        for count in counts { #expect((4_700...5_300).contains(count), "\(counts)") }
    }

    @Test func bernoulliKeepsTheFractionAskedFor() {
        let sampler = BernoulliSampler(probability: 0.1, seed: 77)
        let kept = (0..<100_000).filter { sampler.keeps(UInt64($0)) }.count
        // 10,000 expected; the standard deviation is about 95.
        #expect((9_500...10_500).contains(kept), "\(kept)")
        #expect((0..<10_000).allSatisfy { BernoulliSampler(probability: 1, seed: 5).keeps(UInt64($0)) })
        #expect(!(0..<10_000).contains { BernoulliSampler(probability: 0, seed: 5).keeps(UInt64($0)) })
    }

    @Test func bernoulliDecisionsDependOnlyOnSeedAndIndex() {
        let sampler = BernoulliSampler(probability: 0.5, seed: 2024)
        let forward = (0..<1_000).map { sampler.keeps(UInt64($0)) }
        let backward = (0..<1_000).reversed().map { sampler.keeps(UInt64($0)) }.reversed()
        #expect(forward == Array(backward))
        #expect(forward == (0..<1_000).map { BernoulliSampler(probability: 0.5, seed: 2024).keeps(UInt64($0)) })
        #expect(forward != (0..<1_000).map { BernoulliSampler(probability: 0.5, seed: 2025).keeps(UInt64($0)) })
        // Runs of kept and dropped records look independent: about half the neighbours agree.
        let agreeing = zip(forward, forward.dropFirst()).filter { $0 == $1 }.count
        #expect((400...600).contains(agreeing), "\(agreeing)")
    }

    let options: [OptionSpec] = [.value("seed", "S", help: ""), .value("fraction", "P", help: "")]

    @Test func seedsAndProbabilitiesAreChecked() throws {
        #expect(try ParsedOptions(arguments: ["--seed", "18446744073709551615"], options: options).seed() == UInt64.max)
        #expect(try ParsedOptions(arguments: ["--seed=0"], options: options).seed() == 0)
        for bad in ["-1", "18446744073709551616", "x", "1.5", ""] {
            #expect(throws: UsageError.self, "\(bad)") { try ParsedOptions(arguments: ["--seed", bad], options: options).seed() }
        }
        #expect(try ParsedOptions(arguments: [], options: options).probability("fraction") == nil)
        for (text, value) in [("0", 0.0), ("1", 1.0), ("0.25", 0.25), (".5", 0.5), ("1e-3", 0.001), ("1.0", 1.0)] {
            #expect(try ParsedOptions(arguments: ["--fraction", text], options: options).probability("fraction") == value)
        }
        for bad in ["-0.1", "-0", "+0.5", "1.01", "2", "nan", "inf", "0x1p-3", "", "half", " 0.5"] {
            #expect(throws: UsageError.self, "\(bad)") { try ParsedOptions(arguments: ["--fraction", bad], options: options).probability("fraction") }
        }
    }
}
