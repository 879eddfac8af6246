/// A JSON value as Weir's stages and expression language see it.
///
/// Values are values: objects keep their key order (``JSONObject``) and numbers keep
/// their literal text (``JSONNumber``), so a value that nobody changed is written back
/// exactly as it came in. Parsing (``JSONParser``) and writing (``JSONWriter``) work on
/// bytes; this type is what computations hold in between.
package enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    /// A number value from a `Double` (no literal text: it is formatted when written).
    package static func number(_ double: Double) -> JSONValue { .number(JSONNumber(double)) }

    /// A number value from an `Int`.
    package static func number(_ int: Int) -> JSONValue { .number(JSONNumber(Double(int))) }

    /// The jq type name: `null`, `boolean`, `number`, `string`, `array` or `object`.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// jq truthiness: everything but `null` and `false` is true.
    package var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        default: true
        }
    }
}

extension JSONValue: Equatable {
    /// Equality as jq defines it: numbers by value, strings by their bytes, objects regardless of key order.
    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): sameUTF8(a, b)
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }
}

extension JSONValue: Comparable {
    /// jq's total order: null < false < true < numbers < strings < arrays < objects.
    ///
    /// Strings compare by Unicode code point (jq compares UTF-8 bytes, which orders the
    /// same way); arrays element by element; objects first by their sorted key sets, then
    /// by the values under those keys in sorted-key order.
    package static func < (lhs: JSONValue, rhs: JSONValue) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// Three-way comparison in jq's total order: negative, zero or positive.
    ///
    /// This is the one order of JSON values in Weir: the expression language's `<` and
    /// `sort` (`ValueOrder`), `weir-merge --by` and `weir-sort` (through ``SortKey``, its
    /// byte image) all use it. Numbers compare by value, integer literals beyond 2^53 by
    /// their digits (``JSONNumber/compare(_:_:)``). NaN, which only a computation makes,
    /// sorts below every number and, as in jq, is less than everything numeric (itself too).
    package static func compare(_ lhs: JSONValue, _ rhs: JSONValue) -> Int {
        let lhsRank = lhs.orderRank, rhsRank = rhs.orderRank
        if lhsRank != rhsRank { return lhsRank < rhsRank ? -1 : 1 }
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)):
            if a.double.isNaN { return -1 }
            if b.double.isNaN { return 1 }
            return JSONNumber.compare(a, b)
        case (.string(let a), .string(let b)):
            return compareUTF8(a, b)
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) {
                let order = compare(x, y)
                if order != 0 { return order }
            }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        case (.object(let a), .object(let b)):
            let aKeys = a.keys.sorted(by: { compareUTF8($0, $1) < 0 })
            let bKeys = b.keys.sorted(by: { compareUTF8($0, $1) < 0 })
            let keyOrder = compare(.array(aKeys.map(JSONValue.string)), .array(bKeys.map(JSONValue.string)))
            if keyOrder != 0 { return keyOrder }
            for key in aKeys {
                let order = compare(a[key]!, b[key]!)
                if order != 0 { return order }
            }
            return 0
        default:
            return 0  // same rank and no payload: null/null, false/false, true/true
        }
    }

    /// Whether two strings have the same UTF-8 bytes: jq's string and key equality. Swift's
    /// `==` is canonical equivalence (`"é"` in NFC equals it in NFD), which jq's is not.
    /// `==` runs first: it rejects most different strings quickly and compares ASCII byte for byte.
    @inline(__always)
    package static func sameUTF8(_ a: String, _ b: String) -> Bool {
        a == b && a.utf8.elementsEqual(b.utf8)
    }

    /// Byte-wise comparison of the UTF-8 encodings, which is code-point order.
    package static func compareUTF8(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { aBytes in
            b.withUTF8 { bBytes in
                let common = min(aBytes.count, bBytes.count)
                for index in 0..<common where aBytes[index] != bBytes[index] {
                    return aBytes[index] < bBytes[index] ? -1 : 1
                }
                return aBytes.count == bBytes.count ? 0 : (aBytes.count < bBytes.count ? -1 : 1)
            }
        }
    }

    private var orderRank: Int {
        switch self {
        case .null: 0
        case .bool(false): 1
        case .bool(true): 2
        case .number: 3
        case .string: 4
        case .array: 5
        case .object: 6
        }
    }
}

extension JSONValue: Hashable {
    /// Hashing consistent with jq equality (numbers by value, objects unordered).
    package func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value ? 2 : 1)
        case .number(let number): hasher.combine(3); hasher.combine(number.double)
        case .string(let string): hasher.combine(4); hasher.combine(string)
        case .array(let array): hasher.combine(5); hasher.combine(array)
        case .object(let object):
            hasher.combine(6)
            // Order-independent: combine a commutative sum of per-entry hashes.
            var sum = 0
            for (key, value) in object { sum &+= Hasher.hash(key, value) }
            hasher.combine(sum)
        }
    }
}

extension Hasher {
    fileprivate static func hash(_ key: String, _ value: JSONValue) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        hasher.combine(value)
        return hasher.finalize()
    }
}
