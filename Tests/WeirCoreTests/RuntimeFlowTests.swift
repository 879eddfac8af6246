import Foundation
import Testing
@testable import WeirCore

/// Every wait in the runtime resumes when its task is cancelled: no waiter hangs.
@Suite struct CancellationTests {
    @Test func semaphoreWaiterResumesWithoutAPermitWhenCancelled() async {
        let permits = AsyncSemaphore(permits: 0)
        let waiter = Task { await permits.acquire() }
        try? await Task.sleep(nanoseconds: 20_000_000)
        waiter.cancel()
        #expect(await waiter.value == false)
        // The permit count is untouched: a release now is taken by the next acquire.
        permits.release()
        #expect(await permits.acquire() == true)
    }

    @Test func semaphoreAcquireInACancelledTaskReturnsAtOnce() async {
        let permits = AsyncSemaphore(permits: 5)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await permits.acquire()
        }
        #expect(await task.value == false)
    }

    @Test func queueReceiverResumesWithNilWhenCancelled() async {
        let queue = AsyncQueue<Int>()
        let receivers = (0..<3).map { _ in Task { await queue.receive() } }
        try? await Task.sleep(nanoseconds: 20_000_000)
        for receiver in receivers { receiver.cancel() }
        for receiver in receivers { #expect(await receiver.value == nil) }
        // Elements sent later still reach a live receiver.
        queue.send(7)
        #expect(await queue.receive() == 7)
    }

    @Test func orderedResultsWaiterResumesWhenCancelled() async {
        let results = OrderedResults<Int>()
        results.deliver(1, 10)  // sequence 0 never comes
        let waiter = Task { await results.next() }
        try? await Task.sleep(nanoseconds: 20_000_000)
        waiter.cancel()
        #expect(await waiter.value == nil)
    }

    @Test func cancellingAGroupReleasesEveryKindOfWaiter() async {
        let permits = AsyncSemaphore(permits: 0)
        let queue = AsyncQueue<Int>()
        let results = OrderedResults<Int>()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { _ = await permits.acquire() } }
            for _ in 0..<4 { group.addTask { _ = await queue.receive() } }
            group.addTask { _ = await results.next() }
            try? await Task.sleep(nanoseconds: 20_000_000)
            group.cancelAll()
        }
        // Reaching this line is the assertion: the group ended.
        #expect(Bool(true))
    }

    @Test func stopLatchWakesAReaderBlockedOnAPipe() async throws {
        var ends: [Int32] = [-1, -1]
        #expect(SystemIO.makePipe(&ends, nonBlocking: false))
        defer { ends.forEach(SystemIO.closeQuietly) }
        let latch = StopLatch()
        let reader = ends[0]
        let waiter = Task.detached { latch.waitUntilReadable(reader) }
        try await Task.sleep(nanoseconds: 20_000_000)
        latch.fire()
        #expect(await waiter.value == false)
        #expect(latch.isFired)
    }
}

/// The NDJSON framer: linear on long lines, and cut by record count when asked.
@Suite struct LineFramerTests {
    @Test func aLongLineIsScannedOnceAcrossCalls() throws {
        var framer = LineFramer()
        var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        for _ in 0..<8 {
            let framed = try bytes.withBytes { (buffer) throws(RecordError) in try framer.frame(buffer, isEndOfInput: false) }
            #expect(framed.length == 0)
            bytes += [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        }
        bytes += Array("\n{}".utf8)
        let framed = try bytes.withBytes { (buffer) throws(RecordError) in try framer.frame(buffer, isEndOfInput: false) }
        #expect(framed.length == bytes.count - 2)
    }

    @Test func recordCountBoundsAChunk() throws {
        var framer = LineFramer(maxRecords: 3)
        let text = Array("1\n2\n3\n4\n5".utf8)
        var consumed = 0
        var pieces: [String] = []
        while consumed < text.count {
            let rest = Array(text[consumed...])
            let framed = try rest.withBytes { (buffer) throws(RecordError) in try framer.frame(buffer, isEndOfInput: true) }
            #expect(framed.length > 0)
            pieces.append(String(decoding: rest[..<framed.length], as: UTF8.self))
            consumed += framed.length
        }
        #expect(pieces == ["1\n2\n3\n", "4\n5"])
    }

    @Test func theReaderShipsChunksOfAtMostTheAskedRecords() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("weir-records-\(UUID().uuidString)")
        try Data((1...1000).map { "{\"n\":\($0)}\n" }.joined().utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var reader = InputReader(paths: [url.path], maxRecordBytes: 1 << 20)
        reader.recordsPerChunk = 64
        final class Box: @unchecked Sendable { var chunks: [InputChunk] = [] }
        let box = Box()
        _ = await reader.run(framer: LineFramer(maxRecords: 64), decoder: nil, permits: AsyncSemaphore(permits: 1 << 20)) { box.chunks.append($0) }
        let counts = box.chunks.map { $0.bytes.withUnsafeBytes { LineCounter.count($0) } }
        #expect(counts.reduce(0, +) == 1000)
        #expect(counts.allSatisfy { $0 <= 64 })
        #expect(counts.first == 64)
    }
}

/// Drives a whole flow through ``StageRuntime`` with the sources, transforms and sinks
/// a stage would use, writing to a file.
@Suite struct RuntimeFlowTests {
    /// Counts records per worker and merges the counts at the end of input.
    struct CountingTransform: RecordTransform {
        var count = 0
        mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
            count += 1
            return 0
        }
        mutating func merge(_ other: consuming CountingTransform) { count += other.count }
        mutating func finish(into output: inout [UInt8]) throws(RecordError) -> Int {
            output.append(contentsOf: "{\"count\":\(count)}\n".utf8)
            return 1
        }
    }

    /// Copies each record, tagged with its input.
    struct TagTransform: RecordTransform {
        mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
            output.append(contentsOf: "\(position.inputIndex):\(position.line):".utf8)
            output.append(contentsOf: record)
            output.append(0x0A)
            return 1
        }
    }

    /// Numbers 1, 2, … up to a limit.
    struct Numbers: RecordGenerator {
        var next = 1
        let last: Int
        var name: String { "numbers" }
        mutating func generate(into bytes: inout [UInt8], limit: Int) -> Int {
            var made = 0
            while made < limit, next <= last {
                bytes.append(contentsOf: "\(next)\n".utf8)
                next += 1
                made += 1
            }
            return made
        }
    }

    /// Keeps the first `limit` records, then is satisfied.
    struct FirstRecords: RecordStep {
        let limit: Int
        var taken = 0
        mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
            taken += 1
            try output.emit(record)
            if taken == limit { output.satisfy() }
        }
    }

    /// Orders numeric lines.
    struct NumericOrder: MergeOrder {
        func key(of record: UnsafeRawBufferPointer, at position: RecordPosition) throws(RecordError) -> Int {
            guard let number = Int(String(decoding: record, as: UTF8.self)) else { throw RecordError("not a number") }
            return number
        }
        func precedes(_ left: Int, _ right: Int) -> Bool { left < right }
    }

    func run<Source: RecordSource, Transform: RecordTransform, Sink: OutputSink>(
        _ source: Source, sink: Sink, jobs: Int = 3, errorPolicy: RuntimeConfiguration.ErrorPolicy = .skip,
        _ make: @escaping @Sendable () -> Transform
    ) async throws -> (RunOutcome, [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-flow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = RuntimeConfiguration()
        configuration.jobs = jobs
        configuration.errorPolicy = errorPolicy
        configuration.quiet = true
        configuration.outputPath = directory.appendingPathComponent("out").path
        let runtime = StageRuntime(configuration: configuration, executableName: "weir-test")
        let outcome = await runtime.run(source: source, sink: sink) { RecordChunkTransform(make()) }
        let text = (try? String(contentsOf: directory.appendingPathComponent("out"), encoding: .utf8)) ?? ""
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "out" }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        return (outcome, text.split(separator: "\n").map(String.init))
    }

    @Test func workerStatesMergeAndFinishOnceAtTheEnd() async throws {
        let (outcome, lines) = try await run(GeneratedSource(Numbers(last: 100_000), recordsPerChunk: 1000), sink: PassThroughSink()) { CountingTransform() }
        #expect(outcome.status == 0)
        #expect(lines == ["{\"count\":100000}"])
        #expect(outcome.counts.read == 100_000)
        #expect(outcome.counts.dropped == 100_000)
    }

    @Test func aSatisfiedStepStopsAnEndlessSource() async throws {
        let (outcome, lines) = try await run(GeneratedSource(Numbers(last: .max), recordsPerChunk: 100), sink: RecordStepSink(FirstRecords(limit: 5))) { TagTransform() }
        #expect(outcome.status == 0)
        #expect(lines == ["0:1:1", "0:2:2", "0:3:3", "0:4:4", "0:5:5"])
        #expect(outcome.counts.written == 5)
        #expect(outcome.counts.read == outcome.counts.written + outcome.counts.dropped)
    }

    @Test func sortedInputsMergeStablyWithTheirPositions() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-merge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputs = [[1, 4, 4, 9], [2, 4, 10], [], [0, 11]]
        var paths: [String] = []
        for (index, numbers) in inputs.enumerated() {
            let path = directory.appendingPathComponent("in\(index)").path
            try Data(numbers.map { "\($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        var source = MergedSource(paths: paths, framer: LineFramer(), order: NumericOrder(), maxRecordBytes: 1 << 20)
        source.chunkBytes = 8  // many small output chunks
        let (outcome, lines) = try await run(source, sink: PassThroughSink()) { TagTransform() }
        #expect(outcome.status == 0)
        #expect(lines == ["3:1:0", "0:1:1", "1:1:2", "0:2:4", "0:3:4", "1:2:4", "0:4:9", "1:3:10", "3:2:11"])
    }

    @Test func aRecordWithoutAKeyIsReportedWhereItStands() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-merge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("a").path, second = directory.appendingPathComponent("b").path
        try Data("1\nx\n3\n".utf8).write(to: URL(fileURLWithPath: first))
        try Data("2\n".utf8).write(to: URL(fileURLWithPath: second))
        let source = MergedSource(paths: [first, second], framer: LineFramer(), order: NumericOrder(), maxRecordBytes: 1 << 20)
        let (outcome, lines) = try await run(source, sink: PassThroughSink()) { TagTransform() }
        #expect(outcome.status == 0)
        #expect(outcome.counts.bad == 1)
        #expect(lines == ["0:1:1", "1:1:2", "0:3:3"])
        let (failed, _) = try await run(source, sink: PassThroughSink(), errorPolicy: .fail) { TagTransform() }
        #expect(failed.status == 1)
    }

    @Test func interleavedInputsKeepEveryRecordWhole() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-inter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for index in 0..<4 {
            let path = directory.appendingPathComponent("in\(index)").path
            try Data((1...5000).map { "\(index)-\($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let (outcome, lines) = try await run(InterleavedSource(paths: paths, framer: LineFramer(), maxRecordBytes: 1 << 20), sink: PassThroughSink()) { TagTransform() }
        #expect(outcome.status == 0)
        #expect(lines.count == 20_000)
        for index in 0..<4 {
            let own = lines.filter { $0.hasPrefix("\(index):") }
            #expect(own.count == 5000)
            // Each input keeps its order, and its records their line numbers.
            #expect(own.map { String($0.split(separator: ":")[2]) } == (1...5000).map { "\(index)-\($0)" })
            #expect(own.map { Int($0.split(separator: ":")[1])! } == Array(1...5000))
        }
    }
}

/// Runs in one process (these tests) register and forget temporary paths at once.
@Suite struct SignalStopRegistryTests {
    @Test func concurrentRegistrationsNeitherCrashNorLeak() {
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<50 {
                let paths = (0..<100).map { "/nonexistent/weir-registry-\(worker)-\(round)-\($0)" }
                for path in paths { SignalStop.register(path) }
                for path in paths { SignalStop.unregister(path) }
            }
        }
        #expect(SignalStop.registeredPathCount(withPrefix: "/nonexistent/weir-registry-") == 0)
    }
}
