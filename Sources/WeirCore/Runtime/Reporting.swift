/// Formats bad-record messages: `weir-NAME: FILE:LINE:COL: what is wrong`, then an excerpt.
package enum ProblemReport {
    /// The message for `problem`, with an excerpt and a caret when the record is one line.
    package static func message(for problem: RecordProblem, executableName: String) -> String {
        let file = InputName.display(problem.fileName)
        var text = "\(executableName): \(file):\(problem.line)"
        if let column = problem.column { text += ":\(column)" }
        text += ": \(problem.message)"
        if let excerpt = excerpt(problem.input, column: problem.column) { text += "\n" + excerpt }
        return text
    }

    /// Up to 72 bytes of a one-line record around `column`, with a caret under it.
    private static func excerpt(_ input: [UInt8], column: Int?) -> String? {
        guard !input.isEmpty, !input.contains(0x0A) else { return nil }
        let target = max(0, min((column ?? 1) - 1, input.count))
        var start = max(0, target - 30)
        while start > 0, start < input.count, input[start] & 0xC0 == 0x80 { start -= 1 }
        var end = min(input.count, start + 72)
        while end < input.count, input[end] & 0xC0 == 0x80 { end += 1 }
        let shown = input[start..<end].map { $0 < 0x20 ? UInt8(ascii: " ") : $0 }
        let line = String(decoding: shown, as: UTF8.self)
        var text = "  " + (start > 0 ? "…" : "") + line + (end < input.count ? "…" : "")
        guard column != nil else { return text }
        let caretOffset = String(decoding: input[start..<max(start, target)].map { $0 < 0x20 ? UInt8(ascii: " ") : $0 }, as: UTF8.self).count
        text += "\n  " + String(repeating: " ", count: caretOffset + (start > 0 ? 1 : 0)) + "^"
        return text
    }
}

/// The `--progress` line on standard error: redrawn in place on a terminal, else at most
/// once a second.
struct ProgressReporter {
    private let executableName: String
    private let totalBytes: Int?
    private let isTerminal = SystemIO.isTerminal(SystemIO.standardError)
    private let startTime = SystemIO.monotonicSeconds()
    private var lastReport = 0.0
    private let counters: [StageCounter]

    init(executableName: String, totalBytes: Int?, counters: [StageCounter] = []) {
        self.executableName = executableName
        self.totalBytes = totalBytes
        self.counters = counters
    }

    /// The summed size of the inputs when all are regular files, not compressed (the bytes
    /// read count what a gzip file holds, not its size on disk).
    static func totalSize(of paths: [String]) -> Int? {
        guard !paths.isEmpty else { return nil }
        var total = 0
        for path in paths {
            guard path != "-", let descriptor = try? SystemIO.openForReading(path) else { return nil }
            defer { SystemIO.closeQuietly(descriptor) }
            guard let size = SystemIO.regularFileSize(descriptor) else { return nil }
            if GzipFormat.fileStartsMember(descriptor) { return nil }
            total += size
        }
        return total
    }

    mutating func update(_ counts: RunCounts, final: Bool) {
        let now = SystemIO.monotonicSeconds()
        let interval = isTerminal ? 0.2 : 1.0
        guard final || now - lastReport >= interval else { return }
        lastReport = now
        let elapsed = max(now - startTime, 0.001)
        var line = "\(executableName): \(counts.read) records, \(Self.megabytes(counts.bytesRead)) MB, \(Int(Double(counts.read) / elapsed)) records/s"
        if let totalBytes, totalBytes > 0 {
            line += ", \(min(100, counts.bytesRead * 100 / totalBytes))%"
        }
        for counter in counters {
            let value = counter.value
            line += ", \(counter.name.replacingUnderscores) \(value)"
            if counter.showsRate { line += " (\(Int(Double(value) / elapsed))/s)" }
        }
        if isTerminal {
            SystemIO.printError("\r\u{1B}[K" + line, terminator: final ? "\n" : "")
        } else {
            SystemIO.printError(line + "\n")
        }
    }

    private static func megabytes(_ bytes: Int) -> String {
        let tenths = bytes / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}

private extension String {
    /// `in_flight` as `in flight`, for the progress line.
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
