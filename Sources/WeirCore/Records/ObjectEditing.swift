#if canImport(Glibc)
import Glibc
#endif

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

    /// A top-level member of a JSON object text: the byte ranges of its key (quotes
    /// included) and of its value.
    package struct Member: Sendable, Equatable {
        package var key: Range<Int>
        package var value: Range<Int>

        package init(key: Range<Int>, value: Range<Int>) {
            self.key = key
            self.value = value
        }
    }

    /// Where the members of an object text are: see ``scanMembers(of:into:)``.
    package struct Layout: Sendable {
        /// The offset of the closing `}`.
        package var close = 0
        /// True when some key holds a `\` escape (so equal keys may be spelled differently).
        var hasEscapedKey = false
    }

    /// Finds the top-level members of `object`, a JSON text already validated (whitespace
    /// allowed), replacing the contents of `members`; nil when the text is not an object.
    /// One pass that skips strings and nested values without decoding them.
    package static func scanMembers(of object: UnsafeRawBufferPointer, into members: inout [Member]) -> Layout? {
        members.removeAll(keepingCapacity: true)
        let count = object.count
        var position = 0
        func skipWhitespace() {
            while position < count, object[position] == 0x20 || object[position] == 0x09 || object[position] == 0x0A || object[position] == 0x0D { position += 1 }
        }
        /// From the opening quote to just past the closing one; true when an escape was seen.
        func skipString() -> Bool {
            var escaped = false
            position += 1
            while position < count {
                let byte = object[position]
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    position += 2
                    continue
                }
                position += 1
                if byte == UInt8(ascii: "\"") { break }
            }
            return escaped
        }
        /// `skipString` for a value (whose escapes do not matter): memchr to each quote, which
        /// closes the string unless an odd run of backslashes comes before it.
        func skipStringValue() {
            guard let base = object.baseAddress else { return }
            position += 1
            while position < count {
                guard let found = memchr(base + position, Int32(UInt8(ascii: "\"")), count - position) else {
                    position = count
                    return
                }
                let quote = base.distance(to: UnsafeRawPointer(found))
                var backslashes = 0
                while quote - backslashes - 1 >= position, object[quote - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
                position = quote + 1
                if backslashes % 2 == 0 { return }
            }
        }
        skipWhitespace()
        guard position < count, object[position] == UInt8(ascii: "{") else { return nil }
        position += 1
        var layout = Layout()
        skipWhitespace()
        if position < count, object[position] == UInt8(ascii: "}") {
            layout.close = position
            return layout
        }
        while position < count {
            skipWhitespace()
            let keyStart = position
            if skipString() { layout.hasEscapedKey = true }
            let keyEnd = position
            skipWhitespace()
            position += 1  // the colon
            skipWhitespace()
            let valueStart = position
            var depth = 0
            while position < count {
                let byte = object[position]
                if byte == UInt8(ascii: "\"") {
                    skipStringValue()
                    continue
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    if depth == 0 { break }
                    depth -= 1
                } else if depth == 0, byte == UInt8(ascii: ",") {
                    break
                }
                position += 1
            }
            var valueEnd = position
            while valueEnd > valueStart, object[valueEnd - 1] == 0x20 || object[valueEnd - 1] == 0x09 || object[valueEnd - 1] == 0x0A || object[valueEnd - 1] == 0x0D { valueEnd -= 1 }
            members.append(Member(key: keyStart..<keyEnd, value: valueStart..<valueEnd))
            guard position < count else { break }
            if object[position] == UInt8(ascii: "}") {
                layout.close = position
                return layout
            }
            position += 1  // the comma
        }
        return nil
    }

    /// Scratch buffers for ``appendMerged(_:with:into:scratch:)`` and
    /// ``appendSettingField(_:to:in:into:scratch:)``, reused from record to record.
    package struct Scratch {
        var recordMembers: [Member] = []
        var addedMembers: [Member] = []
        var replacement: [Int] = []
        var used: [Bool] = []
        var fieldKey: String? = nil
        var quotedFieldKey: [UInt8] = []

        package init() {}
    }

    /// Appends `record + added` as jq computes it for two objects: `added`'s members win,
    /// a key already in `record` keeps its place there, new keys follow in `added`'s order.
    ///
    /// Both are validated JSON texts. The result is spliced from their bytes: `record`'s
    /// untouched members come through as they are (number literals, escapes, its spacing),
    /// and so do `added`'s values. When a key of either holds an escape (`"\u0061"` is
    /// `"a"`), both are parsed, merged as values and written compactly instead. A record
    /// that is not an object is an error naming what it is; so is an `added` that is not.
    package static func appendMerged(_ record: UnsafeRawBufferPointer, with added: UnsafeRawBufferPointer, into output: inout [UInt8], scratch: inout Scratch) throws(RecordError) {
        guard let recordLayout = scanMembers(of: record, into: &scratch.recordMembers) else {
            throw RecordError("cannot merge an object into \(describeKind(firstByte(record))): the record is not an object")
        }
        guard let addedLayout = scanMembers(of: added, into: &scratch.addedMembers) else {
            throw RecordError("cannot merge \(describeKind(firstByte(added))) into the record: the match is not an object")
        }
        if recordLayout.hasEscapedKey || addedLayout.hasEscapedKey {
            return try appendMergedByValue(record, with: added, into: &output)
        }
        let recordMembers = scratch.recordMembers, addedMembers = scratch.addedMembers
        scratch.replacement.removeAll(keepingCapacity: true)
        scratch.replacement.append(contentsOf: repeatElement(-1, count: recordMembers.count))
        scratch.used.removeAll(keepingCapacity: true)
        scratch.used.append(contentsOf: repeatElement(false, count: addedMembers.count))
        var replaced = 0
        for (addedIndex, addedMember) in addedMembers.enumerated() {
            let key = UnsafeRawBufferPointer(rebasing: added[addedMember.key])
            for (recordIndex, recordMember) in recordMembers.enumerated() where recordMember.key.count == key.count {
                if memcmp(record.baseAddress! + recordMember.key.lowerBound, key.baseAddress!, key.count) == 0 {
                    if scratch.replacement[recordIndex] < 0 { replaced += 1 }
                    scratch.replacement[recordIndex] = addedIndex
                    scratch.used[addedIndex] = true
                }
            }
        }
        var cursor = 0
        if replaced > 0 {
            for (recordIndex, recordMember) in recordMembers.enumerated() where scratch.replacement[recordIndex] >= 0 {
                output.append(contentsOf: record[cursor..<recordMember.value.lowerBound])
                output.append(contentsOf: added[addedMembers[scratch.replacement[recordIndex]].value])
                cursor = recordMember.value.upperBound
            }
        }
        var hasMembers = !recordMembers.isEmpty
        if replaced == 0, hasMembers, addedMembers.count > 0, let last = recordMembers.last {
            // The usual case: no shared key. `added` is compact when it comes from a lookup
            // table, so its members are copied in one run.
            output.append(contentsOf: record[cursor..<last.value.upperBound])
            output.append(UInt8(ascii: ","))
            output.append(contentsOf: added[addedMembers[0].key.lowerBound..<addedMembers[addedMembers.count - 1].value.upperBound])
            output.append(UInt8(ascii: "}"))
            return
        }
        let end = recordMembers.last?.value.upperBound ?? (recordLayout.close)
        output.append(contentsOf: record[cursor..<max(cursor, end)])
        for (addedIndex, addedMember) in addedMembers.enumerated() where !scratch.used[addedIndex] {
            if hasMembers { output.append(UInt8(ascii: ",")) }
            hasMembers = true
            output.append(contentsOf: added[addedMember.key])
            output.append(UInt8(ascii: ":"))
            output.append(contentsOf: added[addedMember.value])
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Appends `record` with `key` set to the JSON text `value`, as jq's `.key = value`: an
    /// existing key keeps its place, else the key is added at the end. Spliced from the
    /// bytes as ``appendMerged(_:with:into:scratch:)`` is (parsed only when a key of the
    /// record holds an escape); a record that is not an object is an error.
    package static func appendSettingField(_ key: String, to value: UnsafeRawBufferPointer, in record: UnsafeRawBufferPointer, into output: inout [UInt8], scratch: inout Scratch) throws(RecordError) {
        if scratch.fieldKey != key {
            scratch.fieldKey = key
            scratch.quotedFieldKey.removeAll()
            JSONWriter.writeString(key, into: &scratch.quotedFieldKey)
        }
        // The usual case: the record has no escape at all and never spells the key, so the
        // entry goes before the closing brace and nothing is scanned but the ends.
        if let base = record.baseAddress, memchr(base, 0x5C, record.count) == nil,
           !contains(record, scratch.quotedFieldKey) {
            var close = record.count - 1
            while close > 0, isWhitespace(record[close]) { close -= 1 }
            var first = 0
            while first < close, isWhitespace(record[first]) { first += 1 }
            if record[first] == UInt8(ascii: "{"), record[close] == UInt8(ascii: "}") {
                var last = close - 1
                while last > first, isWhitespace(record[last]) { last -= 1 }
                output.append(contentsOf: record[..<(last + 1)])
                if last > first { output.append(UInt8(ascii: ",")) }
                output.append(contentsOf: scratch.quotedFieldKey)
                output.append(UInt8(ascii: ":"))
                output.append(contentsOf: value)
                output.append(UInt8(ascii: "}"))
                return
            }
        }
        var entry: [UInt8] = [UInt8(ascii: "{")]
        entry.append(contentsOf: scratch.quotedFieldKey)
        entry.append(UInt8(ascii: ":"))
        entry.append(contentsOf: value)
        entry.append(UInt8(ascii: "}"))
        try entry.withBytes { (added) throws(RecordError) in
            try appendMerged(record, with: added, into: &output, scratch: &scratch)
        }
    }

    @inline(__always)
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// `record + added` through parsed values (keys with escapes).
    private static func appendMergedByValue(_ record: UnsafeRawBufferPointer, with added: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(RecordError) {
        let recordValue = try RecordDecoding.parse(record)
        let addedValue = try RecordDecoding.parse(added)
        guard case .object(var object) = recordValue, case .object(let extra) = addedValue else {
            throw RecordError("cannot merge: not two objects")
        }
        for (key, value) in zip(extra.keys, extra.values) { object[key] = value }
        JSONWriter.write(.object(object), into: &output)
    }

    private static func firstByte(_ text: UnsafeRawBufferPointer) -> UInt8 {
        text.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D } ?? UInt8(ascii: "n")
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
        guard needle.count <= haystack.count, let first = needle.first, let base = haystack.baseAddress else { return false }
        return needle.withUnsafeBytes { needleBytes in
            var index = 0
            let last = haystack.count - needle.count
            while index <= last, let found = memchr(base + index, Int32(first), last - index + 1) {
                index = base.distance(to: UnsafeRawPointer(found))
                if memcmp(base + index, needleBytes.baseAddress!, needle.count) == 0 { return true }
                index += 1
            }
            return false
        }
    }
}
