import Testing
@testable import WeirCore

/// latin1, windows-1252 and UTF-16 input turned into UTF-8.
@Suite struct CSVTranscoderTests {
    func transcode(_ bytes: [UInt8], _ encoding: CSVEncoding, pieceSize: Int = 1 << 20) throws -> String {
        var transcoder = CSVTranscoder(encoding)
        var output: [UInt8] = []
        var offset = 0
        repeat {
            let end = min(offset + pieceSize, bytes.count)
            let piece = Array(bytes[offset..<end])
            offset = end
            try piece.withUnsafeBytes { raw in
                try transcoder.transcode(raw, isEndOfInput: offset == bytes.count, into: &output)
            }
        } while offset < bytes.count
        return String(decoding: output, as: UTF8.self)
    }

    @Test func latin1AndWindows1252() throws {
        let bytes: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x2C, 0x80, 0x2C, 0x81, 0x2C, 0x9F, 0x2C, 0xFF]
        #expect(try transcode(bytes, .latin1) == "café,\u{80},\u{81},\u{9F},ÿ")
        #expect(try transcode(bytes, .windows1252) == "café,€,\u{81},Ÿ,ÿ")
    }

    @Test func utf16WithAndWithoutByteOrderMark() throws {
        let text = "a,é\n日本,🙂\n"
        let littleEndian = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let bigEndian = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        for pieceSize in [1, 2, 3, 5, 1 << 20] {
            #expect(try transcode([0xFF, 0xFE] + littleEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(try transcode([0xFE, 0xFF] + bigEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(try transcode(littleEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(try transcode(bigEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(try transcode(littleEndian, .utf16LE, pieceSize: pieceSize) == text)
            #expect(try transcode([0xFE, 0xFF] + bigEndian, .utf16BE, pieceSize: pieceSize) == text)
        }
    }

    @Test func invalidUTF16IsAnError() {
        #expect(throws: CSVTranscodingError.self) { try transcode([0x61, 0x00, 0x00, 0xD8, 0x62, 0x00], .utf16LE) }
        #expect(throws: CSVTranscodingError.self) { try transcode([0x00, 0xDC], .utf16LE) }
        #expect(throws: CSVTranscodingError.self) { try transcode([0x61, 0x00, 0x62], .utf16LE) }
        #expect(throws: CSVTranscodingError.self) { try transcode([0x3D, 0xD8], .utf16LE) }
    }

    @Test func utf8ByteOrderMarkIsDropped() throws {
        for pieceSize in [1, 2, 4] {
            #expect(try transcode([0xEF, 0xBB, 0xBF, 0x61], .utf8, pieceSize: pieceSize) == "a")
            #expect(try transcode([0xEF, 0xBB, 0x61], .utf8, pieceSize: pieceSize) == "\u{FFFD}a")
            #expect(try transcode([0x61, 0xEF, 0xBB, 0xBF], .utf8, pieceSize: pieceSize) == "a\u{FEFF}")
        }
        #expect(try transcode([0xEF], .utf8) == "\u{FFFD}")
    }

    @Test func labels() {
        #expect(CSVEncoding(label: "UTF8") == .utf8)
        #expect(CSVEncoding(label: "ISO-8859-1") == .latin1)
        #expect(CSVEncoding(label: "cp1252") == .windows1252)
        #expect(CSVEncoding(label: "utf-16") == .utf16)
        #expect(CSVEncoding(label: "ebcdic") == nil)
    }
}
