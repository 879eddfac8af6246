import Testing
@testable import WeirCore

/// The stage-side pieces (input framer, chunk transform, columns framer) driven the way the
/// runtime's reader drives them, with input arriving in small pieces.
@Suite struct CSVStageSupportTests {
    /// Feeds `input` to a framer `pieceSize` bytes at a time, as ``InputReader`` does, and
    /// converts every chunk; returns the output and the problems' messages.
    func run(_ input: String, settings: CSVReadSettings = CSVReadSettings(), pieceSize: Int) async -> (output: String, problems: [String]) {
        var framer = CSVInputFramer(settings: settings)
        framer.beginFile(name: "in.csv")
        var transform = CSVToJSONTransform(options: settings.conversion)
        let bytes = Array(input.utf8)
        var pending: [UInt8] = []
        var offset = 0
        var line = 1
        var output: [UInt8] = []
        var problems: [String] = []
        var sequence = 0
        while true {
            let end = min(offset + pieceSize, bytes.count)
            pending += bytes[offset..<end]
            offset = end
            let atEnd = offset == bytes.count
            let framed: FramedRecords
            do throws(RecordError) {
                framed = try pending.withBytes { (buffer) throws(RecordError) in try framer.frame(buffer, isEndOfInput: atEnd) }
            } catch {
                problems.append("framer: \(error.message)")
                pending.removeAll()
                if atEnd { break }
                continue
            }
            if framed.length > 0 {
                let chunkBytes = Array(pending[..<framed.length])
                pending.removeFirst(framed.length)
                let chunk = InputChunk(sequence: sequence, bytes: chunkBytes, fileName: "in.csv", firstLine: line, records: framed.records,
                                       fileContext: framed.fileContext, readerProblem: nil, inputByteCount: chunkBytes.count)
                sequence += 1
                line += chunkBytes.filter { $0 == 0x0A }.count
                var result = ChunkOutput(sequence: chunk.sequence, stopsAtFirstProblem: false, inputByteCount: chunkBytes.count)
                await transform.process(chunk, into: &result)
                output += result.bytes
                problems += result.problems.map { "\($0.line):\($0.column ?? 0): \($0.message)" }
            }
            if atEnd && pending.isEmpty { break }
            if atEnd && framed.length == 0 { break }
        }
        return (String(decoding: output, as: UTF8.self), problems)
    }

    @Test("chunks cut anywhere give the same rows and numbers", arguments: ["\n", "\r\n", "\r"])
    func chunksCutAnywhereGiveTheSameRowsAndNumbers(lineBreak: String) async {
        var csv = "Report \"Q3\nexported by shop\nid,note\n"
        for index in 1...60 { csv += index % 7 == 0 ? "\(index),\"two\nlines, \"\"quoted\"\"\"\n" : "\(index),plain \(index)\n" }
        csv += "61,\"bad\"x\n\n62,last"
        csv = csv.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: lineBreak)
        var settings = CSVReadSettings()
        settings.skipLines = 2
        settings.conversion.rowKey = "row"
        let whole = await run(csv, settings: settings, pieceSize: 1 << 20)
        #expect(whole.problems == ["72:9: row 62, field 2 (\"note\"): 'x' after the closing quote of a field (expected the delimiter or a line break)"])
        #expect(whole.output.split(separator: "\n").count == 61)
        #expect(whole.output.hasSuffix("{\"id\":62,\"note\":\"last\",\"row\":63}\n"))
        for pieceSize in [1, 2, 3, 5, 17, 64] {
            let pieces = await run(csv, settings: settings, pieceSize: pieceSize)
            #expect(pieces.output == whole.output, "pieces of \(pieceSize)")
            #expect(pieces.problems == whole.problems, "pieces of \(pieceSize)")
        }
    }

    @Test func sniffingNumberedAndGivenColumns() async {
        var settings = CSVReadSettings()
        settings.sniff = true
        #expect(await run("a;b\n\"1,5\";2\n", settings: settings, pieceSize: 3).output == "{\"a\":\"1,5\",\"b\":2}\n")
        settings = CSVReadSettings()
        settings.header = .numbered
        #expect(await run("x,y\n1,2\n", settings: settings, pieceSize: 2).output == "{\"1\":\"x\",\"2\":\"y\"}\n{\"1\":1,\"2\":2}\n")
        settings.header = .given(["p", "q"])
        #expect(await run("x,y\n", settings: settings, pieceSize: 1).output == "{\"p\":\"x\",\"q\":\"y\"}\n")
    }

    @Test func aBadHeaderSkipsTheFile() async {
        let result = await run("a,\"b\nc\n1,2\n", pieceSize: 4)
        #expect(result.output == "")
        #expect(result.problems.count == 1)
        #expect(result.problems[0].contains("in the header: unterminated quoted field"))
    }

    @Test func emptyAndBlankFiles() async {
        #expect(await run("", pieceSize: 4).output == "")
        #expect(await run("\n\r\n\n", pieceSize: 1).output == "")
        #expect(await run("a,b\n", pieceSize: 1).output == "")
    }

    @Test func columnsFramerTakesTheFirstValidRecord() throws {
        var framer = CSVColumnsFramer(columns: nil, flattenDepth: .max)
        let input = Array("oops\n\n{\"a\":1,\"b\":{\"c\":2}}\n{\"a\":3}\n".utf8)
        let first = try input.withBytes { (bytes) throws(RecordError) in try framer.frame(bytes, isEndOfInput: false) }
        #expect(first.length == 6)
        #expect((first.fileContext as? CSVColumnsContext)?.columns == nil)
        let rest = Array(input[6...])
        let second = try rest.withBytes { (bytes) throws(RecordError) in try framer.frame(bytes, isEndOfInput: false) }
        #expect(second.length == rest.count)
        let context = second.fileContext as? CSVColumnsContext
        #expect(context?.columns?.names == ["a", "b.c"])
        #expect(context?.writesHeader == true)
        let third = try Array("{\"a\":4}\n".utf8).withBytes { (bytes) throws(RecordError) in try framer.frame(bytes, isEndOfInput: true) }
        #expect((third.fileContext as? CSVColumnsContext)?.writesHeader == false)
    }
}
