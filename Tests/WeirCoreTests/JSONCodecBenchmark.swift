#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import WeirCore

/// Single-core throughput of the JSON codec's hot paths, printed in MB/s, never asserted.
///
/// Skipped unless `WEIR_CODEC_BENCH=1`; run in release:
/// `WEIR_CODEC_BENCH=1 swift test -c release --filter JSONCodecBenchmark`.
/// Reads `bench-data/retail-200.ndjson` (make it with `bin/gen-data ndjson 200`);
/// `WEIR_CODEC_BENCH_MB` limits how many megabytes of it are used.
@Suite(.serialized, .enabled(if: getenv("WEIR_CODEC_BENCH").map { String(cString: $0) == "1" } ?? false))
struct JSONCodecBenchmark {
    /// The benchmark data and its line ranges.
    struct Corpus {
        var bytes: [UInt8]
        var lines: [Range<Int>]
    }

    static let corpus: Corpus? = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        let path = components.joined(separator: "/") + "/bench-data/retail-200.ndjson"
        guard var bytes = JSONFixtures.readFile(path) else { return nil }
        if let limit = getenv("WEIR_CODEC_BENCH_MB").flatMap({ Int(String(cString: $0)) }), limit << 20 < bytes.count {
            let cut = bytes[..<(limit << 20)].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            bytes.removeSubrange(cut...)
        }
        var lines: [Range<Int>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            if index > start { lines.append(start..<index) }
            start = index + 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
        return Corpus(bytes: bytes, lines: lines)
    }()

    /// The CPU time of this thread in seconds: on a shared machine, wall time would measure the neighbours.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Runs `body` over the corpus `rounds` times and prints the best throughput.
    static func measure(_ name: String, rounds: Int = 3, _ body: (UnsafeRawBufferPointer, [Range<Int>]) -> Int) throws {
        let corpus = try #require(corpus, "bench-data/retail-200.ndjson is missing: run bin/gen-data ndjson 200 > bench-data/retail-200.ndjson")
        var best = Double.infinity
        var check = 0
        for _ in 0..<rounds {
            let start = now()
            check &+= corpus.bytes.withUnsafeBytes { body($0, corpus.lines) }
            best = min(best, now() - start)
        }
        let megabytes = Double(corpus.bytes.count) / 1e6
        let rate = (megabytes / best).rounded()
        print("JSONCodecBenchmark \(name): \(Int(rate)) MB/s (\(Int(megabytes)) MB in \((best * 1000).rounded() / 1000) s, check \(check % 1000))")
    }

    @Test func compact() throws {
        try Self.measure("compact") { bytes, lines in
            var output: [UInt8] = []
            output.reserveCapacity(1 << 20)
            var total = 0
            for line in lines {
                try? JSONCompactor.compact(UnsafeRawBufferPointer(rebasing: bytes[line]), into: &output)
                output.append(0x0A)
                if output.count > 1 << 19 { total &+= output.count; output.removeAll(keepingCapacity: true) }
            }
            return total &+ output.count
        }
    }

    @Test func validate() throws {
        try Self.measure("validate") { bytes, lines in
            var valid = 0
            for line in lines where (try? JSONCompactor.validate(UnsafeRawBufferPointer(rebasing: bytes[line]))) != nil { valid &+= 1 }
            return valid
        }
    }

    @Test func parse() throws {
        try Self.measure("parse") { bytes, lines in
            var objects = 0
            for line in lines {
                if case .object(let object)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[line])) { objects &+= object.count }
            }
            return objects
        }
    }

    @Test func projectOneKey() throws {
        var tree = JSONPathTree.none
        tree.insert(["stock"])
        try Self.measure("parse keeping .stock") { bytes, lines in
            var kept = 0
            for line in lines {
                if case .object(let object)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[line]), keeping: tree) { kept &+= object.count }
            }
            return kept
        }
    }

    @Test func projectNestedKeys() throws {
        var tree = JSONPathTree.none
        tree.insert(["store", "city"])
        tree.insert(["id"])
        try Self.measure("parse keeping .id, .store.city") { bytes, lines in
            var kept = 0
            for line in lines {
                if case .object(let object)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[line]), keeping: tree) { kept &+= object.count }
            }
            return kept
        }
    }

    @Test func writeParsedValues() throws {
        let corpus = try #require(Self.corpus)
        let values: [JSONValue] = corpus.bytes.withUnsafeBytes { bytes in
            corpus.lines.prefix(100_000).compactMap { try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[$0])) }
        }
        let size = corpus.lines.prefix(100_000).reduce(0) { $0 + $1.count }
        var best = Double.infinity
        for _ in 0..<3 {
            let start = Self.now()
            var output: [UInt8] = []
            output.reserveCapacity(size + values.count)
            for value in values { JSONWriter.write(value, into: &output) }
            best = min(best, Self.now() - start)
        }
        print("JSONCodecBenchmark write: \(Int((Double(size) / 1e6 / best).rounded())) MB/s")
    }

    @Test func splitArray() throws {
        // The corpus as one top-level array, fed in 256 KiB reads as weir-from-json does.
        let corpus = try #require(Self.corpus)
        var text: [UInt8] = [UInt8(ascii: "[")]
        text.reserveCapacity(corpus.bytes.count + 2)
        for (index, line) in corpus.lines.enumerated() {
            if index > 0 { text.append(contentsOf: [UInt8(ascii: ","), 0x0A]) }
            text.append(contentsOf: corpus.bytes[line])
        }
        text.append(UInt8(ascii: "]"))
        var best = Double.infinity
        var records = 0
        for _ in 0..<3 {
            let start = Self.now()
            records = text.withUnsafeBytes { all in
                var splitter = JSONTextSplitter()
                var offset = 0
                var count = 0
                let read = 256 * 1024
                while true {
                    // The unconsumed bytes plus the next read (records are far shorter than a read).
                    let end = min(offset + read, all.count)
                    let output = splitter.split(UnsafeRawBufferPointer(rebasing: all[offset..<end]), isEndOfInput: end == all.count)
                    count += output.records.count
                    offset += output.consumed
                    if end == all.count { break }
                }
                return count
            }
            best = min(best, Self.now() - start)
        }
        print("JSONCodecBenchmark split: \(Int((Double(text.count) / 1e6 / best).rounded())) MB/s (\(records) records)")
    }
}
