import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Reads the input files in order and cuts them into ``InputChunk``s of whole records.
///
/// Large `read(2)` calls go straight into each chunk's own buffer; only the incomplete
/// record at the end of a read is copied into the next chunk. A chunk is shipped when it
/// reaches ``chunkSize`` (the first chunks of a file smaller, doubling from 16 KiB, so the
/// first records of a pipeline come out at once) or when no more input is ready right now (so `tail -f | weir-…`
/// sees records promptly). A record longer than `maxRecordBytes` is never buffered whole:
/// it is reported as a problem and skipped.
///
/// An input that starts with the gzip magic bytes (`1f 8b`), whatever its name, is read
/// through a ``GzipInputStream`` instead of its descriptor: decompressed on a thread of its
/// own, below the decoder and the framer, so every stage reads `.gz` files and gzip on
/// standard input. An input that cannot be read to its end (a read error, damaged or
/// truncated gzip data) first gives every whole record before the damage, then ends with a
/// fatal problem naming the file (and for gzip the compressed byte offset).
package struct InputReader: Sendable {
    /// The target size of a chunk in bytes.
    package var chunkSize = 256 * 1024
    /// The longest record accepted (`--max-line-bytes`).
    package var maxRecordBytes: Int
    /// The input files (`-` is standard input).
    package var paths: [String]

    package init(paths: [String], maxRecordBytes: Int) {
        self.paths = paths.isEmpty ? ["-"] : paths
        self.maxRecordBytes = maxRecordBytes
    }

    /// How many bytes of a too-long record are kept for its report.
    private static let problemExcerptBytes = 1024

    /// Reads every file, calling `ship` with each chunk after taking a permit from `permits`.
    /// Returns the number of chunks shipped.
    ///
    /// Every chunk is tagged with its input's index: `inputIndex` plus the file's place in
    /// `paths`, so positions order records across files read one after another. The reader runs on the shared pool and never
    /// blocks a thread there: before it reads a pipe, FIFO or terminal that has nothing
    /// ready, it suspends and a thread of its own waits in `poll(2)` together with `latch`
    /// (``StopLatch/readable(_:on:)``), so a stopped run wakes a reader of a slow input at
    /// once; the reader then ships nothing more. Input that is ready (the usual case in a
    /// busy pipeline) costs no hand-off at all. A cancelled task stops too.
    package func run<Framer: RecordFramer>(
        framer: Framer, decoder: (any InputDecoder)?, permits: AsyncSemaphore, latch: StopLatch? = nil,
        inputIndex: Int = 0, ship: (InputChunk<Framer.Context>) -> Void
    ) async -> Int {
        var framer = framer
        var decoder = decoder
        var sequence = 0
        var pathIndex = 0
        func send(_ chunk: InputChunk<Framer.Context>) {
            var chunk = chunk
            chunk.sequence = sequence
            chunk.inputIndex = inputIndex + pathIndex
            ship(chunk)
            sequence += 1
        }
        for (index, path) in paths.enumerated() {
            pathIndex = index
            guard await permits.acquire() else { break }
            let descriptor: Int32
            do throws(IOError) {
                if path == "-" {
                    guard SystemIO.standardInputIsOpen else { throw IOError(code: EBADF, context: "standard input is closed") }
                    descriptor = SystemIO.standardInput
                } else if SystemIO.mayBlock(path: path), let latch {
                    // Opening a FIFO waits for its writer: on a thread of its own, and given
                    // up (the descriptor closed when it comes) if the run stops first.
                    let opened = await latch.perform(on: DispatchQueue(label: "weir.open")) {
                        Result { () throws(IOError) in try SystemIO.openForReading(path) }
                    } discard: { result in
                        if case .success(let descriptor) = result { SystemIO.closeQuietly(descriptor) }
                    }
                    guard let opened else { break }
                    descriptor = try opened.get()
                } else {
                    descriptor = try SystemIO.openForReading(path)
                }
            } catch {
                send(problemChunk(sequence: sequence, path: path, line: 0, message: error.description, isFatal: true))
                continue
            }
            permits.release()
            framer.beginFile(name: path)
            decoder?.beginFile(name: path)
            let fileSize = SystemIO.regularFileSize(descriptor)
            var file = FileState(descriptor: descriptor, path: path, waitsForInput: fileSize == nil, latch: latch)
            file.chunkTarget = min(file.chunkTarget, chunkSize)
            await readFile(&file, framer: &framer, decoder: &decoder, fileSize: fileSize, permits: permits, send: send)
            if let gzip = file.gzip {
                gzip.close()  // its thread closes the descriptor
            } else if path != "-" {
                SystemIO.closeQuietly(descriptor)
            }
            if file.stopped || Task.isCancelled { break }
        }
        return sequence
    }

    private struct FileState {
        let descriptor: Int32
        let path: String
        var pending: [UInt8] = []
        var endOfInput = false
        var line = 1
        var atFileStart = true
        var rawBuffer: [UInt8] = []
        /// True for pipes and terminals: a read may block, so it waits with the latch first.
        var waitsForInput: Bool
        var latch: StopLatch?
        /// The thread that waits for this input when nothing is ready (made on first need).
        var waiter: DispatchQueue? = nil
        /// Set when the run stopped while this file was being read.
        var stopped = false
        /// True after a frame found no record end: the next fill reads at least as much again.
        var needsMore = false
        /// True when the last frame stopped before the end of `pending` (a framer with
        /// `maxRecords`, or a partial record after the last whole one): frame what is pending
        /// before reading more, or a framer that cuts small chunks would read the whole input
        /// into `pending` (and wait for input it does not need yet).
        var framedShort = false
        /// The size the next chunk aims at: small at first, doubling up to ``chunkSize``.
        var chunkTarget = 16 * 1024
        /// True once the first bytes were checked for the gzip magic.
        var sniffed = false
        /// The decompressed stream, read instead of the descriptor, when the input is gzip.
        var gzip: GzipInputStream? = nil
        /// Why the input cannot be read further (a read error, damaged gzip data): reported,
        /// ending the file, once the whole records already read are shipped.
        var failure: String? = nil

        init(descriptor: Int32, path: String, waitsForInput: Bool, latch: StopLatch?) {
            self.descriptor = descriptor
            self.path = path
            self.waitsForInput = waitsForInput
            self.latch = latch
        }
    }

    private func readFile<Framer: RecordFramer>(
        _ file: inout FileState, framer: inout Framer, decoder: inout (any InputDecoder)?, fileSize: Int?,
        permits: AsyncSemaphore, send: (InputChunk<Framer.Context>) -> Void
    ) async {
        while true {
            guard await permits.acquire() else {
                file.stopped = true
                return
            }
            // Fill: at least one read when more input may come, then more while it is ready.
            // After a frame that found no record end, read at least as much again as is
            // pending, so one long record costs linear time, not quadratic.
            let framesFirst = file.framedShort || file.failure != nil
            file.framedShort = false
            if !framesFirst {
                guard await waitForInput(&file) else {
                    permits.release()
                    return
                }
            }
            do throws(RecordError) {
                if !file.endOfInput, !framesFirst {
                    let target = file.needsMore ? max(file.chunkTarget, file.pending.count * 2) : file.chunkTarget
                    try fill(&file, decoder: &decoder, target: max(target, file.pending.count + 1))
                }
            } catch {
                file.failure = error.message
            }
            if file.stopped {
                permits.release()
                return
            }
            file.needsMore = false
            if file.pending.isEmpty && file.endOfInput {
                // One last call lets a framer report what only the end reveals (an unclosed array).
                do throws(RecordError) {
                    _ = try [UInt8]().withBytes { (empty) throws(RecordError) in try framer.frame(empty, isEndOfInput: true) }
                    permits.release()
                } catch {
                    var problem: InputChunk<Framer.Context> = problemChunk(sequence: 0, path: file.path, line: error.absoluteLine ?? file.line, message: error.message, isFatal: false)
                    problem.readerProblem?.column = error.column
                    send(problem)
                }
                return
            }
            let framed: FramedRecords<Framer.Context>
            do throws(RecordError) {
                framed = try file.pending.withBytes { (buffer) throws(RecordError) in
                    try framer.frame(buffer, isEndOfInput: file.endOfInput)
                }
            } catch {
                var problem: InputChunk<Framer.Context> = problemChunk(sequence: 0, path: file.path, line: error.absoluteLine ?? (file.line + error.lineOffset), message: error.message, isFatal: false)
                problem.readerProblem?.column = error.column
                problem.readerProblem?.input = Array(file.pending.prefix(Self.problemExcerptBytes))
                problem.readerProblem?.inputTruncated = file.pending.count > Self.problemExcerptBytes
                send(problem)
                file.pending.removeAll()
                if file.endOfInput { return }
                continue
            }
            if framed.length > 0 {
                file.framedShort = framed.length < file.pending.count
                var bytes: [UInt8]
                if framed.length * 4 < file.pending.count {
                    // A small chunk off a large buffer: copy it out (so it does not hold the buffer's capacity).
                    bytes = Array(file.pending[..<framed.length])
                    file.pending.removeSubrange(..<framed.length)
                } else {
                    let rest = Array(file.pending[framed.length...])
                    bytes = file.pending
                    file.pending = rest  // `bytes` now owns the buffer alone: truncating it copies nothing
                    bytes.removeSubrange(framed.length...)
                }
                let lines = bytes.withUnsafeBytes { LineCounter.count($0) }
                send(InputChunk(
                    sequence: 0, bytes: bytes, fileName: file.path, firstLine: file.line, records: framed.records,
                    fileContext: framed.fileContext, readerProblem: nil, inputByteCount: bytes.count))
                file.line += lines
                file.chunkTarget = min(file.chunkTarget * 2, chunkSize)
            } else if let failure = file.failure {
                // What is left is a partial record cut off by the failure: it cannot be read.
                send(problemChunk(sequence: 0, path: file.path, line: file.line, message: failure, isFatal: true))
                return
            } else if file.pending.count >= maxRecordBytes {
                await skipOversizedRecord(&file, framer: &framer, decoder: &decoder, send: send)
            } else {
                file.needsMore = true
                permits.release()  // nothing shipped yet: read more
            }
        }
    }

    /// Reports the record at the front of `pending` as too long and discards it, reading on
    /// until its end without keeping more than one buffer of it.
    private func skipOversizedRecord<Framer: RecordFramer>(
        _ file: inout FileState, framer: inout Framer, decoder: inout (any InputDecoder)?, send: (InputChunk<Framer.Context>) -> Void
    ) async {
        var chunk: InputChunk<Framer.Context> = problemChunk(
            sequence: 0, path: file.path, line: file.line,
            message: "record longer than --max-line-bytes (\(maxRecordBytes) bytes)", isFatal: false)
        chunk.readerProblem?.input = Array(file.pending.prefix(Self.problemExcerptBytes))
        chunk.readerProblem?.inputTruncated = true
        var skippedBytes = 0
        while true {
            let dropped = file.pending.withUnsafeBytes { framer.skipRecord($0, isEndOfInput: file.endOfInput) }
            let dropCount = dropped ?? file.pending.count
            file.line += file.pending.withUnsafeBytes { LineCounter.count(UnsafeRawBufferPointer(rebasing: $0[0..<dropCount])) }
            skippedBytes += dropCount
            file.pending.removeSubrange(0..<dropCount)
            if dropped != nil || file.endOfInput { break }
            guard await waitForInput(&file) else { break }
            do throws(RecordError) {
                try fill(&file, decoder: &decoder, target: chunkSize)
            } catch {
                break
            }
        }
        chunk.inputByteCount = skippedBytes
        send(chunk)
    }

    /// Makes sure the next read of a pipe or terminal will not block: when nothing is ready,
    /// suspends until it is (on the file's waiting thread). False when the run stopped.
    private func waitForInput(_ file: inout FileState) async -> Bool {
        if let gzip = file.gzip {
            guard !file.endOfInput, !gzip.hasDataNow else { return true }
            if await gzip.waitForData() { return true }
            file.stopped = true
            return false
        }
        guard file.waitsForInput, !file.endOfInput, !SystemIO.isReadableNow(file.descriptor) else { return true }
        guard let latch = file.latch else { return true }
        if file.waiter == nil { file.waiter = DispatchQueue(label: "weir.wait.\(file.descriptor)") }
        if await latch.readable(file.descriptor, on: file.waiter!) { return true }
        file.stopped = true
        return false
    }

    /// Reads into `pending` until it holds `target` bytes, input is not ready, or it ends.
    private func fill(_ file: inout FileState, decoder: inout (any InputDecoder)?, target: Int) throws(RecordError) {
        var first = true
        while file.pending.count < target, !file.endOfInput {
            if !first, !(file.gzip?.hasDataNow ?? SystemIO.isReadableNow(file.descriptor)) { break }
            first = false
            let want = max(target - file.pending.count, 64 * 1024)
            // The buffer read into is moved out of `file` for the call (no copy: it stays unique).
            var buffer: [UInt8]
            if decoder == nil {
                buffer = file.pending
                file.pending = []
            } else {
                buffer = file.rawBuffer
                file.rawBuffer = []
                buffer.removeAll(keepingCapacity: true)
            }
            var got: Int? = 0
            var failure: RecordError? = nil
            do throws(RecordError) { got = try readInput(&file, into: &buffer, count: want) } catch { failure = error }
            if decoder == nil { file.pending = buffer } else { file.rawBuffer = buffer }
            if let failure { throw failure }
            guard let got else { break }  // a gzip stream with nothing inflated yet
            if got == 0 { file.endOfInput = true }
            if decoder != nil {
                let raw = file.rawBuffer
                try raw.withBytes { (buffer) throws(RecordError) in
                    try decoder!.decode(buffer, isEndOfInput: file.endOfInput, into: &file.pending)
                }
            }
            if file.atFileStart, file.pending.count >= 3 || file.endOfInput {
                file.atFileStart = false
                if file.pending.starts(with: [0xEF, 0xBB, 0xBF]) { file.pending.removeFirst(3) }
            }
        }
    }

    /// Appends up to `count` bytes of the input to `buffer`: how many, 0 at the end, nil when
    /// a gzip stream has none ready yet. The first bytes of a file decide whether it is gzip.
    private func readInput(_ file: inout FileState, into buffer: inout [UInt8], count: Int) throws(RecordError) -> Int? {
        if var gzip = file.gzip {
            file.gzip = nil  // taken out for the call, so its buffers stay uniquely referenced
            defer { file.gzip = gzip }
            do throws(GzipReadError) { return try gzip.read(into: &buffer, count: count) } catch { throw RecordError(error.message) }
        }
        do throws(IOError) {
            var got = try appendRead(file.descriptor, into: &buffer, count: count, name: file.path)
            guard !file.sniffed else { return got }
            file.sniffed = true
            let start = buffer.count - got
            guard got > 0, buffer[start] == GzipFormat.magic[0] else { return got }
            // Rare: a pipe that delivered one byte, 1f, so far. The second byte decides.
            if got == 1 { got += try appendRead(file.descriptor, into: &buffer, count: 1, name: file.path) }
            guard got >= 2, buffer[start + 1] == GzipFormat.magic[1] else { return got }
            let prefix = Array(buffer[start...])
            buffer.removeSubrange(start...)
            file.gzip = GzipInputStream(descriptor: file.descriptor, closesDescriptor: file.path != "-", prefix: prefix, name: file.path, latch: file.latch)
        } catch {
            throw RecordError(error.description)
        }
        return try readInput(&file, into: &buffer, count: count)
    }

    /// Appends up to `count` bytes read from `descriptor` to `buffer`; returns how many (0 at end).
    private func appendRead(_ descriptor: Int32, into buffer: inout [UInt8], count: Int, name: String) throws(IOError) -> Int {
        let oldCount = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        let got: Int
        do throws(IOError) {
            got = try buffer.withMutableBytes { (raw) throws(IOError) in
                try SystemIO.read(descriptor, into: raw.baseAddress! + oldCount, count: count, name: name)
            }
        } catch {
            buffer.removeSubrange(oldCount...)
            throw error
        }
        buffer.removeSubrange((oldCount + got)...)
        return got
    }

    private func problemChunk<Context: FileContext>(sequence: Int, path: String, line: Int, message: String, isFatal: Bool) -> InputChunk<Context> {
        InputChunk(
            sequence: sequence, bytes: [], fileName: path, firstLine: line, records: nil, fileContext: nil,
            readerProblem: RecordProblem(fileName: path, line: line, column: nil, message: message, input: [], outputOffset: 0, isFatal: isFatal),
            inputByteCount: 0)
    }
}
