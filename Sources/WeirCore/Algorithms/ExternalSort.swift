import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// One record as an external sort carries it: `[key length: u32][record length: u32][key][record]`
/// (little-endian lengths, the key as ``SortKey`` bytes). Workers write frames, the sorter
/// keeps them in its arena, and spill files hold them as they are.
package enum SortFrame {
    /// The bytes before the key.
    static let headerSize = 8

    /// Starts a frame at the end of `output`; returns where it starts.
    package static func begin(into output: inout [UInt8]) -> Int {
        let start = output.count
        output.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
        return start
    }

    /// Ends the key of the frame begun at `start` (the record's bytes follow).
    package static func endKey(frameAt start: Int, into output: inout [UInt8]) -> Int {
        store(UInt32(output.count - start - headerSize), at: start, into: &output)
        return output.count
    }

    /// Ends the frame whose record began at `recordStart`.
    package static func end(frameAt start: Int, recordAt recordStart: Int, into output: inout [UInt8]) {
        store(UInt32(output.count - recordStart), at: start + 4, into: &output)
    }

    /// The whole frame's size at `pointer`.
    @inline(__always)
    package static func size(at pointer: UnsafeRawPointer) -> Int {
        headerSize + keyLength(at: pointer) + Int(pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
    }

    /// The key of the frame at `pointer`.
    @inline(__always)
    package static func key(at pointer: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointer + headerSize, count: keyLength(at: pointer))
    }

    /// The record of the frame at `pointer`.
    @inline(__always)
    package static func record(at pointer: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        let keyLength = keyLength(at: pointer)
        let recordLength = Int(pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        return UnsafeRawBufferPointer(start: pointer + headerSize + keyLength, count: recordLength)
    }

    @inline(__always)
    private static func keyLength(at pointer: UnsafeRawPointer) -> Int {
        Int(pointer.loadUnaligned(as: UInt32.self).littleEndian)
    }

    private static func store(_ value: UInt32, at index: Int, into output: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes in
            for offset in 0..<4 { output[index + offset] = bytes[offset] }
        }
    }
}

/// What an ``ExternalSorter`` needs to know.
package struct ExternalSortSettings: Sendable {
    /// The most bytes of frames (plus ``ExternalSorter/perRecordOverhead`` each) held in
    /// memory: a full run is sorted and spilled.
    package var memoryBudget: Int
    /// Where spill files go.
    package var temporaryDirectory: String
    /// The most runs merged at once (open spill files); more runs merge in several passes.
    package var fanIn: Int = 64
    /// Threads that sort parts of a run at once.
    package var jobs: Int = 1
    /// Per key segment: true when it sorts in descending order.
    package var descending: [Bool]

    package init(memoryBudget: Int, temporaryDirectory: String, fanIn: Int = 64, jobs: Int = 1, descending: [Bool]) {
        self.memoryBudget = memoryBudget
        self.temporaryDirectory = temporaryDirectory
        self.fanIn = max(2, fanIn)
        self.jobs = max(1, jobs)
        self.descending = descending
    }
}

/// A stable external merge sort of ``SortFrame``s by their ``SortKey``s, in bounded memory.
///
/// ```
///  add(frames:) ─▶ arena (frames, input order) ── full? ─▶ sort (jobs parts in parallel,
///                                                            then merged) ─▶ spill file (a run)
///                                                                              │  fanIn runs of one
///                                                                              ▼  level: merged
///  finish(_:) ─▶ last run sorted in memory ─▶ k-way merge (heap) of ≤ fanIn runs ─▶ records in order
/// ```
///
/// Stability: within a run, equal keys keep their arena order (input order); runs are merged
/// in the order they were spilled, and the heap breaks ties by run, so equal keys come out in
/// input order. Runs are only ever merged with their neighbours, which keeps that true
/// through any number of merge passes.
///
/// Memory: the arena (at most ``ExternalSortSettings/memoryBudget``, allocated once and
/// reused for every run), an offset per record, and one read buffer per run being merged
/// (budget / (2 · fanIn), between 64 KiB and 1 MiB each). Spill files are
/// ``TemporaryFile``s: nothing is left behind on any path.
///
/// The sorter is used from one thread at a time (an ``OutputSink``'s); `shouldStop` is
/// asked between records, and when it says yes the sorter throws `ECANCELED`.
package final class ExternalSorter {
    /// Bytes counted against the budget for each record beyond its frame (its offsets).
    static let perRecordOverhead = 16

    private let settings: ExternalSortSettings
    private let shouldStop: () -> Bool
    private var arena: UnsafeMutableRawPointer? = nil
    private var arenaCapacity = 0
    private var arenaUsed = 0
    private var offsets: [Int] = []
    private var runs: [SpilledRun] = []

    /// Sorted runs written to temporary files.
    package private(set) var runsSpilled = 0
    /// Merges of runs into longer runs before the last merge (multi-level merge).
    package private(set) var intermediateMerges = 0
    /// Bytes written to temporary files, all passes together.
    package private(set) var bytesSpilled = 0
    /// Records taken.
    package private(set) var recordCount = 0

    package init(settings: ExternalSortSettings, shouldStop: @escaping () -> Bool = { false }) {
        self.settings = settings
        self.shouldStop = shouldStop
    }

    deinit { discard() }

    /// Takes whole frames (as many as `bytes` holds), spilling a run when memory is full.
    package func add(frames bytes: UnsafeRawBufferPointer) throws(IOError) {
        guard let base = bytes.baseAddress else { return }
        var at = 0
        while at + SortFrame.headerSize <= bytes.count {
            let size = SortFrame.size(at: base + at)
            try add(frame: UnsafeRawBufferPointer(start: base + at, count: min(size, bytes.count - at)))
            at += size
        }
    }

    /// Takes one frame.
    package func add(frame: UnsafeRawBufferPointer) throws(IOError) {
        let used = arenaUsed + offsets.count * Self.perRecordOverhead
        if !offsets.isEmpty, used + frame.count + Self.perRecordOverhead > settings.memoryBudget || arenaUsed + frame.count > arenaCapacity {
            try spill()
        }
        if arenaUsed + frame.count > arenaCapacity {
            // The first frame, or one larger than the whole budget (it gets a run of its own).
            arena?.deallocate()
            arenaCapacity = max(settings.memoryBudget, frame.count)
            arena = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 16)
        }
        (arena! + arenaUsed).copyMemory(from: frame.baseAddress!, byteCount: frame.count)
        offsets.append(arenaUsed)
        arenaUsed += frame.count
        recordCount += 1
    }

    /// Calls `emit` with every record (without its key), in sorted order, then frees
    /// everything. Throws `ECANCELED` when `shouldStop` says so, or an I/O error.
    package func finish(_ emit: (UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        defer { discard() }
        sortRun()
        let memoryRuns = offsets.isEmpty ? 0 : 1
        while runs.count + memoryRuns > settings.fanIn {
            let group = min(settings.fanIn, runs.count + memoryRuns - settings.fanIn + 1)
            try mergeRuns(0..<group)
        }
        if runs.isEmpty, let arena {
            for (index, offset) in offsets.enumerated() {
                if index & 4095 == 0, shouldStop() { throw Self.stopped }
                try emit(SortFrame.record(at: arena + offset))
            }
            return
        }
        var cursors: [RunCursor] = []
        for run in runs { cursors.append(try FileRunCursor(run.file, bufferSize: readBufferSize)) }
        if let arena, !offsets.isEmpty { cursors.append(MemoryRunCursor(base: UnsafeRawPointer(arena), offsets: offsets)) }
        try merge(cursors) { (frame) throws(IOError) in try emit(SortFrame.record(at: frame.baseAddress!)) }
    }

    /// Closes every spill file and frees the arena (a failed or stopped run).
    package func discard() {
        for run in runs { run.file.close() }
        runs.removeAll()
        arena?.deallocate()
        arena = nil
        arenaCapacity = 0
        arenaUsed = 0
        offsets = []
    }

    private static let stopped = IOError(code: ECANCELED, context: "the sort was stopped")

    private var readBufferSize: Int {
        min(1 << 20, max(64 << 10, settings.memoryBudget / (2 * settings.fanIn)))
    }

    // MARK: - Runs

    private struct SpilledRun {
        let file: TemporaryFile
        let level: Int
    }

    /// Sorts the arena's offsets: in `jobs` parts at once, then merged.
    private func sortRun() {
        guard let arena, offsets.count > 1 else { return }
        let base = UnsafeRawPointer(arena)
        let descending = settings.descending
        let less = { (a: Int, b: Int) -> Bool in
            let order = SortKey.compare(SortFrame.key(at: base + a), SortFrame.key(at: base + b), descending: descending)
            return order != 0 ? order < 0 : a < b
        }
        let parts = min(settings.jobs, max(1, offsets.count / 4096))
        if parts == 1 {
            offsets.sort(by: less)
            return
        }
        let count = offsets.count
        let bounds = (0...parts).map { count * $0 / parts }
        offsets.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let whole = buffer
            nonisolated(unsafe) let compare = less
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                var slice = UnsafeMutableBufferPointer(rebasing: whole[bounds[part]..<bounds[part + 1]])
                slice.sort(by: compare)
            }
        }
        var segments = (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }
        var source = offsets
        var target = [Int](repeating: 0, count: count)
        while segments.count > 1 {
            var next: [Range<Int>] = []
            for pair in stride(from: 0, to: segments.count, by: 2) {
                guard pair + 1 < segments.count else {
                    let last = segments[pair]
                    for index in last { target[index] = source[index] }
                    next.append(last)
                    continue
                }
                let left = segments[pair], right = segments[pair + 1]
                var i = left.lowerBound, j = right.lowerBound, out = left.lowerBound
                while i < left.upperBound, j < right.upperBound {
                    if less(source[j], source[i]) { target[out] = source[j]; j += 1 } else { target[out] = source[i]; i += 1 }
                    out += 1
                }
                while i < left.upperBound { target[out] = source[i]; i += 1; out += 1 }
                while j < right.upperBound { target[out] = source[j]; j += 1; out += 1 }
                next.append(left.lowerBound..<right.upperBound)
            }
            swap(&source, &target)
            segments = next
        }
        offsets = source
    }

    /// Sorts the arena and writes it to a new spill file; merges full levels of runs.
    private func spill() throws(IOError) {
        guard let arena, !offsets.isEmpty else { return }
        sortRun()
        let writer = try RunWriter(directory: settings.temporaryDirectory)
        for (index, offset) in offsets.enumerated() {
            if index & 4095 == 0, shouldStop() { writer.file.close(); throw Self.stopped }
            let pointer = UnsafeRawPointer(arena + offset)
            try writer.append(UnsafeRawBufferPointer(start: pointer, count: SortFrame.size(at: pointer)))
        }
        try writer.finish()
        bytesSpilled += writer.bytesWritten
        runs.append(SpilledRun(file: writer.file, level: 0))
        runsSpilled += 1
        arenaUsed = 0
        offsets.removeAll(keepingCapacity: true)
        // Levels like a counter in base fanIn: fanIn runs of one level become one of the next.
        while runs.count >= settings.fanIn {
            let tail = (runs.count - settings.fanIn)..<runs.count
            let level = runs[tail.lowerBound].level
            guard runs[tail].allSatisfy({ $0.level == level }) else { break }
            try mergeRuns(tail)
        }
    }

    /// Merges the neighbouring runs in `range` into one, in their place.
    private func mergeRuns(_ range: Range<Int>) throws(IOError) {
        var cursors: [RunCursor] = []
        for run in runs[range] { cursors.append(try FileRunCursor(run.file, bufferSize: readBufferSize)) }
        let writer = try RunWriter(directory: settings.temporaryDirectory)
        do throws(IOError) {
            try merge(cursors) { (frame) throws(IOError) in try writer.append(frame) }
            try writer.finish()
        } catch {
            writer.file.close()
            throw error
        }
        bytesSpilled += writer.bytesWritten
        let level = (runs[range].map(\.level).max() ?? 0) + 1
        for run in runs[range] { run.file.close() }
        runs.replaceSubrange(range, with: [SpilledRun(file: writer.file, level: level)])
        intermediateMerges += 1
    }

    /// A k-way merge with a binary heap; ties go to the earlier cursor (stability).
    private func merge(_ cursors: [RunCursor], _ emit: (UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        let descending = settings.descending
        var heap = cursors.indices.filter { cursors[$0].frame != nil }
        func less(_ a: Int, _ b: Int) -> Bool {
            let order = SortKey.compare(SortFrame.key(at: cursors[a].frame!), SortFrame.key(at: cursors[b].frame!), descending: descending)
            return order != 0 ? order < 0 : a < b
        }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                if left >= heap.count { return }
                var smallest = left
                if left + 1 < heap.count, less(heap[left + 1], heap[left]) { smallest = left + 1 }
                if !less(heap[smallest], heap[parent]) { return }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
        var emitted = 0
        while let top = heap.first {
            if emitted & 4095 == 0, shouldStop() { throw Self.stopped }
            emitted += 1
            let cursor = cursors[top]
            let pointer = cursor.frame!
            try emit(UnsafeRawBufferPointer(start: pointer, count: SortFrame.size(at: pointer)))
            if try !cursor.advance() {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            siftDown(0)
        }
    }
}

/// A sorted run being read by a merge: the current frame, and a way to the next.
private protocol RunCursor: AnyObject {
    /// The current frame's start, nil at the end.
    var frame: UnsafeRawPointer? { get }
    /// Moves to the next frame; false at the end.
    func advance() throws(IOError) -> Bool
}

/// The last run, still in the arena.
private final class MemoryRunCursor: RunCursor {
    private let base: UnsafeRawPointer
    private let offsets: [Int]
    private var index = 0
    private(set) var frame: UnsafeRawPointer?

    init(base: UnsafeRawPointer, offsets: [Int]) {
        self.base = base
        self.offsets = offsets
        frame = offsets.isEmpty ? nil : base + offsets[0]
    }

    func advance() throws(IOError) -> Bool {
        index += 1
        frame = index < offsets.count ? base + offsets[index] : nil
        return frame != nil
    }
}

/// A run in a spill file, read through a buffer.
private final class FileRunCursor: RunCursor {
    private let file: TemporaryFile
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var atEnd = false
    private(set) var frame: UnsafeRawPointer? = nil

    init(_ file: TemporaryFile, bufferSize: Int) throws(IOError) {
        self.file = file
        capacity = bufferSize
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        try file.rewind()
        try load()
    }

    deinit { buffer.deallocate() }

    func advance() throws(IOError) -> Bool {
        if let frame { start += SortFrame.size(at: frame) }
        try load()
        return frame != nil
    }

    /// Makes the frame at `start` whole in the buffer (or sets `frame` to nil at the end).
    private func load() throws(IOError) {
        try fill(SortFrame.headerSize)
        guard end - start >= SortFrame.headerSize else {
            if end > start { throw IOError(code: EIO, context: "a temporary file in '\(file.directory)' was cut short") }
            frame = nil
            return
        }
        let size = SortFrame.size(at: buffer + start)
        try fill(size)
        guard end - start >= size else { throw IOError(code: EIO, context: "a temporary file in '\(file.directory)' was cut short") }
        frame = UnsafeRawPointer(buffer + start)
    }

    /// Reads until `count` bytes from `start` are in the buffer, or the file ends.
    private func fill(_ count: Int) throws(IOError) {
        guard end - start < count, !atEnd else { return }
        if count > capacity {
            let larger = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
            larger.copyMemory(from: buffer + start, byteCount: end - start)
            buffer.deallocate()
            buffer = larger
            capacity = count
        } else if start > 0 {
            buffer.copyMemory(from: buffer + start, byteCount: end - start)
        }
        end -= start
        start = 0
        while end < count, !atEnd {
            let got = try file.read(into: buffer + end, count: capacity - end)
            if got == 0 { atEnd = true }
            end += got
        }
    }
}

/// Writes frames to a new spill file through a 1 MiB buffer.
private final class RunWriter {
    let file: TemporaryFile
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0

    init(directory: String) throws(IOError) {
        file = try TemporaryFile(in: directory, prefix: "weir-sort")
        buffer.reserveCapacity(1 << 20)
    }

    func append(_ frame: UnsafeRawBufferPointer) throws(IOError) {
        if buffer.count + frame.count > 1 << 20 { try flush() }
        if frame.count > 1 << 20 {
            try file.write(frame)
            bytesWritten += frame.count
        } else {
            buffer.append(contentsOf: frame)
        }
    }

    func finish() throws(IOError) {
        try flush()
    }

    private func flush() throws(IOError) {
        guard !buffer.isEmpty else { return }
        try buffer.withBytes { (bytes) throws(IOError) in try file.write(bytes) }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}
