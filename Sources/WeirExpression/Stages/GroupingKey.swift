import WeirCore

/// The text of a grouping key (`--by EXPR`): compact JSON in which two values are spelled
/// the same when jq's `==` holds for them, so keys can be compared as bytes.
///
/// Numbers are written by value (`1`, `1.0` and `1e0` are all `1`; `-0` is `0`), except
/// integer literals beyond 2^53, which keep their digits (jq tells them apart too); object
/// keys are sorted by their UTF-8 bytes; strings are compared by their bytes, as in jq.
package enum GroupingKey {
    /// Appends the key text of `value`.
    package static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null, .bool, .string:
            JSONWriter.write(value, into: &output)
        case .number(let number):
            if abs(number.double) >= 9007199254740992, let literal = number.literal, isIntegerLiteral(literal) {
                output.append(contentsOf: literal.utf8)
            } else {
                output.append(contentsOf: JSONNumber.format(number.double == 0 ? 0 : number.double).utf8)
            }
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            // By entry, not by lookup: a lookup by String would merge canonically equivalent keys.
            let entries = zip(object.keys, object.values).sorted { JSONValue.compareUTF8($0.0, $1.0) < 0 }
            for (index, (key, member)) in entries.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func isIntegerLiteral(_ literal: String) -> Bool {
        literal.utf8.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") }
    }
}

/// The per-record work of a stage that keeps or drops whole records in a ``RecordStep``
/// (`weir-head`, `weir-tail`): validates and compacts each record as `weir-cat` does and,
/// with a key expression, writes `KEY<TAB>RECORD` (see ``RecordStepSink/splitKey(_:)``).
///
/// The key is the single output of the expression, as ``GroupingKey`` text. An expression
/// that fails, yields nothing or yields several values makes the record bad (with its
/// file and line).
package struct KeyedRecordTransform: RecordTransform {
    private let key: Program?

    /// Records with `key`'s value in front, or plain compacted records when `key` is nil.
    package init(key: Program?) {
        self.key = key
    }

    package mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        guard let key else {
            try RecordDecoding.compact(record, into: &output)
            output.append(0x0A)
            return 1
        }
        // The partial parse validates the whole record, so compacting it checks nothing again.
        var isCompact = false
        let value = try RecordDecoding.parse(record, keeping: key.inputPaths, isCompact: &isCompact)
        let keyValue = try key.singleOutput(of: value, at: position, option: "--by")
        GroupingKey.write(keyValue, into: &output)
        output.append(0x09)
        JSONCompactor.appendValidated(record, isCompact: isCompact, into: &output)
        output.append(0x0A)
        return 1
    }
}

extension Program {
    /// The single output of the program on `value` (a key given to `option`, such as
    /// `--by`): an expression that fails, yields no value or several makes the record bad.
    package func singleOutput(of value: JSONValue, at position: RecordPosition, option: String) throws(RecordError) -> JSONValue {
        var first: JSONValue? = nil
        var outputs = 0
        do {
            if let single = try singleValue(value, context: evaluationContext(position)) { return single }
            try evaluate(value, context: evaluationContext(position)) { result in
                outputs += 1
                if outputs == 1 { first = result }
            }
        } catch {
            throw recordError(error)
        }
        guard outputs == 1, let first else {
            throw RecordError(outputs == 0 ? "the \(option) expression yielded no value" : "the \(option) expression yielded \(outputs) values, not one")
        }
        return first
    }
}
