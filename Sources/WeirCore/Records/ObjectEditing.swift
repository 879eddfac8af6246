/// Edits compact JSON objects in place in an output buffer, without a full re-serialization
/// where the edit allows it.
package enum ObjectEditing {
    /// Sets `key` to `value` in the compact JSON object that occupies `output[start...]`.
    ///
    /// When the key is not already present (the usual case), the entry is appended before the
    /// closing brace and nothing else is touched. Otherwise the object is parsed, updated
    /// (keeping the key's position, as jq does) and rewritten. A non-object is an error.
    package static func setField(_ key: String, to value: JSONValue, inCompactObjectFrom start: Int, of output: inout [UInt8]) throws(RecordError) {
        guard output.count - start >= 2, output[start] == UInt8(ascii: "{"), output[output.count - 1] == UInt8(ascii: "}") else {
            let kind = output.count > start ? describeKind(output[start]) : "nothing"
            throw RecordError("cannot add field \"\(key)\" to \(kind): the record is not an object")
        }
        var quotedKey: [UInt8] = []
        JSONWriter.writeString(key, into: &quotedKey)
        let mayContainKey = output[start...].withUnsafeBufferPointer { haystack in
            contains(UnsafeRawBufferPointer(haystack), quotedKey)
        }
        if !mayContainKey {
            output.removeLast()
            if output.count - start > 1 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: quotedKey)
            output.append(UInt8(ascii: ":"))
            JSONWriter.write(value, into: &output)
            output.append(UInt8(ascii: "}"))
            return
        }
        let parsed: JSONValue
        do throws(JSONError) {
            parsed = try JSONParser.parse(Array(output[start...]))
        } catch {
            throw RecordError(error.message)
        }
        guard case .object(var object) = parsed else { throw RecordError("the record is not an object") }
        object[key] = value
        output.removeSubrange(start...)
        JSONWriter.write(.object(object), into: &output)
    }

    private static func describeKind(_ firstByte: UInt8) -> String {
        switch firstByte {
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        default: "a number"
        }
    }

    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return true }
            }
            index += 1
        }
        return false
    }
}
