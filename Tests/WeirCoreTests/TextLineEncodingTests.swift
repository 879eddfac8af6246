import Foundation
import Testing
@testable import WeirCore

@Suite struct TextLineEncodingTests {
    func encode(_ bytes: [UInt8], lossy: Bool = false) throws(RecordError) -> String {
        var output: [UInt8] = []
        try bytes.withBytes { (line) throws(RecordError) in try TextLineEncoding.appendJSONString(line, lossy: lossy, into: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    @Test("text is copied, what JSON must escape is escaped")
    func escapes() throws {
        #expect(try encode([]) == "\"\"")
        #expect(try encode(Array("plain text that is longer than eight bytes".utf8)) == "\"plain text that is longer than eight bytes\"")
        #expect(try encode(Array("q\"b\\t\tn\u{1}\u{1F}\u{7F}é東😀".utf8)) == "\"q\\\"b\\\\t\\tn\\u0001\\u001f\u{7F}é東😀\"")
        #expect(try encode([0x0D, 0x08, 0x0C]) == "\"\\r\\b\\f\"")
    }

    @Test("invalid UTF-8 is an error at its column; --lossy replaces it as String(decoding:) does")
    func invalid() {
        let cases: [([UInt8], Int)] = [([0x61, 0xFF], 2), ([0xC3], 1), ([0x61, 0x62, 0xE2, 0x82], 3), ([0xED, 0xA0, 0x80], 1), ([0xC0, 0xAF], 1), ([0xF4, 0x90, 0x80, 0x80], 1)]
        for (bytes, column) in cases {
            do throws(RecordError) {
                _ = try encode(bytes)
                Issue.record("\(bytes) was accepted")
            } catch {
                #expect(error.column == column, "\(bytes)")
            }
        }
        #expect(try! encode([0x61, 0xE2, 0x82, 0x20, 0xF0, 0x9F, 0x98], lossy: true) == "\"a\u{FFFD} \u{FFFD}\"")
    }

    @Test("random bytes: every line is valid JSON whose value is the line (or its lossy decoding)")
    func randomLines() throws {
        var generator = SplitMix64(seed: 11)
        let pieces: [[UInt8]] = [[0x61], [0x22], [0x5C], [0x09], [0x00], [0x1B], [0xC3, 0xA9], [0xE6, 0x9D, 0xB1],
                                 [0xF0, 0x9F, 0x98, 0x80], [0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0x80], [0x20]]
        for _ in 0..<2_000 {
            var line: [UInt8] = []
            for _ in 0..<Int(generator.below(24)) { line += pieces[Int(generator.below(UInt64(pieces.count)))] }
            let expected = String(decoding: line, as: UTF8.self)
            let text = try encode(line, lossy: true)
            let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? String
            #expect(decoded == expected, "\(line)")
            let strict = Result { () throws(RecordError) in try encode(line) }
            #expect((try? strict.get()) != nil || String(validating: line, as: UTF8.self) == nil)
            if String(validating: line, as: UTF8.self) != nil { #expect(try strict.get() == text) }
        }
    }
}
