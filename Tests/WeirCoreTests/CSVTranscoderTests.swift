import Testing
@testable import WeirCore

/// latin1, windows-1252 and UTF-16 input turned into UTF-8.
@Suite struct CSVTranscoderTests {
    func transcodeBytes(_ bytes: [UInt8], _ encoding: CSVEncoding, pieceSize: Int = 1 << 20) -> [UInt8] {
        var transcoder = CSVTranscoder(encoding)
        var output: [UInt8] = []
        var offset = 0
        repeat {
            let end = min(offset + pieceSize, bytes.count)
            let piece = Array(bytes[offset..<end])
            offset = end
            piece.withUnsafeBytes { raw in
                transcoder.transcode(raw, isEndOfInput: offset == bytes.count, into: &output)
            }
        } while offset < bytes.count
        return output
    }

    func transcode(_ bytes: [UInt8], _ encoding: CSVEncoding, pieceSize: Int = 1 << 20) -> String {
        String(decoding: transcodeBytes(bytes, encoding, pieceSize: pieceSize), as: UTF8.self)
    }

    /// The text with each problem marker shown as `<kind@offset>`.
    func marked(_ bytes: [UInt8], _ encoding: CSVEncoding, pieceSize: Int = 1 << 20) -> String {
        let output = transcodeBytes(bytes, encoding, pieceSize: pieceSize)
        var text = ""
        var plain: [UInt8] = []
        output.withUnsafeBytes { raw in
            var index = 0
            while index < raw.count {
                if let problem = CSVTranscodingProblem(marker: raw, at: index) {
                    text += String(decoding: plain, as: UTF8.self) + "<\(problem.kind)@\(problem.offset)>"
                    plain.removeAll()
                    var marker: [UInt8] = []
                    problem.appendMarker(into: &marker)
                    index += marker.count
                } else {
                    plain.append(raw[index])
                    index += 1
                }
            }
        }
        return text + String(decoding: plain, as: UTF8.self)
    }

    @Test func latin1AndWindows1252() {
        let bytes: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x2C, 0x80, 0x2C, 0x81, 0x2C, 0x9F, 0x2C, 0xFF]
        #expect(transcode(bytes, .latin1) == "café,\u{80},\u{81},\u{9F},ÿ")
        #expect(transcode(bytes, .windows1252) == "café,€,\u{81},Ÿ,ÿ")
    }

    @Test func utf16WithAndWithoutByteOrderMark() {
        let text = "a,é\n日本,🙂\n"
        let littleEndian = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let bigEndian = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        for pieceSize in [1, 2, 3, 5, 1 << 20] {
            #expect(transcode([0xFF, 0xFE] + littleEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(transcode([0xFE, 0xFF] + bigEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(transcode(littleEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(transcode(bigEndian, .utf16, pieceSize: pieceSize) == text)
            #expect(transcode(littleEndian, .utf16LE, pieceSize: pieceSize) == text)
            #expect(transcode([0xFE, 0xFF] + bigEndian, .utf16BE, pieceSize: pieceSize) == text)
        }
    }

    /// What UTF-16 cannot say is marked in the output where it was, never replaced or dropped,
    /// and the text around it is kept.
    @Test func invalidUTF16IsMarked() {
        for pieceSize in [1, 2, 3, 1 << 20] {
            #expect(marked([0x61, 0x00, 0x00, 0xD8, 0x62, 0x00], .utf16LE, pieceSize: pieceSize) == "a<unpairedHighSurrogate@2>b")
            #expect(marked([0x00, 0xDC, 0x0A, 0x00], .utf16LE, pieceSize: pieceSize) == "<unpairedLowSurrogate@0>\n")
            #expect(marked([0x61, 0x00, 0x62], .utf16LE, pieceSize: pieceSize) == "a<oddByteCount@2>")
            #expect(marked([0x3D, 0xD8], .utf16LE, pieceSize: pieceSize) == "<unpairedHighSurrogate@0>")
            // A byte order mark or a line feed for the other byte order: the file was declared wrongly.
            #expect(marked([0xFE, 0xFF, 0x00, 0x61], .utf16LE, pieceSize: pieceSize) == "<byteOrderMarkMismatch@0>愀")
            #expect(marked([0xFF, 0xFE, 0x61, 0x00], .utf16BE, pieceSize: pieceSize) == "<byteOrderMarkMismatch@0>愀")
            #expect(marked([0x00, 0x61, 0x00, 0x0A], .utf16LE, pieceSize: pieceSize) == "愀<swappedLineFeed@2>")
            #expect(marked([0x61, 0x00, 0x0A, 0x00], .utf16BE, pieceSize: pieceSize) == "愀<swappedLineFeed@2>")
        }
    }

    @Test func problemMarkersCarryLargeOffsetsAndNoASCII() {
        for offset in [0, 63, 64, 4095, 1 << 30, (1 << 48) - 1] {
            var marker: [UInt8] = []
            CSVTranscodingProblem(.oddByteCount, offset: offset).appendMarker(into: &marker)
            #expect(marker.allSatisfy { $0 >= 0x80 })
            let read = marker.withUnsafeBytes { CSVTranscodingProblem(marker: $0, at: 0) }
            #expect(read == CSVTranscodingProblem(.oddByteCount, offset: offset))
        }
        let text: [UInt8] = Array("a,".utf8) + [0xFF, 0x80, 0x81] + Array(",b".utf8)
        #expect(text.withUnsafeBytes { CSVTranscodingProblem.replacingMarkers(in: $0) } == Array("a,\u{FFFD},b".utf8))
    }

    @Test func utf8ByteOrderMarkIsDropped() {
        for pieceSize in [1, 2, 4] {
            #expect(transcode([0xEF, 0xBB, 0xBF, 0x61], .utf8, pieceSize: pieceSize) == "a")
            #expect(transcode([0xEF, 0xBB, 0x61], .utf8, pieceSize: pieceSize) == "\u{FFFD}a")
            #expect(transcode([0x61, 0xEF, 0xBB, 0xBF], .utf8, pieceSize: pieceSize) == "a\u{FEFF}")
        }
        #expect(transcode([0xEF], .utf8) == "\u{FFFD}")
    }

    @Test func labels() {
        #expect(CSVEncoding(label: "UTF8") == .utf8)
        #expect(CSVEncoding(label: "ISO-8859-1") == .latin1)
        #expect(CSVEncoding(label: "cp1252") == .windows1252)
        #expect(CSVEncoding(label: "utf-16") == .utf16)
        #expect(CSVEncoding(label: "ebcdic") == nil)
    }
}
