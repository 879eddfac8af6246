import Foundation
import Synchronization
import Testing
@testable import WeirCore

/// The seam for I/O-bound per-record stages: N records in flight, input order within a
/// bounded window, or completion order.
@Suite struct ConcurrentRecordsTests {
    /// What the workers saw: records in flight now and at most, and the highest record started.
    final class Watch: Sendable {
        let inFlight = Atomic<Int>(0)
        let maxInFlight = Atomic<Int>(0)
        let highestStarted = Atomic<Int>(-1)
        let startedWhileSlowWaited = Atomic<Int>(-1)
        let slowDone = Atomic<Bool>(false)
        let othersFinished = Atomic<Int>(0)
    }

    /// Echoes each number after a pause; a multiple of 97 is a bad record; `slow` sleeps long.
    struct Pause: AsyncRecordTransform {
        let watch: Watch
        var slow: Int? = nil
        /// When set, the slow record waits until this many others have finished (at most 60 s)
        /// instead of sleeping 3 s, so a loaded machine cannot make the others look held back.
        var slowWaitsForOthers: Int? = nil
        mutating func process(_ record: [UInt8], at position: RecordPosition, into output: inout [UInt8]) async throws(RecordError) -> Int {
            let number = Int(String(decoding: record, as: UTF8.self))!
            let now = watch.inFlight.add(1, ordering: .relaxed).newValue
            watch.maxInFlight.max(now, ordering: .relaxed)
            watch.highestStarted.max(number, ordering: .relaxed)
            if slow != nil, !watch.slowDone.load(ordering: .relaxed) { watch.startedWhileSlowWaited.max(number, ordering: .relaxed) }
            defer { watch.inFlight.subtract(1, ordering: .relaxed) }
            if number == slow, let others = slowWaitsForOthers {
                let deadline = SystemIO.monotonicSeconds() + 60
                while watch.othersFinished.load(ordering: .relaxed) < others, SystemIO.monotonicSeconds() < deadline {
                    try? await Task.sleep(nanoseconds: 5_000_000)
                }
            } else {
                let pause: UInt64 = number == slow ? 3_000_000_000 : UInt64.random(in: 0...3_000_000)
                try? await Task.sleep(nanoseconds: pause)
            }
            if number == slow { watch.slowDone.store(true, ordering: .relaxed) } else { watch.othersFinished.add(1, ordering: .relaxed) }
            if number % 97 == 96 { throw RecordError("no \(number)") }
            output.append(contentsOf: "\(number)\n".utf8)
            return 1
        }
    }

    func run(records: Int, concurrency: Int, ordered: Bool, slow: Int? = nil, slowWaitsForOthers: Int? = nil) async throws -> (RunOutcome, [Int], Watch) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-concurrent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in").path
        try Data((0..<records).map { "\($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: input))
        var configuration = RuntimeConfiguration()
        configuration.jobs = concurrency
        configuration.writesInCompletionOrder = !ordered
        configuration.errorPolicy = .skip
        configuration.quiet = true
        configuration.inputPaths = [input]
        configuration.outputPath = directory.appendingPathComponent("out").path
        let watch = Watch()
        let source = FileSequenceSource(paths: [input], framer: LineFramer(maxRecords: 1), decoder: nil, maxRecordBytes: 1 << 20)
        let runtime = StageRuntime(configuration: configuration, executableName: "weir-test")
        let outcome = await runtime.run(source: source, sink: PassThroughSink()) { AsyncRecordChunkTransform(Pause(watch: watch, slow: slow, slowWaitsForOthers: slowWaitsForOthers)) }
        let text = try String(contentsOf: directory.appendingPathComponent("out"), encoding: .utf8)
        return (outcome, text.split(separator: "\n").map { Int($0)! }, watch)
    }

    @Test func recordsStayInInputOrderWithNInFlight() async throws {
        let (outcome, numbers, watch) = try await run(records: 600, concurrency: 16, ordered: true)
        let expected = (0..<600).filter { $0 % 97 != 96 }
        #expect(numbers == expected)
        #expect(outcome.counts.read == 600)
        #expect(outcome.counts.written == expected.count)
        #expect(outcome.counts.bad == 600 - expected.count)
        #expect(watch.maxInFlight.load(ordering: .relaxed) == 16)
    }

    @Test func completionOrderWritesEveryRecordOnce() async throws {
        let (outcome, numbers, _) = try await run(records: 600, concurrency: 16, ordered: false)
        let expected = (0..<600).filter { $0 % 97 != 96 }
        #expect(numbers.sorted() == expected)
        #expect(numbers != expected, "random pauses should reorder some records")
        #expect(outcome.counts.read == outcome.counts.written + outcome.counts.bad)
    }

    @Test func aSlowRecordHoldsBackAtMostTheWindow() async throws {
        let (_, numbers, watch) = try await run(records: 400, concurrency: 8, ordered: true, slow: 10)
        #expect(numbers == (0..<400).filter { $0 % 97 != 96 })
        // While record 10 waits, the reader ships at most the window (2 × 8 + 1 chunks in
        // flight, plus what the source holds) past it.
        let reached = watch.startedWhileSlowWaited.load(ordering: .relaxed)
        #expect(reached >= 10 + 8 && reached <= 10 + 2 * 8 + 1 + 2, "started up to \(reached) while record 10 waited")
    }

    @Test func aSlowRecordHoldsNothingBackInCompletionOrder() async throws {
        // Record 10 finishes only after the 199 others have: in completion order nothing waited
        // for it (it is among the last two written: the last other may still be on its way out).
        let (_, numbers, _) = try await run(records: 200, concurrency: 8, ordered: false, slow: 10, slowWaitsForOthers: 199)
        #expect(numbers.count == 198)
        #expect(numbers.suffix(2).contains(10), "record 10 written at \(numbers.firstIndex(of: 10) ?? -1) of \(numbers.count)")
    }
}
