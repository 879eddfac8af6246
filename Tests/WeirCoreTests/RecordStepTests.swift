import Foundation
import Synchronization
import Testing
@testable import WeirCore

/// A ``RecordStep`` that is satisfied ends the run: before any input when it needs none, and
/// without reporting the bad records it no longer needs.
@Suite struct RecordStepTests {
    /// Counts how often a generator was asked for records.
    final class CallCount: Sendable {
        let value = Atomic<Int>(0)
    }

    struct CountingGenerator: RecordGenerator {
        let calls: CallCount
        var name: String { "<test>" }
        mutating func generate(into bytes: inout [UInt8], limit: Int) -> Int {
            calls.value.add(1, ordering: .relaxed)
            bytes.append(contentsOf: "{}\n".utf8)
            return 1
        }
    }

    /// Writes records until it has `count` of them.
    struct First: RecordStep {
        let count: Int
        var taken = 0
        mutating func begin(output: inout StepOutput) throws(IOError) {
            if count == 0 { output.satisfy() }
        }
        mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
            try output.emit(record)
            taken += 1
            if taken >= count { output.satisfy() }
        }
    }

    struct Compact: RecordTransform {
        func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
            try RecordDecoding.compact(record, into: &output)
            output.append(0x0A)
            return 1
        }
    }

    private func configuration(output: URL, errors: RuntimeConfiguration.ErrorPolicy) -> RuntimeConfiguration {
        var configuration = RuntimeConfiguration()
        configuration.outputPath = output.path
        configuration.jobs = 2
        configuration.errorPolicy = errors
        return configuration
    }

    @Test func aStepSatisfiedAtTheStartEndsTheRunBeforeAnyInput() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-step-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.ndjson")
        let calls = CallCount()
        let runtime = StageRuntime(configuration: configuration(output: output, errors: .fail), executableName: "weir-test")
        let outcome = await runtime.run(source: GeneratedSource(CountingGenerator(calls: calls)), sink: RecordStepSink(First(count: 0))) { PassThroughLines() }
        #expect(outcome.status == 0)
        #expect(calls.value.load(ordering: .relaxed) == 0)
        #expect(outcome.counts.read == 0)
        #expect(try Data(contentsOf: output).isEmpty)
    }

    @Test(arguments: [RuntimeConfiguration.ErrorPolicy.fail, .skip])
    func badRecordsAfterTheStepIsSatisfiedAreDroppedNotReported(errors: RuntimeConfiguration.ErrorPolicy) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-step-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.ndjson"), output = directory.appendingPathComponent("out.ndjson")
        try Data("{ \"a\": 1 }\nnot json\n{\"a\":3}\n".utf8).write(to: input)
        let runtime = StageRuntime(configuration: configuration(output: output, errors: errors), executableName: "weir-test")
        let source = FileSequenceSource(paths: [input.path], framer: LineFramer(), maxRecordBytes: 1 << 20)
        let outcome = await runtime.run(source: source, sink: RecordStepSink(First(count: 1))) { RecordChunkTransform(Compact()) }
        #expect(outcome.status == 0)
        #expect(outcome.counts.bad == 0)
        #expect(outcome.counts.written == 1)
        // --errors fail stops the chunk at the bad record; skip reads on to the end of the chunk.
        #expect(outcome.counts.read == (errors == .fail ? 2 : 3))
        #expect(outcome.counts.written + outcome.counts.dropped + outcome.counts.bad == outcome.counts.read)
        #expect(String(decoding: try Data(contentsOf: output), as: UTF8.self) == "{\"a\":1}\n")
        #expect(outcome.counts.bytesWritten == 8)
    }

    /// Holds every record back and writes only the last one at the end.
    struct Last: RecordStep {
        var last: [UInt8] = []
        mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
            if !last.isEmpty { output.drop() }
            last = Array(record)
        }
        mutating func finish(output: inout StepOutput) throws(IOError) {
            if !last.isEmpty { try output.emit(last) }
        }
    }

    @Test func bytesWrittenAreWhatTheStepWrote() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-step-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.ndjson"), output = directory.appendingPathComponent("out.ndjson")
        try Data((1...5000).map { "{\"n\":\($0)}\n" }.joined().utf8).write(to: input)
        let runtime = StageRuntime(configuration: configuration(output: output, errors: .fail), executableName: "weir-test")
        let source = FileSequenceSource(paths: [input.path], framer: LineFramer(), maxRecordBytes: 1 << 20)
        let outcome = await runtime.run(source: source, sink: RecordStepSink(Last())) { RecordChunkTransform(Compact()) }
        #expect(outcome.status == 0)
        #expect(String(decoding: try Data(contentsOf: output), as: UTF8.self) == "{\"n\":5000}\n")
        #expect(outcome.counts.bytesWritten == 11)
        #expect(outcome.counts.written == 1 && outcome.counts.dropped == 4999)
    }
}
