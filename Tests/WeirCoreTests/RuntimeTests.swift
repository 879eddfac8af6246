import Foundation
import Testing
@testable import WeirCore

@Suite struct CommandLineTests {
    let options: [OptionSpec] = [
        .flag("quiet", short: "q", help: ""), .flag("invert", short: "v", help: ""),
        .value("output", short: "o", "FILE", help: ""), .value("arg", "NAME VALUE", repeatable: true, arity: 2, help: ""),
        .value("jobs", short: "j", "N", help: ""),
    ]

    @Test func longShortAndInlineForms() throws {
        let parsed = try ParsedOptions(arguments: ["-qv", "--output=x.json", "-j4", "--arg", "a", "1", "--arg", "b", "2", "in.json", "-", "--", "-o"], options: options)
        #expect(parsed.flag("quiet") && parsed.flag("invert"))
        #expect(parsed.value("output") == "x.json")
        #expect(try parsed.integer("jobs", default: 1, range: 1...256) == 4)
        #expect(parsed.values("arg") == ["a", "1", "b", "2"])
        #expect(parsed.operands == ["in.json", "-", "-o"])
    }

    @Test func unknownOptionSuggestsTheClosest() {
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["--outptu", "x"], options: options) }
        do { _ = try ParsedOptions(arguments: ["--outptu"], options: options) } catch {
            #expect(error.message.contains("did you mean '--output'"))
        }
    }

    @Test func missingValuesAndRepeatsAreUsageErrors() {
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["-o"], options: options) }
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["--arg", "only-name"], options: options) }
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["-o", "a", "-o", "b"], options: options) }
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["--quiet=yes"], options: options) }
    }

    @Test func byteSizesAndChoices() throws {
        let parsed = try ParsedOptions(arguments: ["--output", "16M"], options: options)
        #expect(try parsed.byteSize("output", default: 1, range: 1...(1 << 30)) == 16 << 20)
        #expect(throws: UsageError.self) { try parsed.choice("output", ["a", "b"], default: "a") }
    }

    @Test func negativeNumbersAreOperandsWhenTheStageSaysSo() throws {
        let options: [OptionSpec] = [.value("step", "S", help: ""), .flag("quiet", short: "q", help: "")]
        let parsed = try ParsedOptions(arguments: ["-3", "-.5", "--step", "-1", "-q", "-1e3"], options: options, negativeNumbersAreOperands: true)
        #expect(parsed.operands == ["-3", "-.5", "-1e3"])
        #expect(parsed.value("step") == "-1")
        #expect(parsed.flag("quiet"))
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["-3"], options: options) }
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["-x"], options: options, negativeNumbersAreOperands: true) }
    }

    /// The value of `--jobs` given as `text`, or the usage error's message.
    func integer(_ text: String, range: ClosedRange<Int>) -> Result<Int, UsageError> {
        Result { () throws(UsageError) in try ParsedOptions(arguments: ["--jobs", text], options: options).integer("jobs", default: -7, range: range) }
    }

    /// The value of `--output` given as `text` read as a byte size, or the usage error.
    func byteSize(_ text: String, range: ClosedRange<Int>) -> Result<Int, UsageError> {
        Result { () throws(UsageError) in try ParsedOptions(arguments: ["--output", text], options: options).byteSize("output", default: -7, range: range) }
    }

    @Test func integersOutsideTheirRangeAreUsageErrors() throws {
        #expect(try ParsedOptions(arguments: [], options: options).integer("jobs", default: 3, range: 1...256) == 3)
        for (text, value) in [("1", 1), ("256", 256), ("+12", 12), ("0", nil), ("257", nil), ("-1", nil), ("4611686018427387904", nil),
                              ("99999999999999999999", nil), ("", nil), ("4x", nil), (" 4", nil)] as [(String, Int?)] {
            #expect((try? integer(text, range: 1...256).get()) == value, "'\(text)'")
        }
        guard case .failure(let error) = integer("10000000", range: 1...256) else { Issue.record("accepted"); return }
        #expect(error.message == "option '--jobs' takes a whole number from 1 to 256, not '10000000'")
        #expect(try integer("-5", range: -10...10).get() == -5)
    }

    @Test func byteSizesAreOverflowCheckedAndInTheirRange() throws {
        let range = 1...(1 << 30)
        #expect(try ParsedOptions(arguments: [], options: options).byteSize("output", default: 64 << 20, range: range) == 64 << 20)
        let cases: [(String, Int?)] = [
            ("1", 1), ("4096", 4096), ("64k", 64 << 10), ("64K", 64 << 10), ("16m", 16 << 20), ("1G", 1 << 30), ("1024M", 1 << 30),
            ("1025M", nil), ("1073741825", nil), ("2G", nil), ("0", nil), ("0K", nil), ("-1K", nil), ("", nil), ("K", nil), ("1T", nil), ("1.5M", nil),
            // Each of these overflows Int when multiplied (or parsed): never a trap.
            ("8589934592G", nil), ("9223372036854775807K", nil), ("9223372036854775807", nil), ("99999999999999999999M", nil),
        ]
        for (text, value) in cases {
            #expect((try? byteSize(text, range: range).get()) == value, "'\(text)'")
        }
        guard case .failure(let error) = byteSize("8589934592G", range: range) else { Issue.record("accepted"); return }
        #expect(error.message == "option '--output' takes a size from 1 to 1G (such as 4096, 64K or 16M), not '8589934592G'")
    }

    @Test func rangesAreWrittenAsHelpStatesThem() {
        #expect(ParsedOptions.rangeText(1...256) == "1 to 256")
        #expect(ParsedOptions.sizeRangeText(1...(1 << 30)) == "1 to 1G")
        #expect([0, 1000, 1536, 4096, 64 << 20, 3 << 30].map(ParsedOptions.sizeText) == ["0", "1000", "1536", "4K", "64M", "3G"])
        // The common options state the ranges they are parsed with.
        #expect(CommonOptions.jobs.help.contains(ParsedOptions.rangeText(CommonOptions.jobsRange)))
        #expect(CommonOptions.maxLineBytes.help.contains("1 to 1G"))
    }

    @Test func helpAndManPageShowEveryOption() {
        let spec = StageSpec(name: "demo", summary: "do a thing", description: "Does it.\n\nTwice.", options: [options[3]],
                             examples: [StageExample("An example", command: "weir-demo", input: "{}\n", output: "{}\n")])
        let help = HelpRenderer.helpText(spec)
        #expect(help.hasPrefix("Usage: weir-demo [OPTIONS] [FILE...]\nDo a thing.\n"))
        for option in spec.allOptions { #expect(help.contains("--\(option.long)")) }
        #expect(help.contains("    < {}\n    > {}\n"))
        let man = HelpRenderer.manPage(spec)
        #expect(man.contains(".TH WEIR-DEMO 1"))
        #expect(man.contains("\\-\\-max\\-line\\-bytes"))
    }
}

@Suite struct FramingTests {
    func frame(_ text: String, end: Bool = false) throws -> Int {
        var framer = LineFramer()
        return try Array(text.utf8).withBytes { (buffer) throws(RecordError) in try framer.frame(buffer, isEndOfInput: end).length }
    }

    @Test func lineFramerCutsAfterTheLastNewline() throws {
        #expect(try frame("{\"a\":1}\n{\"a\"") == 8)
        #expect(try frame("{\"a\":1}") == 0)
        #expect(try frame("{\"a\":1}", end: true) == 7)
    }

    @Test func lineCounterAndBlankLines() {
        #expect(Array("a\nb\n\nc".utf8).withUnsafeBytes { LineCounter.count($0) } == 3)
        #expect(Array(" \t\r".utf8).withUnsafeBytes { LineCounter.isBlank($0) })
        #expect(!Array(" x ".utf8).withUnsafeBytes { LineCounter.isBlank($0) })
    }
}

/// Drives ``InputReader`` over real files with small chunks and checks what it cuts.
@Suite struct InputReaderTests {
    func read(_ contents: [UInt8], chunkSize: Int, maxRecordBytes: Int = 1 << 20) async throws -> [InputChunk] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("weir-reader-\(UUID().uuidString)")
        try Data(contents).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var reader = InputReader(paths: [url.path], maxRecordBytes: maxRecordBytes)
        reader.chunkSize = chunkSize
        let permits = AsyncSemaphore(permits: 1_000_000)
        final class Box: @unchecked Sendable { var chunks: [InputChunk] = [] }
        let box = Box()
        let total = await reader.run(framer: LineFramer(), decoder: nil, permits: permits) { box.chunks.append($0) }
        #expect(total == box.chunks.count)
        #expect(box.chunks.map(\.sequence) == Array(0..<total))
        return box.chunks
    }

    @Test func chunksHoldWholeLinesWithCorrectLineNumbers() async throws {
        let lines = (1...20_000).map { "{\"n\":\($0),\"pad\":\"\(String(repeating: "x", count: $0 % 37))\"}" }
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        let chunks = try await read(text, chunkSize: 256)
        #expect(chunks.count > 10)
        var rebuilt: [UInt8] = []
        var expectedLine = 1
        for chunk in chunks {
            #expect(chunk.firstLine == expectedLine)
            #expect(chunk.bytes.last == 0x0A)
            expectedLine += chunk.bytes.withUnsafeBytes { LineCounter.count($0) }
            rebuilt += chunk.bytes
        }
        #expect(rebuilt == text)
    }

    @Test func byteOrderMarkIsDroppedAndLastLineNeedsNoNewline() async throws {
        let chunks = try await read([0xEF, 0xBB, 0xBF] + Array("{}\n[]".utf8), chunkSize: 64)
        #expect(chunks.flatMap(\.bytes) == Array("{}\n[]".utf8))
    }

    @Test func overlongRecordIsReportedAndSkippedWithoutBufferingIt() async throws {
        let long = String(repeating: "y", count: 300_000)  // longer than one read, so the reader sees it
        let text = Array("{\"a\":1}\n\"\(long)\"\n{\"a\":3}\n".utf8)
        let chunks = try await read(text, chunkSize: 512, maxRecordBytes: 2048)
        let problems = chunks.compactMap(\.readerProblem)
        #expect(problems.count == 1)
        #expect(problems.first?.line == 2)
        #expect(problems.first?.message.contains("--max-line-bytes") == true)
        #expect((problems.first?.input.count ?? 0) <= 1024)
        let kept = chunks.filter { $0.readerProblem == nil }.flatMap(\.bytes)
        #expect(String(decoding: kept, as: UTF8.self) == "{\"a\":1}\n{\"a\":3}\n")
        #expect(chunks.last?.firstLine == 3)
    }

    @Test func missingFileIsAFatalProblem() async throws {
        let reader = InputReader(paths: ["/nonexistent/weir"], maxRecordBytes: 100)
        final class Box: @unchecked Sendable { var chunks: [InputChunk] = [] }
        let box = Box()
        _ = await reader.run(framer: LineFramer(), decoder: nil, permits: AsyncSemaphore(permits: 10)) { box.chunks.append($0) }
        #expect(box.chunks.count == 1)
        #expect(box.chunks.first?.readerProblem?.isFatal == true)
        #expect(box.chunks.first?.readerProblem?.message.contains("No such file") == true)
    }
}

@Suite struct ConcurrencyPrimitiveTests {
    @Test func orderedResultsComeBackInSequenceWhateverTheDeliveryOrder() async {
        let results = OrderedResults<Int>()
        let order = Array(0..<200).shuffled()
        await withTaskGroup(of: Void.self) { group in
            for sequence in order { group.addTask { results.deliver(sequence, sequence * 10) } }
            group.addTask { results.finish(total: 200) }
            var received: [Int] = []
            while let value = await results.next() { received.append(value) }
            #expect(received == (0..<200).map { $0 * 10 })
        }
    }

    @Test func semaphoreBoundsWorkInFlight() async {
        let permits = AsyncSemaphore(permits: 3)
        final class Counter: @unchecked Sendable {
            let lock = NSLock(); var current = 0; var peak = 0
            func change(_ delta: Int) { lock.withLock { current += delta; peak = max(peak, current) } }
        }
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    await permits.acquire()
                    counter.change(1)
                    await Task.yield()
                    counter.change(-1)
                    permits.release()
                }
            }
        }
        #expect(counter.peak <= 3)
        #expect(counter.current == 0)
    }

    @Test func queueDeliversEverythingOnceThenNil() async {
        let queue = AsyncQueue<Int>()
        final class Box: @unchecked Sendable { let lock = NSLock(); var seen: [Int] = [] }
        let box = Box()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while let value = await queue.receive() { box.lock.withLock { box.seen.append(value) } }
                }
            }
            for value in 0..<1000 { queue.send(value) }
            queue.finish()
        }
        #expect(box.seen.sorted() == Array(0..<1000))
    }
}

@Suite struct ReportingTests {
    @Test func problemMessageHasPositionExcerptAndCaret() {
        let problem = RecordProblem(fileName: "-", line: 3, column: 8, message: "bad", input: Array("{\"a\":1,,}".utf8), outputOffset: 0)
        #expect(ProblemReport.message(for: problem, executableName: "weir-x") == "weir-x: <stdin>:3:8: bad\n  {\"a\":1,,}\n         ^")
    }

    @Test func base64MatchesRFC4648() {
        #expect(String(decoding: Base64.encode(Array("foobar".utf8)), as: UTF8.self) == "Zm9vYmFy")
        #expect(String(decoding: Base64.encode(Array("fo".utf8)), as: UTF8.self) == "Zm8=")
        #expect(String(decoding: Base64.encode([0xFF]), as: UTF8.self) == "/w==")
    }

    @Test func settingAFieldAppendsOrReplacesInPlace() throws {
        var output = Array("x{\"a\":1}".utf8)
        try ObjectEditing.setField("b", to: .bool(true), inCompactObjectFrom: 1, of: &output)
        #expect(String(decoding: output, as: UTF8.self) == "x{\"a\":1,\"b\":true}")
        var replaced = Array("{\"b\":1,\"c\":2}".utf8)
        try ObjectEditing.setField("b", to: .null, inCompactObjectFrom: 0, of: &replaced)
        #expect(String(decoding: replaced, as: UTF8.self) == "{\"b\":null,\"c\":2}")
        var empty = Array("{}".utf8)
        try ObjectEditing.setField("k", to: .number(1), inCompactObjectFrom: 0, of: &empty)
        #expect(String(decoding: empty, as: UTF8.self) == "{\"k\":1}")
        var array = Array("[1]".utf8)
        #expect(throws: RecordError.self) { try ObjectEditing.setField("k", to: .null, inCompactObjectFrom: 0, of: &array) }
    }
}
