#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer for the CSV codec's hot paths.
///
/// `Array<UInt8>.append(contentsOf:)` costs a uniqueness check and a generic copy per call,
/// which dominated encoding (fields average a few bytes). This buffer is a bare pointer,
/// count and capacity: ``reserve(_:)`` once per record, then unchecked appends. It is
/// noncopyable, so it is owned by exactly one worker and freed with it; ``array`` or
/// ``withBytes(_:)`` hand the result over once per chunk.
package struct CSVByteBuffer: ~Copyable {
    /// The first byte.
    package private(set) var base: UnsafeMutablePointer<UInt8>
    /// Bytes written.
    package private(set) var count = 0
    /// Bytes allocated.
    package private(set) var capacity: Int

    /// An empty buffer with room for `capacity` bytes.
    package init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Makes room for `extra` more bytes, so that that many appends need no check.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends one byte.
    @inline(__always)
    package mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    /// Appends one byte that ``reserve(_:)`` made room for.
    @inline(__always)
    mutating func appendReserved(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// Appends `length` bytes from `source`.
    @inline(__always)
    package mutating func append(_ source: UnsafePointer<UInt8>, _ length: Int) {
        reserve(length)
        appendReserved(source, length)
    }

    /// Appends `length` bytes from `source` that ``reserve(_:)`` made room for.
    @inline(__always)
    mutating func appendReserved(_ source: UnsafePointer<UInt8>, _ length: Int) {
        let target = UnsafeMutableRawPointer(base + count)
        let from = UnsafeRawPointer(source)
        // Short copies (most fields and keys) as two overlapping loads and stores.
        if length >= 8 && length <= 16 {
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: length - 8, as: UInt64.self)
        } else if length >= 4 && length < 8 {
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)
            target.storeBytes(of: head, as: UInt32.self)
            target.storeBytes(of: tail, toByteOffset: length - 4, as: UInt32.self)
        } else if length < 4 {
            var index = 0
            while index < length {
                target.storeBytes(of: from.load(fromByteOffset: index, as: UInt8.self), toByteOffset: index, as: UInt8.self)
                index += 1
            }
        } else {
            memcpy(target, from, length)
        }
        count += length
    }

    /// Appends the bytes of an array.
    @inline(__always)
    package mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            if let source = buffer.baseAddress { append(source, buffer.count) }
        }
    }

    /// Appends the UTF-8 of a string.
    package mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            if let source = buffer.baseAddress { append(source, buffer.count) }
        }
    }

    /// Drops bytes from the end, keeping the first `newCount`.
    @inline(__always)
    package mutating func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count)
        count = newCount
    }

    /// Empties the buffer, keeping its memory.
    package mutating func removeAll() { count = 0 }

    /// Runs `body` on the bytes written so far.
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A copy of the bytes written so far.
    package var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Appends the bytes written so far to `output`.
    package func append(to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
    }
}
