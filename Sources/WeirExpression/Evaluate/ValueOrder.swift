import WeirCore

/// jq's total order and equality as the language uses them: the order is the core's
/// ``JSONValue/compare(_:_:)`` (NaN sorts below every number); equality adds jq's NaN rule
/// (NaN equals nothing, itself included).
package enum ValueOrder {
    /// Three-way comparison in jq's order (`sort`, `<`): negative, zero or positive. The
    /// order itself lives in the core (``JSONValue/compare(_:_:)``), shared by every stage.
    @inline(__always)
    package static func compare(_ lhs: JSONValue, _ rhs: JSONValue) -> Int {
        JSONValue.compare(lhs, rhs)
    }

    /// jq's `==`.
    @inline(__always)
    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return JSONValue.sameUTF8(a, b)
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
