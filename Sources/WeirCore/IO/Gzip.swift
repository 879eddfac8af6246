import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// The gzip format (RFC 1952) over the system zlib: how input is recognised, inflated and
/// written.
///
/// Input is recognised by its first two bytes (`1f 8b`), never by its name, so standard
/// input and FIFOs are read the same way as `x.ndjson.gz`; output is compressed when the
/// file's name ends in `.gz`.
package enum GzipFormat {
    /// The two bytes every gzip member starts with.
    package static let magic: [UInt8] = [0x1F, 0x8B]

    /// True when `bytes` start like a gzip member.
    static func startsMember(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// True when the regular file open on `descriptor` starts like a gzip member (read
    /// without moving the file's position).
    static func fileStartsMember(_ descriptor: Int32) -> Bool {
        var start: [UInt8] = [0, 0]
        return pread(descriptor, &start, 2, 0) == 2 && start == magic
    }

    /// True when an output at `path` is written compressed (its name ends in `.gz`).
    static func compressesOutput(to path: String) -> Bool {
        path.hasSuffix(".gz")
    }

    /// The compression level of `-o FILE.gz`: zlib's default (6), as `gzip` writes.
    static let outputLevel: Int32 = 6
}

/// Why a gzip stream could not be read, with the compressed byte offset where it happened.
package struct GzipError: Error, Sendable, Equatable {
    /// What went wrong.
    package enum Kind: Sendable, Equatable {
        /// zlib rejected the data: a bad header, bad deflate data, a CRC or length mismatch.
        case corrupt(String)
        /// The input ended inside a member.
        case truncated
        /// Bytes after the last member that are neither another member nor zero padding.
        case trailingGarbage
    }

    package var kind: Kind
    /// The offset in the compressed input (0-based: the bytes read before the problem).
    package var offset: Int

    package init(_ kind: Kind, offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// `NAME: corrupt gzip data at byte N: invalid block type`, and the like.
    package func message(name: String) -> String {
        switch kind {
        case .corrupt(let reason): return "\(name): corrupt gzip data at byte \(offset): \(reason)"
        case .truncated: return "\(name): truncated gzip stream at byte \(offset)"
        case .trailingGarbage: return "\(name): trailing garbage after gzip data at byte \(offset)"
        }
    }
}

/// Inflates a gzip stream fed in pieces of any size (one byte at a time works), member after
/// member as `zcat` does; zero bytes after the last member (padding) are ignored.
///
/// Not thread-safe: one owner feeds it. The `z_stream` lives at a fixed address (zlib keeps
/// a pointer back to it), so this is a class.
package final class GzipInflater {
    private enum Phase {
        /// Inside a member: bytes go to zlib.
        case inMember
        /// A member ended: the next byte starts another, begins padding, or is garbage.
        case betweenMembers
        /// Zero bytes after the last member.
        case padding
    }

    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var phase = Phase.inMember
    /// Compressed bytes consumed so far (zlib's own count restarts with each member).
    package private(set) var compressedOffset = 0
    /// Members finished so far.
    package private(set) var memberCount = 0
    /// An error met after some output of the same call: thrown by the next call, so that
    /// output is delivered first.
    private var heldError: GzipError?

    package init() {
        stream.initialize(to: z_stream())
        // Only Z_MEM_ERROR can fail this; the first inflate call then reports it.
        _ = weir_inflate_init_gzip(stream)
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates from `input` into `output` until one of them is used up; returns how many
    /// bytes of each it used. With `input` empty it still delivers output zlib holds back.
    /// Throws at the first bad byte, once every byte inflated before it was returned (a call
    /// that produced output returns it and the next call throws).
    package func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(GzipError) -> (consumed: Int, produced: Int) {
        if let heldError { throw heldError }
        var consumed = 0
        var produced = 0
        do throws(GzipError) {
            try inflateSteps(input, into: output, consumed: &consumed, produced: &produced)
        } catch {
            compressedOffset += consumed
            guard produced > 0 else { throw error }
            heldError = error
            return (consumed, produced)
        }
        compressedOffset += consumed
        return (consumed, produced)
    }

    private func inflateSteps(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, consumed: inout Int, produced: inout Int) throws(GzipError) {
        while produced < output.count {
            switch phase {
            case .betweenMembers, .padding:
                guard consumed < input.count else { return }
                let byte = input[consumed]
                if byte == 0 {
                    phase = .padding
                    consumed += 1
                } else if byte == 0x1F, phase == .betweenMembers {
                    inflateReset(stream)
                    phase = .inMember
                } else {
                    throw GzipError(.trailingGarbage, offset: compressedOffset + consumed)
                }
            case .inMember:
                let availableIn = min(input.count - consumed, Int(UInt32.max))
                let availableOut = min(output.count - produced, Int(UInt32.max))
                stream.pointee.next_in = availableIn == 0 ? nil : UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self) + consumed)
                stream.pointee.avail_in = UInt32(availableIn)
                stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                stream.pointee.avail_out = UInt32(availableOut)
                let status = CZlib.inflate(stream, Z_NO_FLUSH)
                consumed += availableIn - Int(stream.pointee.avail_in)
                produced += availableOut - Int(stream.pointee.avail_out)
                switch status {
                case Z_OK:
                    if consumed == input.count, produced < output.count { return }
                case Z_STREAM_END:
                    phase = .betweenMembers
                    memberCount += 1
                case Z_BUF_ERROR:
                    return  // no progress possible: more input is needed
                case Z_MEM_ERROR:
                    throw GzipError(.corrupt("out of memory"), offset: compressedOffset + consumed)
                default:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw GzipError(.corrupt(reason), offset: compressedOffset + consumed)
                }
            }
        }
    }

    /// Checks the end of the input: it must not fall inside a member.
    package func finish() throws(GzipError) {
        if let heldError { throw heldError }
        if phase == .inMember { throw GzipError(.truncated, offset: compressedOffset) }
    }

    /// Inflates a whole gzip stream held in memory (a small file read whole).
    package static func inflateAll(_ bytes: [UInt8]) throws(GzipError) -> [UInt8] {
        let inflater = GzipInflater()
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        while true {
            let (consumed, produced) = try bytes.withBytes { (input) throws(GzipError) in
                try chunk.withMutableBytes { (buffer) throws(GzipError) in
                    try inflater.inflate(UnsafeRawBufferPointer(rebasing: input[offset...]), into: buffer)
                }
            }
            offset += consumed
            output.append(contentsOf: chunk[0..<produced])
            if produced == 0 && (consumed == 0 || offset == bytes.count) { break }
        }
        try inflater.finish()
        return output
    }
}

/// Compresses bytes into one gzip member (zlib's `deflate`), handing the compressed bytes to
/// a writer as its buffer fills.
package final class GzipDeflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var buffer: [UInt8]
    private var isReady: Bool
    private var isFinished = false

    /// A deflater at `level` (0–9; zlib's default is 6).
    package init(level: Int32 = GzipFormat.outputLevel, bufferSize: Int = 256 * 1024) {
        stream.initialize(to: z_stream())
        isReady = weir_deflate_init_gzip(stream, level) == Z_OK
        buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `bytes`, calling `emit` with each filled buffer of compressed output.
    package func compress(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        try run(bytes, flush: Z_NO_FLUSH, emit: emit)
    }

    /// Ends the member (its trailer: CRC and length) and emits what remains.
    package func finish(emit: (UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        guard !isFinished else { return }
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, emit: emit)
        isFinished = true
    }

    private func run(_ bytes: UnsafeRawBufferPointer, flush: Int32, emit: (UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        guard isReady else { throw IOError(code: ENOMEM, context: "cannot start gzip compression") }
        var offset = 0
        while true {
            let availableIn = min(bytes.count - offset, Int(UInt32.max))
            stream.pointee.next_in = availableIn == 0 ? nil : UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset)
            stream.pointee.avail_in = UInt32(availableIn)
            let (status, produced) = buffer.withUnsafeMutableBytes { output in
                stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = UInt32(output.count)
                let status = deflate(stream, flush)
                return (status, output.count - Int(stream.pointee.avail_out))
            }
            offset += availableIn - Int(stream.pointee.avail_in)
            if produced > 0 {
                try buffer.withBytes { (output) throws(IOError) in try emit(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            }
            if status == Z_STREAM_END { return }
            if status != Z_OK && status != Z_BUF_ERROR { throw IOError(code: EIO, context: "gzip compression failed (zlib error \(status))") }
            // Done when all input is taken and zlib had room to spare (nothing held back).
            if flush != Z_FINISH, offset == bytes.count, stream.pointee.avail_out > 0 { return }
        }
    }
}
