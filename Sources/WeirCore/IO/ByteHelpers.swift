extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps a typed error (the standard one rethrows `any Error`).
    @inline(__always)
    package func withBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        let outcome: Swift.Result<Result, Failure> = withUnsafeBytes { buffer in
            Swift.Result { () throws(Failure) -> Result in try body(buffer) }
        }
        return try outcome.get()
    }

    /// `withUnsafeMutableBytes` that keeps a typed error.
    @inline(__always)
    package mutating func withMutableBytes<Result, Failure: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        let outcome: Swift.Result<Result, Failure> = withUnsafeMutableBytes { buffer in
            Swift.Result { () throws(Failure) -> Result in try body(buffer) }
        }
        return try outcome.get()
    }
}

/// Byte searches over raw buffers.
package enum ByteSearch {
    /// The offset of the last `byte` in `bytes`, scanning backwards, or nil.
    @inline(__always)
    package static func lastIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer) -> Int? {
        var index = bytes.count - 1
        while index >= 0 {
            if bytes[index] == byte { return index }
            index -= 1
        }
        return nil
    }
}
