import WeirCore

/// jq's total order and equality, including its treatment of NaN (which sorts below every number
/// and equals nothing, itself included); otherwise the same as ``JSONValue/compare(_:_:)``.
package enum ValueOrder {
    /// Three-way comparison in jq's order (`sort`, `<`): negative, zero or positive.
    package static func compare(_ lhs: JSONValue, _ rhs: JSONValue) -> Int {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)):
            if a.double.isNaN { return -1 }
            if b.double.isNaN { return 1 }
            return JSONNumber.compare(a, b)
        case (.string(let a), .string(let b)):
            if a == b { return 0 }
            return JSONValue.compareUTF8(a, b)
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) {
                let order = compare(x, y)
                if order != 0 { return order }
            }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        case (.object(let a), .object(let b)):
            let aKeys = a.keys.sorted { JSONValue.compareUTF8($0, $1) < 0 }
            let bKeys = b.keys.sorted { JSONValue.compareUTF8($0, $1) < 0 }
            if aKeys != bKeys {
                for (x, y) in zip(aKeys, bKeys) where x != y { return JSONValue.compareUTF8(x, y) }
                return aKeys.count < bKeys.count ? -1 : 1
            }
            for key in aKeys {
                let order = compare(a[key]!, b[key]!)
                if order != 0 { return order }
            }
            return 0
        default:
            return JSONValue.compare(lhs, rhs)
        }
    }

    /// jq's `==`.
    @inline(__always)
    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)):
            if a.double.isNaN || b.double.isNaN { return false }
            return JSONNumber.compare(a, b) == 0
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        default: return compare(lhs, rhs) == 0
        }
    }

    /// Sorts values in jq's order (stable).
    static func sorted(_ values: [JSONValue]) -> [JSONValue] {
        values.enumerated().sorted { a, b in
            let order = compare(a.element, b.element)
            return order != 0 ? order < 0 : a.offset < b.offset
        }.map(\.element)
    }
}
