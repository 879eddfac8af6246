import WeirCore

/// Value-level operations shared by the evaluator and the builtins: indexing, arithmetic,
/// paths, and the way values are quoted in error messages.
enum ValueOperations {
    /// A value as jq quotes it in error messages: `number (1)`, `string ("abcdefghijklmnopqrstuvwx...")`.
    static func describe(_ value: JSONValue) -> String {
        "\(value.typeName) (\(truncatedText(value)))"
    }

    /// The compact JSON text of a value, cut like jq 1.8: over 29 bytes, the first 26 bytes (25 and
    /// the closing quote or bracket for strings, arrays and objects) and `...`.
    static func truncatedText(_ value: JSONValue) -> String {
        let bytes = Array(ValueText.json(value).utf8)
        guard bytes.count > 29 else { return String(decoding: bytes, as: UTF8.self) }
        let closer: String
        switch value {
        case .string: closer = "\""
        case .array: closer = "]"
        case .object: closer = "}"
        default: closer = ""
        }
        var end = closer.isEmpty ? 26 : 25
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[0..<end], as: UTF8.self) + "..." + closer
    }

    // MARK: Indexing

    /// `value[key]` with jq's rules (objects by string, arrays by number or slice, null yields null).
    static func index(_ value: JSONValue, _ key: JSONValue) throws -> JSONValue {
        switch (value, key) {
        case (.object(let object), .string(let name)):
            return object[name] ?? .null
        case (.array(let array), .number(let number)):
            return element(of: array, at: number.double)
        case (.null, .string), (.null, .number), (.null, .object):
            return .null
        case (.array, .object(let bounds)), (.string, .object(let bounds)):
            guard isSliceObject(bounds) else { throw EvaluationError(sliceIndexMessage) }
            return try slice(value, from: bounds["start"] ?? .null, to: bounds["end"] ?? .null)
        case (.array(let array), .array(let needle)):
            return .array(indices(of: needle, in: array).map { .number($0) })
        default:
            break
        }
        throw EvaluationError("Cannot index \(value.typeName) with \(describe(key))")
    }

    /// An object `{"start": …, "end": …}` as `path(.[a:b])` produces: jq 1.8 needs both keys
    /// and ignores any others.
    static func isSliceObject(_ object: JSONObject) -> Bool {
        object["start"] != nil && object["end"] != nil
    }

    /// jq 1.8's message for slice bounds that are not numbers (or null), or a slice object without both bounds.
    static let sliceIndexMessage = "Array/string slice indices must be integers"

    /// `array[index]` as jq: see ``arrayPosition(_:count:)``; out of range (and NaN) is null.
    @inline(__always)
    static func element(of array: [JSONValue], at double: Double) -> JSONValue {
        guard let position = arrayPosition(double, count: array.count), position >= 0, position < array.count else { return .null }
        return array[position]
    }

    /// The position an array index names, as jq 1.8 computes it: the number converted to C's
    /// int (toward zero, clamped), then a negative one counted from the end, so `.[-1.7]` of
    /// three elements is position 2 and `.[-0.5]` position 0. `nil` for NaN. The result may
    /// still be out of range.
    static func arrayPosition(_ double: Double, count: Int) -> Int? {
        guard !double.isNaN else { return nil }
        var position = cInt(double)
        if position < 0 { position += count }
        return position
    }

    /// A non-NaN double as C's int: toward zero, clamped to `Int32`'s range (jq 1.8's index conversion).
    static func cInt(_ double: Double) -> Int {
        double <= -2147483648 ? Int(Int32.min) : double >= 2147483647 ? Int(Int32.max) : Int(double.rounded(.towardZero))
    }

    /// The most elements an array may get by an assignment past its end (`.[N] = x`,
    /// `setpath`, `|=`): a typo such as `.[5e8] = 1` is an error ("Array index too large")
    /// instead of gigabytes of nulls. jq's own limit is 536,870,912 elements.
    static let maximumAssignedArrayCount = 10_000_000
    /// The most elements `[f]` collects (jq has no limit; Weir stops a runaway generator
    /// such as `[range(0; 1; 1e-300)]` with an error instead of exhausting memory).
    static let maximumCollectedArrayCount = 10_000_000

    /// The start positions of `needle` as a sub-array of `array` (`indices`).
    static func indices(of needle: [JSONValue], in array: [JSONValue]) -> [Int] {
        guard !needle.isEmpty, needle.count <= array.count else { return needle.isEmpty ? [] : [] }
        var result: [Int] = []
        for start in 0...(array.count - needle.count) where Array(array[start..<(start + needle.count)]) == needle {
            result.append(start)
        }
        return result
    }

    /// Resolves slice bounds against a length, as jq (floor/ceil of fractions, negatives from the end, clamped).
    static func sliceBounds(count: Int, from: JSONValue, to: JSONValue) throws -> (Int, Int) {
        func bound(_ value: JSONValue, _ defaultValue: Int, roundUp: Bool) throws -> Int {
            switch value {
            case .null: return defaultValue
            case .number(let number):
                var double = number.double
                if double.isNaN { return defaultValue }
                if double < 0 { double += Double(count) }
                double = roundUp ? double.rounded(.up) : double.rounded(.down)
                if double < 0 { return 0 }
                if double > Double(count) { return count }
                return Int(double)
            default:
                throw EvaluationError(sliceIndexMessage)
            }
        }
        let start = try bound(from, 0, roundUp: false)
        var end = try bound(to, count, roundUp: true)
        if end < start { end = start }
        return (start, end)
    }

    /// `value[from:to]` on arrays, strings (by code point) and null.
    static func slice(_ value: JSONValue, from: JSONValue, to: JSONValue) throws -> JSONValue {
        switch value {
        case .null: return .null
        case .array(let array):
            let (start, end) = try sliceBounds(count: array.count, from: from, to: to)
            return .array(Array(array[start..<end]))
        case .string(let string):
            let scalars = string.unicodeScalars
            let (start, end) = try sliceBounds(count: scalars.count, from: from, to: to)
            let startIndex = scalars.index(scalars.startIndex, offsetBy: start)
            let endIndex = scalars.index(startIndex, offsetBy: end - start)
            return .string(String(scalars[startIndex..<endIndex]))
        default:
            throw EvaluationError("Cannot index \(value.typeName) with \(describe(.object(JSONObject([("start", from), ("end", to)]))))")
        }
    }

    /// Calls `emit` with each element of an array or value of an object (`.[]`).
    @inline(__always)
    static func iterate(_ value: JSONValue, _ emit: Emit) throws {
        switch value {
        case .array(let array): for element in array { try emit(element) }
        case .object(let object): for element in object.values { try emit(element) }
        default: throw EvaluationError("Cannot iterate over \(describe(value))")
        }
    }

    // MARK: Paths

    /// `getpath(path)`: null where the path leads nowhere, an error where it cannot be followed.
    static func getPath(_ value: JSONValue, _ path: [JSONValue]) throws -> JSONValue {
        guard path.count <= 10000 else { throw EvaluationError("Path too deep") }
        var current = value
        for key in path { current = try index(current, key) }  // null[key] is null for jq's key kinds, an error for others
        return current
    }

    /// `setpath(path; new)`: creates objects and arrays as needed.
    static func setPath(_ value: JSONValue, _ path: ArraySlice<JSONValue>, _ newValue: JSONValue) throws -> JSONValue {
        // The result nests at most as deep as `value`, or `newValue` below `path`.
        try ValueDepth.nest(path.count, around: newValue)
        return try setPathBelow(value, path, newValue)
    }

    private static func setPathBelow(_ value: JSONValue, _ path: ArraySlice<JSONValue>, _ newValue: JSONValue) throws -> JSONValue {
        guard let key = path.first else { return newValue }
        let rest = path.dropFirst()
        switch (value, key) {
        case (.object(var object), .string(let name)):
            let child = object[name] ?? .null
            object[name] = .null  // release the reference so the child can be mutated in place
            object[name] = try setPathBelow(child, rest, newValue)
            return .object(object)
        case (.null, .string(let name)):
            var object = JSONObject()
            object[name] = try setPathBelow(.null, rest, newValue)
            return .object(object)
        case (.array(var array), .number(let number)):
            let position = try assignedPosition(number.double, count: array.count)
            if position >= array.count {
                array.append(contentsOf: repeatElement(.null, count: position - array.count + 1))
            }
            let child = array[position]
            array[position] = .null
            array[position] = try setPathBelow(child, rest, newValue)
            return .array(array)
        case (.null, .number(let number)):
            let position = try assignedPosition(number.double, count: 0)
            var array = [JSONValue](repeating: .null, count: position + 1)
            array[position] = try setPathBelow(.null, rest, newValue)
            return .array(array)
        case (.array, .object(let bounds)) where isSliceObject(bounds),
             (.null, .object(let bounds)) where isSliceObject(bounds):
            var array: [JSONValue] = []
            if case .array(let elements) = value { array = elements }
            let (start, end) = try sliceBounds(count: array.count, from: bounds["start"] ?? .null, to: bounds["end"] ?? .null)
            let replacement = try setPathBelow(.array(Array(array[start..<end])), rest, newValue)
            guard case .array(let elements) = replacement else {
                throw EvaluationError("A slice of an array can only be assigned another array")
            }
            array.replaceSubrange(start..<end, with: elements)
            return .array(array)
        case (.string, .object(let bounds)) where isSliceObject(bounds):
            throw EvaluationError("Cannot update string slices")
        case (.array, .array):
            throw EvaluationError("Cannot update field at array index of array")
        default:
            _ = try index(value, key)
            throw EvaluationError("Cannot index \(value.typeName) with \(key.typeName)")
        }
    }

    /// The position `setpath` writes for an index into an array of `count` elements, with jq's
    /// errors, and Weir's ``maximumAssignedArrayCount`` in place of jq's larger limit.
    private static func assignedPosition(_ double: Double, count: Int) throws -> Int {
        guard let position = arrayPosition(double, count: count) else { throw EvaluationError("Cannot set array element at NaN index") }
        guard position >= 0 else { throw EvaluationError("Out of bounds negative array index") }
        guard position < max(count, maximumAssignedArrayCount) else { throw EvaluationError("Array index too large") }
        return position
    }

    /// `delpaths(paths)`, as jq: paths sorted, grouped by their first key; all deletions at one
    /// level happen at once, so positions (negative ones too) refer to the original array.
    static func deletePaths(_ value: JSONValue, _ paths: [JSONValue]) throws -> JSONValue {
        var keyLists: [[JSONValue]] = []
        for path in ValueOrder.sorted(paths) {
            guard case .array(let keys) = path else { throw EvaluationError("Path must be specified as array, not \(path.typeName)") }
            guard keys.count <= 10000 else { throw EvaluationError("Path too deep") }
            keyLists.append(keys)
        }
        guard let first = keyLists.first else { return value }
        if first.isEmpty { return .null }
        return try deleteSorted(value, keyLists[...], depth: 0)
    }

    private static func deleteSorted(_ value: JSONValue, _ paths: ArraySlice<[JSONValue]>, depth: Int) throws -> JSONValue {
        var object = value
        var deleteKeys: [JSONValue] = []
        var index = paths.startIndex
        while index < paths.endIndex {
            let key = paths[index][depth]
            var end = index
            while end < paths.endIndex, ValueOrder.equal(paths[end][depth], key) || (paths[end][depth] == key) { end += 1 }
            if paths[index].count == depth + 1 {
                deleteKeys.append(key)
            } else {
                let child = try self.index(object, key)
                if case .null = child {} else {
                    let updated = try deleteSorted(child, paths[index..<end], depth: depth + 1)
                    object = try setPath(object, [key][...], updated)
                }
            }
            index = end
        }
        return try deleteKeysAtOnce(object, deleteKeys)
    }

    private static func deleteKeysAtOnce(_ value: JSONValue, _ keys: [JSONValue]) throws -> JSONValue {
        guard !keys.isEmpty else { return value }
        switch value {
        case .null:
            return .null
        case .object(var object):
            for key in keys {
                guard case .string(let name) = key else { throw EvaluationError("Cannot delete \(key.typeName) field of object") }
                object[name] = nil
            }
            return .object(object)
        case .array(let array):
            var doomed = [Bool](repeating: false, count: array.count)
            for key in keys {
                switch key {
                case .number(let number):
                    // A negative key counts from the end after truncation, as in jq 1.8's jv_dels
                    // (-0.5 names position count, so nothing); the key's sign decides, not the result's.
                    guard !number.double.isNaN else { continue }
                    var position = cInt(number.double)
                    if number.double < 0 { position += array.count }
                    if position >= 0, position < array.count { doomed[position] = true }
                case .object(let bounds) where isSliceObject(bounds):
                    let (start, end) = try sliceBounds(count: array.count, from: bounds["start"] ?? .null, to: bounds["end"] ?? .null)
                    for position in start..<end { doomed[position] = true }
                default:
                    throw EvaluationError("Cannot delete \(key.typeName) element of array")
                }
            }
            return .array(array.enumerated().filter { !doomed[$0.offset] }.map(\.element))
        default:
            throw EvaluationError("Cannot delete fields from \(value.typeName)")
        }
    }

    // MARK: Arithmetic

    /// `-n`; a literal keeps its digits (as jq 1.8 with decNumber, whose `0 - x` makes a zero
    /// positive: `-0.0 | -.` is `0.0`).
    static func negate(_ number: JSONNumber) -> JSONNumber {
        guard let literal = number.literal else { return JSONNumber(-number.double) }
        if number.double == 0 { return JSONNumber(literal: literal.hasPrefix("-") ? String(literal.dropFirst()) : literal, double: 0) }
        if literal.hasPrefix("-") { return JSONNumber(literal: String(literal.dropFirst()), double: -number.double) }
        return JSONNumber(literal: "-" + literal, double: -number.double)
    }

    /// `lhs + rhs`.
    static func add(_ lhs: JSONValue, _ rhs: JSONValue) throws -> JSONValue {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return .number(a.double + b.double)
        case (.null, _): return rhs
        case (_, .null): return lhs
        case (.string(let a), .string(let b)): return .string(a + b)
        case (.array(let a), .array(let b)): return .array(a + b)
        case (.object(var a), .object(let b)):
            for (key, value) in b { a[key] = value }
            return .object(a)
        default:
            throw EvaluationError("\(describe(lhs)) and \(describe(rhs)) cannot be added")
        }
    }

    /// `lhs - rhs`.
    static func subtract(_ lhs: JSONValue, _ rhs: JSONValue) throws -> JSONValue {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return .number(a.double - b.double)
        case (.array(let a), .array(let b)): return .array(a.filter { element in !b.contains { ValueOrder.equal($0, element) } })
        default:
            throw EvaluationError("\(describe(lhs)) and \(describe(rhs)) cannot be subtracted")
        }
    }

    /// `lhs * rhs`.
    static func multiply(_ lhs: JSONValue, _ rhs: JSONValue) throws -> JSONValue {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return .number(a.double * b.double)
        case (.string(let text), .number(let count)), (.number(let count), .string(let text)):
            return try repeatString(text, count.double)
        case (.object(let a), .object(let b)): return .object(deepMerge(a, b))
        default:
            throw EvaluationError("\(describe(lhs)) and \(describe(rhs)) cannot be multiplied")
        }
    }

    private static func repeatString(_ text: String, _ count: Double) throws -> JSONValue {
        guard !count.isNaN, count >= 0 else { return .null }
        let times = count.rounded(.down)
        if text.isEmpty || times == 0 { return .string("") }
        guard times * Double(text.utf8.count) < 536_870_912 else { throw EvaluationError("Repeat string result too long") }
        return .string(String(repeating: text, count: Int(times)))
    }

    /// jq's recursive object merge (`*`).
    static func deepMerge(_ a: JSONObject, _ b: JSONObject) -> JSONObject {
        var result = a
        for (key, value) in b {
            if case .object(let right) = value, case .object(let left)? = result[key] {
                result[key] = .object(deepMerge(left, right))
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// `lhs / rhs`.
    static func divide(_ lhs: JSONValue, _ rhs: JSONValue) throws -> JSONValue {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)):
            guard b.double != 0 else {
                throw EvaluationError("\(describe(lhs)) and \(describe(rhs)) cannot be divided because the divisor is zero")
            }
            return .number(a.double / b.double)
        case (.string(let a), .string(let b)):
            return .array(split(a, separator: b).map(JSONValue.string))
        default:
            throw EvaluationError("\(describe(lhs)) and \(describe(rhs)) cannot be divided")
        }
    }

    /// `lhs % rhs` (integer remainder, as jq after truncating both sides).
    static func modulo(_ lhs: JSONValue, _ rhs: JSONValue) throws -> JSONValue {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)):
            if a.double.isNaN || b.double.isNaN { return .number(.nan) }
            let divisor = truncatedInt(b.double)
            guard divisor != 0 else {
                throw EvaluationError("\(describe(lhs)) and \(describe(rhs)) cannot be divided (remainder) because the divisor is zero")
            }
            let dividend = truncatedInt(a.double)
            if divisor == -1 { return .number(0) }
            return .number(Double(dividend % divisor))
        default:
            throw EvaluationError("\(describe(lhs)) and \(describe(rhs)) cannot be divided (remainder)")
        }
    }

    private static func truncatedInt(_ double: Double) -> Int {
        if double >= 9.2233720368547758e18 { return Int.max }
        if double <= -9.2233720368547758e18 { return Int.min }
        return Int(double.rounded(.towardZero))
    }

    /// Splits a string on a literal separator (jq's `/` and `split/1`); an empty separator splits into characters... as jq: code points.
    static func split(_ text: String, separator: String) -> [String] {
        if text.isEmpty { return [] }
        if separator.isEmpty {
            return text.unicodeScalars.map { String($0) }
        }
        var result: [String] = []
        let textBytes = Array(text.utf8), separatorBytes = Array(separator.utf8)
        var start = 0, index = 0
        while index + separatorBytes.count <= textBytes.count {
            if textBytes[index] == separatorBytes[0], Array(textBytes[index..<(index + separatorBytes.count)]) == separatorBytes {
                result.append(String(decoding: textBytes[start..<index], as: UTF8.self))
                index += separatorBytes.count
                start = index
            } else {
                index += 1
            }
        }
        result.append(String(decoding: textBytes[start...], as: UTF8.self))
        return result
    }

    /// Applies a binary operator.
    @inline(__always)
    static func apply(_ op: BinaryOperator, _ lhs: JSONValue, _ rhs: JSONValue) throws -> JSONValue {
        switch op {
        case .add:
            if case .number(let a) = lhs, case .number(let b) = rhs { return .number(a.double + b.double) }
            return try add(lhs, rhs)
        case .subtract: return try subtract(lhs, rhs)
        case .multiply: return try multiply(lhs, rhs)
        case .divide: return try divide(lhs, rhs)
        case .modulo: return try modulo(lhs, rhs)
        case .equal: return .bool(ValueOrder.equal(lhs, rhs))
        case .notEqual: return .bool(!ValueOrder.equal(lhs, rhs))
        case .less: return .bool(ValueOrder.compare(lhs, rhs) < 0)
        case .lessOrEqual: return .bool(ValueOrder.compare(lhs, rhs) <= 0)
        case .greater: return .bool(ValueOrder.compare(lhs, rhs) > 0)
        case .greaterOrEqual: return .bool(ValueOrder.compare(lhs, rhs) >= 0)
        }
    }

    /// jq's `length`.
    static func length(_ value: JSONValue) throws -> JSONValue {
        switch value {
        case .null: return .number(0)
        case .bool: throw EvaluationError("\(describe(value)) has no length")
        case .number(let number):
            if let literal = number.literal, !literal.hasPrefix("-") { return value }
            if number.double < 0 || number.literal != nil { return .number(negate(number)) }
            return .number(Swift.abs(number.double))
        case .string(let string): return .number(string.unicodeScalars.count)
        case .array(let array): return .number(array.count)
        case .object(let object): return .number(object.count)
        }
    }
}
