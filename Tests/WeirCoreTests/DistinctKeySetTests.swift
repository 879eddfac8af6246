import Testing
@testable import WeirCore

/// ``KeyIdentity``, ``MurmurHash3``, ``DistinctKeySet`` and ``RecordArena``.
@Suite struct DistinctKeySetTests {
    private func insert(_ set: inout DistinctKeySet, _ key: String) -> (ordinal: Int, inserted: Bool) {
        Array(key.utf8).withUnsafeBytes { set.insert($0) }
    }

    private func hex(_ text: String) -> String {
        let (h1, h2) = Array(text.utf8).withUnsafeBytes { MurmurHash3.hash128($0) }
        return String(h1, radix: 16) + " " + String(h2, radix: 16)
    }

    @Test func murmurHashMatchesPublishedVectors() {
        #expect(hex("") == "0 0")
        #expect(hex("hello") == "cbd8a7b341bd9b02 5b1e906a48ae1d19")
        #expect(hex("The quick brown fox jumps over the lazy dog") == "e34bbc7bbc071b6c 7a433ca9c49a9347")
    }

    @Test func shortKeysAreTheirOwnIdentity() {
        for text in ["", "a", "\"Lyon\"", "123456789012345"] {
            let identity = Array(text.utf8).withUnsafeBytes { KeyIdentity(of: $0) }
            #expect(identity.isInline)
            #expect(identity.inlineBytes == Array(text.utf8))
        }
        let long = Array("1234567890123456".utf8).withUnsafeBytes { KeyIdentity(of: $0) }
        #expect(!long.isInline && long.inlineBytes == nil)
        // A short key and its zero-padded form differ (the length is part of the identity).
        let a = [UInt8(1)].withUnsafeBytes { KeyIdentity(of: $0) }, b = [UInt8(1), 0].withUnsafeBytes { KeyIdentity(of: $0) }
        #expect(a != b)
    }

    @Test func numbersKeysInFirstSeenOrder() {
        var set = DistinctKeySet()
        let long = String(repeating: "x", count: 40)
        let results = ["a", "b", "a", long, "c", long, "b"].map { insert(&set, $0) }
        #expect(results.map(\.ordinal) == [0, 1, 0, 2, 3, 2, 1])
        #expect(results.map(\.inserted) == [true, true, false, true, true, false, false])
        #expect(set.count == 4)
        #expect(set.key(2) == Array(long.utf8))
        #expect(set.key(1) == Array("b".utf8))
        #expect(Array("c".utf8).withUnsafeBytes { set.contains($0) })
        #expect(!Array("d".utf8).withUnsafeBytes { set.contains($0) })
    }

    @Test func exactModeNeverMergesCollidingKeys() {
        var set = DistinctKeySet(mode: .exact)
        set.forcesHashCollisionsForTesting = true
        let keys = (0..<50).map { "a long key that collides number \($0)" }
        for key in keys { #expect(insert(&set, key).inserted) }
        for (index, key) in keys.enumerated() { let result = insert(&set, key); #expect(result.ordinal == index && !result.inserted) }
        #expect(set.count == 50)
        #expect(set.key(7) == Array(keys[7].utf8))
    }

    @Test func hashedModeKeepsNoTextForLongKeys() {
        var exact = DistinctKeySet(mode: .exact), hashed = DistinctKeySet(mode: .hashed)
        for index in 0..<20_000 {
            let key = "{\"id\":\(index),\"name\":\"a record long enough to be hashed\"}"
            _ = insert(&exact, key)
            _ = insert(&hashed, key)
            _ = insert(&hashed, key)
        }
        #expect(hashed.count == 20_000 && exact.count == 20_000)
        #expect(hashed.memoryBytes * 2 < exact.memoryBytes)
        #expect(hashed.key(5) == nil)
        // Short keys stay exact in hashed mode.
        _ = insert(&hashed, "short")
        #expect(hashed.key(20_000) == Array("short".utf8))
        // By construction: a forced collision merges keys in hashed mode (what the docs state).
        var colliding = DistinctKeySet(mode: .hashed)
        colliding.forcesHashCollisionsForTesting = true
        _ = insert(&colliding, String(repeating: "a", count: 20))
        #expect(!insert(&colliding, String(repeating: "b", count: 20)).inserted)
    }

    @Test func growsPastManyKeys() {
        var set = DistinctKeySet()
        for index in 0..<300_000 { #expect(insert(&set, "k\(index)").ordinal == index) }
        for index in stride(from: 0, to: 300_000, by: 997) { let result = insert(&set, "k\(index)"); #expect(result.ordinal == index && !result.inserted) }
        #expect(set.count == 300_000)
    }

    @Test func recordArenaGivesRecordsBack() {
        var arena = RecordArena()
        for text in ["{\"a\":1}", "", "[2]"] { Array(text.utf8).withUnsafeBytes { _ = arena.append($0) } }
        #expect(arena.count == 3)
        #expect(arena.withRecord(0) { Array($0) } == Array("{\"a\":1}".utf8))
        #expect(arena.withRecord(1) { $0.count } == 0)
        #expect(arena.withRecord(2) { Array($0) } == Array("[2]".utf8))
    }
}
