import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One gzip input, decompressed on a thread of its own ahead of the reader: the byte source
/// ``InputReader`` reads instead of the descriptor once a file starts with the gzip magic.
///
/// ```
///   descriptor ─read(2)─▶ inflate thread (GzipInflater) ─filled buffers─▶ InputReader.read
///                                   ▲                                          │
///                                   └───── free buffers (≤ depth, semaphore) ──┘
/// ```
///
/// Why a thread: inflating costs more than framing and parsing what it produces. On a thread
/// of its own it overlaps the rest of the stage the way `zcat | weir-cat` overlaps two
/// processes, without the pipe's copies between them. At most ``depth`` buffers of
/// ``bufferSize`` exist (queued or being read), so memory stays flat however large the input;
/// a reader that stops taking them stops the thread.
///
/// The reader never blocks a thread of the pool: ``read(into:count:)`` takes only what is
/// there (nil when nothing is yet) and ``waitForData()`` suspends the task until a buffer
/// comes. The thread waits for a pipe or FIFO together with the run's ``StopLatch`` and ends
/// when it fires. Everything inflated before damaged data is handed over before the error.
package struct GzipInputStream {
    /// The size of one decompressed buffer.
    package static let bufferSize = 256 * 1024
    /// The most buffers in existence at once.
    package static let depth = 4

    private let channel: Channel
    private var current: [UInt8] = []
    private var currentCount = 0
    private var offset = 0

    /// Starts inflating `descriptor`, whose first bytes, already read, are `prefix`.
    /// `closesDescriptor`: the thread closes it when done (not for standard input).
    /// Messages name the input `name`.
    package init(descriptor: Int32, closesDescriptor: Bool, prefix: [UInt8], name: String, latch: StopLatch?) {
        let channel = Channel()
        self.channel = channel
        let mayBlock = SystemIO.mayBlock(descriptor)
        let producer = Producer(
            channel: channel, descriptor: descriptor, closesDescriptor: closesDescriptor,
            prefix: prefix, name: name, mayBlock: mayBlock, latch: latch)
        DispatchQueue(label: "weir.gunzip").async { producer.run() }
    }

    /// True when a read would return bytes, the end, or an error without waiting.
    var hasDataNow: Bool { offset < currentCount || channel.hasDataNow }

    /// Appends up to `count` decompressed bytes to `buffer`: how many, 0 at the end of the
    /// stream, nil when none are ready yet (``waitForData()`` then waits for them). Throws
    /// the stream's error (damaged data, a read error) after every byte before it.
    package mutating func read(into buffer: inout [UInt8], count: Int) throws(GzipReadError) -> Int? {
        if offset == currentCount {
            if !current.isEmpty { channel.giveBack(current) }
            current = []
            currentCount = 0
            offset = 0
            switch try channel.take() {
            case .notYet: return nil
            case .end: return 0
            case .buffer(let bytes, let count):
                current = bytes
                currentCount = count
            }
        }
        let taken = min(count, currentCount - offset)
        current.withUnsafeBufferPointer { buffer.append(contentsOf: $0[offset..<(offset + taken)]) }
        offset += taken
        return taken
    }

    /// Suspends until a buffer, the end or an error is there; false when the run stopped (the
    /// latch fired, or the task was cancelled) first.
    func waitForData() async -> Bool {
        if offset < currentCount { return true }
        return await channel.waitForData()
    }

    /// Stops the thread (the reader is done with this input) and lets its buffers go.
    package func close() {
        channel.close()
    }

    /// How the thread ended.
    fileprivate enum End: Sendable {
        case complete
        case failed(String)
        case stopped
    }

    /// The queue of filled buffers between the thread and the reader, and its bound.
    fileprivate final class Channel: Sendable {
        private struct State {
            var filled: [(bytes: [UInt8], count: Int)] = []
            var spare: [[UInt8]] = []
            var end: End?
            var isClosed = false
            var waiter: CheckedContinuation<Bool, Never>?
        }
        private let state = Mutex(State())
        /// Free buffer slots: the thread takes one before it fills a buffer, the reader gives
        /// it back when it has read the buffer. Starts at 0 and is raised to ``depth``, since
        /// a semaphore must not be destroyed below its initial value.
        let free = DispatchSemaphore(value: 0)

        init() {
            for _ in 0..<GzipInputStream.depth { free.signal() }
        }

        var hasDataNow: Bool { state.withLock { !$0.filled.isEmpty || $0.end != nil } }

        var isClosed: Bool { state.withLock { $0.isClosed } }

        /// What ``take()`` found.
        enum Taken {
            /// A buffer whose first `count` bytes are filled.
            case buffer([UInt8], Int)
            /// Nothing yet: the thread is still working.
            case notYet
            /// The end of the stream.
            case end
        }

        /// The next buffer, or the end (thrown when the stream failed).
        func take() throws(GzipReadError) -> Taken {
            let (next, end) = state.withLock { state in
                state.filled.isEmpty ? (nil, state.end) : (state.filled.removeFirst(), nil)
            }
            if let next { return .buffer(next.bytes, next.count) }
            switch end {
            case nil: return .notYet
            case .complete, .stopped: return .end
            case .failed(let message): throw GzipReadError(message: message)
            }
        }

        /// Returns a read buffer for reuse and frees its slot.
        func giveBack(_ bytes: [UInt8]) {
            state.withLock { state in
                if !state.isClosed { state.spare.append(bytes) }
            }
            free.signal()
        }

        /// A buffer to fill (a reused one when there is one).
        func emptyBuffer() -> [UInt8] {
            state.withLock { $0.spare.popLast() } ?? [UInt8](repeating: 0, count: GzipInputStream.bufferSize)
        }

        /// Hands a filled buffer to the reader.
        func send(_ bytes: [UInt8], count: Int) {
            let waiter = state.withLock { state in
                state.filled.append((bytes, count))
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: true)
        }

        /// Marks the end of the stream.
        func finish(_ end: End) {
            let waiter = state.withLock { state in
                state.end = end
                defer { state.waiter = nil }
                return state.waiter
            }
            if case .stopped = end {
                waiter?.resume(returning: false)
            } else {
                waiter?.resume(returning: true)
            }
        }

        func close() {
            state.withLock { state in
                state.isClosed = true
                state.filled.removeAll()
                state.spare.removeAll()
            }
            free.signal()
        }

        func waitForData() async -> Bool {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let ready = state.withLock { state -> Bool? in
                        if Task.isCancelled { return false }
                        if !state.filled.isEmpty { return true }
                        switch state.end {
                        case nil:
                            state.waiter = continuation
                            return nil
                        case .stopped: return false
                        case .complete, .failed: return true
                        }
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: false)
            }
        }
    }

    /// The inflating thread's work.
    private struct Producer: Sendable {
        let channel: Channel
        let descriptor: Int32
        let closesDescriptor: Bool
        let prefix: [UInt8]
        let name: String
        let mayBlock: Bool
        let latch: StopLatch?

        func run() {
            defer { if closesDescriptor { SystemIO.closeQuietly(descriptor) } }
            channel.finish(inflate())
        }

        /// Reads, inflates and sends buffers until the end, an error, a stop or a close.
        private func inflate() -> End {
            let inflater = GzipInflater()
            var input = [UInt8](repeating: 0, count: 128 * 1024)
            var inputStart = 0
            var inputEnd = 0
            var endOfInput = false
            if !prefix.isEmpty {
                if input.count < prefix.count { input = prefix } else { input.replaceSubrange(0..<prefix.count, with: prefix) }
                inputEnd = prefix.count
            }
            var output: [UInt8]? = nil
            var filled = 0
            func send() {
                if let buffer = output, filled > 0 {
                    channel.send(buffer, count: filled)
                    output = nil
                    filled = 0
                }
            }
            while true {
                if output == nil {
                    channel.free.wait()
                    if channel.isClosed { return .stopped }
                    output = channel.emptyBuffer()
                }
                if inputStart == inputEnd, !endOfInput {
                    if mayBlock, !SystemIO.isReadableNow(descriptor) {
                        // Nothing more is ready: hand over what there is now (`tail -f`
                        // style input), then wait with the latch.
                        send()
                        if let latch, !latch.waitUntilReadable(descriptor) { return .stopped }
                        if output == nil { continue }
                    }
                    do throws(IOError) {
                        let got = try input.withMutableBytes { (buffer) throws(IOError) in
                            try SystemIO.read(descriptor, into: buffer.baseAddress!, count: buffer.count, name: name)
                        }
                        inputStart = 0
                        inputEnd = got
                        endOfInput = got == 0
                    } catch {
                        send()
                        return .failed(error.description)
                    }
                    if channel.isClosed { return .stopped }
                }
                let step: (consumed: Int, produced: Int)
                do throws(GzipError) {
                    step = try input.withBytes { (source) throws(GzipError) in
                        try output!.withMutableBytes { (target) throws(GzipError) in
                            try inflater.inflate(
                                UnsafeRawBufferPointer(rebasing: source[inputStart..<inputEnd]),
                                into: UnsafeMutableRawBufferPointer(rebasing: target[filled...]))
                        }
                    }
                } catch {
                    send()
                    return .failed(error.message(name: displayName))
                }
                inputStart += step.consumed
                filled += step.produced
                if filled == output!.count {
                    send()
                } else if step.consumed == 0, step.produced == 0, inputStart == inputEnd, endOfInput {
                    send()
                    do throws(GzipError) { try inflater.finish() } catch { return .failed(error.message(name: displayName)) }
                    return .complete
                } else if step.consumed == 0, step.produced == 0, inputStart < inputEnd {
                    // zlib took nothing with room on both sides: never expected; do not spin.
                    send()
                    return .failed(GzipError(.corrupt("no progress"), offset: inflater.compressedOffset).message(name: displayName))
                }
            }
        }

        private var displayName: String { InputName.display(name) }
    }
}

/// A gzip input that could not be read to its end: damaged data, or a read error.
package struct GzipReadError: Error, Sendable {
    /// The full message, naming the input and the compressed byte offset.
    package var message: String
}
