import Foundation
import Testing
@testable import WeirCore

/// The gzip layer over zlib: inflating in pieces of any size, member after member, the
/// errors and their offsets, and the deflater's round trip.
@Suite struct GzipTests {
    /// `printf '{"a":1}\n{"a":2}\n' | gzip -n`: made by gzip(1), not by the code under test.
    static let twoRecords: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56, 0x4a, 0x54, 0xb2, 0x32,
        0xac, 0xe5, 0xaa, 0x06, 0xd1, 0x46, 0xb5, 0x5c, 0x00, 0x66, 0xc0, 0x5a, 0x19, 0x10, 0x00, 0x00, 0x00,
    ]
    static let twoRecordsText = Array("{\"a\":1}\n{\"a\":2}\n".utf8)
    /// `printf '' | gzip -n`: a member holding nothing.
    static let emptyMember: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]

    /// Feeds `input` in pieces of `pieceSize` bytes into output buffers of `outputSize`,
    /// then checks the end; returns what was inflated and the error, if any.
    static func inflate(_ input: [UInt8], pieceSize: Int, outputSize: Int = 7) -> (output: [UInt8], error: GzipError?) {
        let inflater = GzipInflater()
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: outputSize)
        var start = 0
        do throws(GzipError) {
            while true {
                let end = min(start + pieceSize, input.count)
                let piece = Array(input[start..<end])
                var offset = 0
                // Drain this piece (and what zlib holds back) before the next one.
                while true {
                    let (consumed, produced) = try piece.withBytes { (source) throws(GzipError) in
                        try buffer.withMutableBytes { (target) throws(GzipError) in
                            try inflater.inflate(UnsafeRawBufferPointer(rebasing: source[offset...]), into: target)
                        }
                    }
                    offset += consumed
                    output += buffer[0..<produced]
                    if consumed == 0, produced == 0 { break }
                }
                #expect(offset == piece.count)
                start = end
                if start == input.count { break }
            }
            try inflater.finish()
            return (output, nil)
        } catch {
            return (output, error)
        }
    }

    static func deflate(_ text: [UInt8], pieceSize: Int = 1 << 20) throws -> [UInt8] {
        let deflater = GzipDeflater(bufferSize: 64)
        var compressed: [UInt8] = []
        let emit = { (bytes: UnsafeRawBufferPointer) throws(IOError) in compressed += bytes }
        var start = 0
        while start < text.count {
            let end = min(start + pieceSize, text.count)
            try Array(text[start..<end]).withBytes { (bytes) throws(IOError) in try deflater.compress(bytes, emit: emit) }
            start = end
        }
        try deflater.finish(emit: emit)
        return compressed
    }

    @Test("gzip's own output inflates fed one byte at a time, and in any piece size")
    func oneByteAtATime() {
        for pieceSize in [1, 2, 3, 5, 10, 32, 1000] {
            let (output, error) = Self.inflate(Self.twoRecords, pieceSize: pieceSize, outputSize: pieceSize == 1 ? 1 : 7)
            #expect(error == nil, "piece size \(pieceSize)")
            #expect(output == Self.twoRecordsText, "piece size \(pieceSize)")
        }
    }

    @Test("concatenated members are read through, empty ones too, like zcat")
    func members() {
        let input = Self.twoRecords + Self.emptyMember + Self.twoRecords
        for pieceSize in [1, 4, 100] {
            let (output, error) = Self.inflate(input, pieceSize: pieceSize)
            #expect(error == nil)
            #expect(output == Self.twoRecordsText + Self.twoRecordsText)
        }
        let (empty, emptyError) = Self.inflate(Self.emptyMember, pieceSize: 1)
        #expect(empty.isEmpty && emptyError == nil)
    }

    @Test("zero padding after the last member is ignored; other trailing bytes are an error at their offset")
    func trailingBytes() {
        let padded = Self.inflate(Self.twoRecords + [0, 0, 0, 0], pieceSize: 3)
        #expect(padded.error == nil && padded.output == Self.twoRecordsText)
        let garbage = Self.inflate(Self.twoRecords + Array("junk".utf8), pieceSize: 1)
        #expect(garbage.output == Self.twoRecordsText)
        #expect(garbage.error == GzipError(.trailingGarbage, offset: Self.twoRecords.count))
        let zerosThenGarbage = Self.inflate(Self.twoRecords + [0, 0, 0x41], pieceSize: 100)
        #expect(zerosThenGarbage.error == GzipError(.trailingGarbage, offset: Self.twoRecords.count + 2))
        #expect(zerosThenGarbage.output == Self.twoRecordsText)
    }

    @Test("a stream cut anywhere inside a member is truncated at its length, with everything before it inflated")
    func truncated() throws {
        let text = Array((1...2000).map { "{\"n\":\($0)}\n" }.joined().utf8)
        let compressed = try Self.deflate(text)
        for cut in [2, 9, 10, 11, compressed.count / 2, compressed.count - 8, compressed.count - 1] {
            let (output, error) = Self.inflate(Array(compressed[..<cut]), pieceSize: 97)
            #expect(error == GzipError(.truncated, offset: cut), "cut at \(cut)")
            #expect(text.starts(with: output), "cut at \(cut)")
        }
        let half = Self.inflate(Array(compressed[..<(compressed.count / 2)]), pieceSize: 1)
        #expect(half.output.count > 1000)
    }

    @Test("damage is reported with zlib's reason and the offset it was found at; the output before it is kept")
    func corrupt() throws {
        var method = Self.twoRecords
        method[2] = 7
        let badMethod = Self.inflate(method, pieceSize: 100)
        #expect(badMethod.error?.kind == .corrupt("unknown compression method"))
        #expect(badMethod.output.isEmpty)

        var blockType = Self.twoRecords + Self.twoRecords
        blockType[Self.twoRecords.count + 10] |= 0x06  // the second member's first block: type 3
        let badBlock = Self.inflate(blockType, pieceSize: 1)
        #expect(badBlock.error?.kind == .corrupt("invalid block type"))
        #expect(badBlock.error.map { (Self.twoRecords.count + 10...Self.twoRecords.count + 11).contains($0.offset) } == true)
        #expect(badBlock.output == Self.twoRecordsText)

        var checksum = Self.twoRecords
        checksum[checksum.count - 8] ^= 0xFF
        let badChecksum = Self.inflate(checksum, pieceSize: 1000, outputSize: 1000)
        #expect(badChecksum.error?.kind == .corrupt("incorrect data check"))
        #expect(badChecksum.output == Self.twoRecordsText)

        var length = Self.twoRecords
        length[length.count - 4] ^= 0x01
        #expect(Self.inflate(length, pieceSize: 5).error?.kind == .corrupt("incorrect length check"))

        let message = GzipError(.corrupt("invalid block type"), offset: 1234).message(name: "data.gz")
        #expect(message == "data.gz: corrupt gzip data at byte 1234: invalid block type")
        #expect(GzipError(.truncated, offset: 9).message(name: "<stdin>") == "<stdin>: truncated gzip stream at byte 9")
    }

    @Test("the deflater's output is gzip that inflates back, whole and in pieces")
    func roundTrip() throws {
        let text = Array((1...5000).map { "{\"n\":\($0),\"s\":\"ünïcode \($0 * 7)\"}\n" }.joined().utf8)
        for (input, pieceSize) in [(text, 1 << 20), (text, 1000), (Array(text.prefix(3000)), 1)] {
            let compressed = try Self.deflate(input, pieceSize: pieceSize)
            #expect(compressed.starts(with: GzipFormat.magic))
            #expect(try GzipInflater.inflateAll(compressed) == input)
            #expect(Self.inflate(compressed, pieceSize: 4096, outputSize: 65536).output == input)
        }
        let nothing = try Self.deflate([])
        #expect(try GzipInflater.inflateAll(nothing).isEmpty)
        #expect(try GzipInflater.inflateAll(Self.twoRecords) == Self.twoRecordsText)
    }
}
