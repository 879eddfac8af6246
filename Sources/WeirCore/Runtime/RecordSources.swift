import Synchronization

/// Where a stage's records come from: the top of the runtime's flow.
///
/// A source makes ``InputChunk``s of whole records and hands each to ``SourceContext/ship(_:)``,
/// which numbers them in the order shipped (the order the writer restores). Before it makes
/// each chunk it takes a permit from ``SourceContext/permits`` (false means the run stopped:
/// return at once); a chunk it decides not to ship gives its permit back. It returns when
/// its input is exhausted or the run stopped. It runs on a thread of its own (blocking
/// system calls are fine); a source that reads several inputs at once starts a task per
/// input, each on its own ``DedicatedThreadExecutor``.
///
/// The stage's ``StageSpec/input`` declares which kind it takes: ``FileSequenceSource``
/// (files in order, today's default), ``GeneratedSource`` (no input: stdin is never read),
/// ``InterleavedSource`` (several inputs at once, whole records as they arrive) or
/// ``MergedSource`` (several sorted inputs merged by a key).
package protocol RecordSource: Sendable {
    /// The per-file state its chunks carry (its framer's).
    associatedtype Context: FileContext
    /// The input files, for `--progress` (empty when there are none, or they are not files).
    var inputPaths: [String] { get }
    /// Permits this source may hold while it waits on inputs (one per input read at once),
    /// added to the runtime's bound so waiting inputs never starve the workers.
    var heldPermits: Int { get }
    /// True when the source itself may wait in a system call: it then runs on a thread of
    /// its own. The sources here say false: they read through ``InputReader``, which waits
    /// for a slow input on a thread of its own and does its framing on the shared pool.
    var mayBlock: Bool { get }
    /// Makes and ships every chunk.
    func run(_ context: SourceContext<Context>) async
}

extension RecordSource {
    package var mayBlock: Bool { false }
}

/// What a ``RecordSource`` works with: the permits, the stop latch, and the shipping point.
package struct SourceContext<Context: FileContext>: Sendable {
    /// The bound on chunks in flight: take one before making a chunk.
    package let permits: AsyncSemaphore
    /// Fired when the run stops: polls of slow inputs wake at once.
    package let latch: StopLatch
    private let shipper: Shipper

    package init(permits: AsyncSemaphore, latch: StopLatch, send: @escaping @Sendable (InputChunk<Context>) -> Void) {
        self.permits = permits
        self.latch = latch
        shipper = Shipper(send: send)
    }

    /// Numbers `chunk` (0, 1, 2, … in shipping order, whatever the thread) and sends it to the workers.
    func ship(_ chunk: InputChunk<Context>) {
        shipper.ship(chunk)
    }

    /// The number of chunks shipped so far.
    var shippedCount: Int { shipper.count }

    private final class Shipper: Sendable {
        private let next = Mutex(0)
        private let send: @Sendable (InputChunk<Context>) -> Void
        init(send: @escaping @Sendable (InputChunk<Context>) -> Void) { self.send = send }
        var count: Int { next.withLock { $0 } }
        func ship(_ chunk: InputChunk<Context>) {
            next.withLock { next in
                var chunk = chunk
                chunk.sequence = next
                next += 1
                send(chunk)
            }
        }
    }
}

/// The files named on the command line, read one after another (none: standard input).
package struct FileSequenceSource<Framer: RecordFramer>: RecordSource {
    private let reader: InputReader
    private let framer: Framer
    private let decoder: (any InputDecoder)?

    /// Reads `paths` in order with `framer` (and `decoder`, for other encodings).
    package init(paths: [String], framer: Framer, decoder: (any InputDecoder)? = nil, maxRecordBytes: Int) {
        reader = InputReader(paths: paths, maxRecordBytes: maxRecordBytes)
        self.framer = framer
        self.decoder = decoder
    }

    package var inputPaths: [String] { reader.paths }
    package var heldPermits: Int { 1 }

    package func run(_ context: SourceContext<Framer.Context>) async {
        _ = await reader.run(framer: framer, decoder: decoder, permits: context.permits, latch: context.latch) { context.ship($0) }
    }
}

/// Several inputs read at once (files, FIFOs, `<(…)`): each with its own framer, position
/// and thread, each chunk shipped as soon as it is read, so records come out as they
/// arrive, whole records only, and a slow input never holds up a fast one.
package struct InterleavedSource<Framer: RecordFramer>: RecordSource {
    private let paths: [String]
    private let framer: Framer
    private let maxRecordBytes: Int

    package init(paths: [String], framer: Framer, maxRecordBytes: Int) {
        self.paths = paths.isEmpty ? ["-"] : paths
        self.framer = framer
        self.maxRecordBytes = maxRecordBytes
    }

    package var inputPaths: [String] { paths }
    package var heldPermits: Int { paths.count }

    package func run(_ context: SourceContext<Framer.Context>) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, path) in paths.enumerated() {
                let reader = InputReader(paths: [path], maxRecordBytes: maxRecordBytes)
                let framer = self.framer
                group.addTask {
                    _ = await reader.run(framer: framer, decoder: nil, permits: context.permits, latch: context.latch, inputIndex: index) {
                        context.ship($0)
                    }
                }
            }
        }
    }
}

/// Makes records from nothing: the generator stage's source (`weir-seq`). Standard input
/// is never read.
package protocol RecordGenerator: Sendable {
    /// A name for messages about generated records (`weir-seq`).
    var name: String { get }
    /// Appends up to `limit` records (whole `\n`-terminated lines) to `bytes`; returns how
    /// many it appended, 0 when it has no more.
    mutating func generate(into bytes: inout [UInt8], limit: Int) -> Int
}

/// The source of a generator stage: chunks of up to ``recordsPerChunk`` generated records
/// (the first chunks small and doubling, so the first records reach the consumer at once), as
/// fast as the permits allow (so as fast as the consumer takes them).
package struct GeneratedSource<Generator: RecordGenerator>: RecordSource {
    private let generator: Generator
    /// Records per chunk.
    package var recordsPerChunk: Int

    package init(_ generator: Generator, recordsPerChunk: Int = 16_384) {
        self.generator = generator
        self.recordsPerChunk = max(1, recordsPerChunk)
    }

    package var inputPaths: [String] { [] }
    package var heldPermits: Int { 1 }

    package func run(_ context: SourceContext<NoFileContext>) async {
        var generator = self.generator
        var line = 1
        var size = min(64, recordsPerChunk)
        while await context.permits.acquire() {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(size * 16)
            let count = generator.generate(into: &bytes, limit: size)
            size = min(size * 2, recordsPerChunk)
            if count == 0 {
                context.permits.release()
                return
            }
            context.ship(InputChunk(sequence: 0, bytes: bytes, fileName: generator.name, firstLine: line, inputByteCount: 0))
            line += count
            if Task.isCancelled { return }
        }
    }
}

/// How ``MergedSource`` orders records: a key per record and a strict order on keys.
package protocol MergeOrder: Sendable {
    /// The key type (a JSON value, in jq's order, for `weir-merge --by`).
    associatedtype Key: Sendable
    /// The record's key; an error makes the record bad (reported under `--errors`).
    func key(of record: UnsafeRawBufferPointer, at position: RecordPosition) throws(RecordError) -> Key
    /// True when `left` sorts strictly before `right`.
    func precedes(_ left: Key, _ right: Key) -> Bool
}

/// Several inputs, each already sorted by a key, merged into one sorted stream (the merge
/// step of an external sort): a k-way merge on a heap, stable by input position (on equal
/// keys the earlier input comes first, and each input keeps its own order).
///
/// Each input is read and keyed on a thread of its own, at most two chunks ahead of the
/// merge; the merge copies records into output chunks whose ``InputChunk/origins`` say
/// where each came from. A record whose key cannot be read is passed on with its problem,
/// where it stood in its input, and reported under the error policy with its file and line.
package struct MergedSource<Framer: RecordFramer, Order: MergeOrder>: RecordSource {
    private let paths: [String]
    private let framer: Framer
    private let order: Order
    private let maxRecordBytes: Int
    /// Bytes per output chunk.
    package var chunkBytes = 256 * 1024

    package init(paths: [String], framer: Framer, order: Order, maxRecordBytes: Int) {
        self.paths = paths.isEmpty ? ["-"] : paths
        self.framer = framer
        self.order = order
        self.maxRecordBytes = maxRecordBytes
    }

    package var inputPaths: [String] { paths }
    package var heldPermits: Int { 1 }

    /// One input's chunk with its records cut out and keyed.
    private struct KeyedChunk: Sendable {
        var bytes: [UInt8]
        var ranges: [Range<Int>] = []
        var lines: [Int] = []
        var keys: [Order.Key?] = []
        var problems: [RecordError?] = []
        var fileName: String
        /// A problem chunk from the reader (an unreadable file, an over-long record): passed on as it is.
        var passThrough: InputChunk<Framer.Context>? = nil
    }

    /// One input's reader, queue and bound.
    private final class Lane: Sendable {
        let queue = AsyncQueue<KeyedChunk>()
        let permits = AsyncSemaphore(permits: 2)
    }

    package func run(_ context: SourceContext<Framer.Context>) async {
        let lanes = paths.map { _ in Lane() }
        await withTaskGroup(of: Void.self) { group in
            for (index, path) in paths.enumerated() {
                let lane = lanes[index]
                let reader = InputReader(paths: [path], maxRecordBytes: maxRecordBytes)
                let framer = self.framer, order = self.order
                group.addTask {
                    _ = await reader.run(framer: framer, decoder: nil, permits: lane.permits, latch: context.latch, inputIndex: index) { chunk in
                        lane.queue.send(Self.keyed(chunk, order: order))
                    }
                    lane.queue.finish()
                }
            }
            await merge(lanes, context)
            group.cancelAll()
        }
    }

    /// Cuts a chunk into records (lines, or the framer's ranges) and keys each.
    private static func keyed(_ chunk: InputChunk<Framer.Context>, order: Order) -> KeyedChunk {
        var keyed = KeyedChunk(bytes: chunk.bytes, fileName: chunk.fileName)
        if chunk.readerProblem != nil {
            keyed.passThrough = chunk
            return keyed
        }
        chunk.bytes.withUnsafeBytes { buffer in
            var position = RecordPosition(fileName: chunk.fileName, line: chunk.firstLine, inputIndex: chunk.inputIndex)
            func add(_ range: Range<Int>) {
                keyed.ranges.append(range)
                keyed.lines.append(position.line)
                do throws(RecordError) {
                    keyed.keys.append(try order.key(of: UnsafeRawBufferPointer(rebasing: buffer[range]), at: position))
                    keyed.problems.append(nil)
                } catch {
                    keyed.keys.append(nil)
                    keyed.problems.append(error)
                }
            }
            if let records = chunk.records {
                var scanned = 0
                for range in records {
                    position.line += LineCounter.count(UnsafeRawBufferPointer(rebasing: buffer[scanned..<range.lowerBound]))
                    scanned = range.lowerBound
                    add(range)
                }
                return
            }
            var lineStart = 0
            while lineStart < buffer.count {
                let lineEnd = buffer[lineStart...].firstIndex(of: 0x0A) ?? buffer.count
                var contentEnd = lineEnd
                if contentEnd > lineStart, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                if !LineCounter.isBlank(UnsafeRawBufferPointer(rebasing: buffer[lineStart..<contentEnd])) {
                    add(lineStart..<contentEnd)
                }
                position.line += 1
                lineStart = lineEnd + 1
            }
        }
        return keyed
    }

    /// The k-way merge: takes the least head record of all inputs until every input is done.
    private func merge(_ lanes: [Lane], _ context: SourceContext<Framer.Context>) async {
        var heads: [KeyedChunk?] = Array(repeating: nil, count: lanes.count)
        var cursors = Array(repeating: 0, count: lanes.count)
        var heap = MergeHeap<Order>(order: order)
        var output = OutputChunkBuilder()

        /// Loads input `index`'s next chunk with records (passing problem chunks on); false at its end.
        func advance(_ index: Int) async -> Bool {
            while true {
                if heads[index] != nil { lanes[index].permits.release() }
                heads[index] = nil
                guard let chunk = await lanes[index].queue.receive() else { return false }
                if let problem = chunk.passThrough {
                    lanes[index].permits.release()
                    guard await flushAndShip(problem) else { return false }
                    continue
                }
                guard !chunk.ranges.isEmpty else {
                    heads[index] = chunk
                    continue
                }
                heads[index] = chunk
                cursors[index] = 0
                return true
            }
        }
        func flushAndShip(_ chunk: InputChunk<Framer.Context>) async -> Bool {
            if !output.isEmpty {
                guard await context.permits.acquire() else { return false }
                context.ship(output.take())
            }
            guard await context.permits.acquire() else { return false }
            context.ship(chunk)
            return true
        }
        func push(_ index: Int) {
            let chunk = heads[index]!
            heap.push(MergeHeap<Order>.Entry(key: chunk.keys[cursors[index]], input: index))
        }

        for index in lanes.indices where await advance(index) { push(index) }
        while let entry = heap.pop() {
            if Task.isCancelled { return }
            let index = entry.input
            let chunk = heads[index]!
            let cursor = cursors[index]
            output.append(chunk, record: cursor, inputIndex: index)
            if output.byteCount >= chunkBytes {
                guard await context.permits.acquire() else { return }
                context.ship(output.take())
            }
            cursors[index] += 1
            if cursors[index] < chunk.ranges.count {
                push(index)
            } else if await advance(index) {
                push(index)
            }
        }
        if !output.isEmpty {
            guard await context.permits.acquire() else { return }
            context.ship(output.take())
        }
    }

    /// Collects merged records into one output chunk.
    private struct OutputChunkBuilder {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        var origins: [RecordOrigin] = []
        var isEmpty: Bool { ranges.isEmpty }
        var byteCount: Int { bytes.count }

        mutating func append(_ chunk: KeyedChunk, record: Int, inputIndex: Int) {
            let range = chunk.ranges[record]
            let start = bytes.count
            bytes.append(contentsOf: chunk.bytes[range])
            ranges.append(start..<bytes.count)
            bytes.append(0x0A)
            origins.append(RecordOrigin(inputIndex: inputIndex, fileName: chunk.fileName, line: chunk.lines[record], problem: chunk.problems[record]))
        }

        mutating func take() -> InputChunk<Framer.Context> {
            defer { self = OutputChunkBuilder() }
            return InputChunk(sequence: 0, bytes: bytes, fileName: origins.first?.fileName ?? "-", firstLine: origins.first?.line ?? 1,
                              records: ranges, inputByteCount: bytes.count, origins: origins)
        }
    }
}

/// A binary min-heap of the inputs' head records for ``MergedSource``: least key first, ties
/// by input index; a record without a key (bad) comes out first, where it stands.
private struct MergeHeap<Order: MergeOrder> {
    struct Entry {
        var key: Order.Key?
        var input: Int
    }
    let order: Order
    private var entries: [Entry] = []

    init(order: Order) { self.order = order }

    private func less(_ left: Entry, _ right: Entry) -> Bool {
        switch (left.key, right.key) {
        case (nil, nil): return left.input < right.input
        case (nil, _): return true
        case (_, nil): return false
        case let (leftKey?, rightKey?):
            if order.precedes(leftKey, rightKey) { return true }
            if order.precedes(rightKey, leftKey) { return false }
            return left.input < right.input
        }
    }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var least = parent
            if left < entries.count, less(entries[left], entries[least]) { least = left }
            if right < entries.count, less(entries[right], entries[least]) { least = right }
            if least == parent { break }
            entries.swapAt(parent, least)
            parent = least
        }
        return top
    }
}
