/// Validates JSON texts and writes them compactly: the hot path of `weir-cat` and `weir-filter`.
///
/// Acceptance and errors are exactly those of ``JSONParser`` (both use the same byte-level
/// grammar), but no value is built: the compact form is the input minus insignificant
/// whitespace, with string bytes and number literals copied verbatim (`"\u00e9"` and `1.10`
/// come out as they went in). Already-compact text is copied in a single run.
package enum JSONCompactor {
    /// Validates one JSON text and appends its compact form to `output`.
    ///
    /// On error `output` is restored to its length on entry and the error's offset is a
    /// byte offset into `text`.
    package static func compact(
        _ text: UnsafeRawBufferPointer,
        into output: inout [UInt8],
        maxDepth: Int = JSONParser.defaultMaxDepth
    ) throws(JSONError) {
        let entryCount = output.count
        let base = JSONScan.base(of: text)
        if text.isEmpty { throw JSONScan.unexpected(base, 0, 0, expected: JSONScan.expectedValue) }
        // Copy the text in, then compact that copy in place (only ever moving bytes left) and trim.
        output.append(contentsOf: text)
        let result: Result<Int, JSONError> = output.withUnsafeMutableBufferPointer { buffer in
            var validator = JSONValidator(
                base: base, count: text.count, position: 0, maxDepth: maxDepth,
                output: buffer.baseAddress! + entryCount
            )
            do throws(JSONError) {
                try validator.scanText()
            } catch {
                return .failure(error)
            }
            return .success(validator.outputCount)
        }
        switch result {
        case .success(let written):
            output.removeLast(text.count - written)
        case .failure(let error):
            output.removeLast(output.count - entryCount)
            throw error
        }
    }

    /// Appends the compact form of a text that has already been validated (by ``JSONParser``,
    /// whose partial parse validates what it skips): drops the whitespace outside strings and
    /// checks nothing else, so a stage that parses a record for its key does not validate it twice.
    /// Runs without whitespace are copied whole, and a text the parse found compact
    /// (`isCompact`, from ``JSONParser/parse(_:keeping:isCompact:maxDepth:)``) in one copy.
    package static func appendValidated(_ text: UnsafeRawBufferPointer, isCompact: Bool = false, into output: inout [UInt8]) {
        if isCompact { output.append(contentsOf: text); return }
        guard let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let count = text.count
        var runStart = 0
        var index = 0
        while index < count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                // Inside a string: to the closing quote, stepping over escaped characters.
                index &+= 1
                while index < count {
                    let inner = base[index]
                    if inner == UInt8(ascii: "\"") { break }
                    index &+= inner == UInt8(ascii: "\\") ? 2 : 1
                }
            } else if byte <= 0x20 {  // a validated text has only space, tab, CR and LF here
                if index > runStart { output.append(contentsOf: UnsafeRawBufferPointer(start: base + runStart, count: index &- runStart)) }
                runStart = index &+ 1
            }
            index &+= 1
        }
        if count > runStart { output.append(contentsOf: UnsafeRawBufferPointer(start: base + runStart, count: count &- runStart)) }
    }

    /// Validates one JSON text (surrounding whitespace allowed) without building anything.
    package static func validate(_ text: UnsafeRawBufferPointer, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONError) {
        var validator = JSONValidator(base: JSONScan.base(of: text), count: text.count, position: 0, maxDepth: maxDepth)
        try validator.scanText()
    }

    /// Validates one JSON text held in a byte array and appends its compact form.
    package static func compact(_ text: [UInt8], into output: inout [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONError) {
        let result: Result<Void, JSONError> = text.withUnsafeBytes { buffer in
            do throws(JSONError) { try compact(buffer, into: &output, maxDepth: maxDepth); return .success(()) }
            catch { return .failure(error) }
        }
        try result.get()
    }
}
