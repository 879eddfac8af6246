import WeirCore

extension Builtins {
    /// Array builtins: sorting, grouping, uniqueness, extremes (the `_by` forms get their keys from jq-defined wrappers).
    static var arrayBuiltins: [String: Builtin] {
        [
            "sort/0": .unary { value in .array(ValueOrder.sorted(try sortable(value))) },
            "_sort_by_impl/1": .values { value, arguments in
                let (elements, keys) = try keyed(value, arguments[0])
                let order = keys.indices.sorted { a, b in
                    let comparison = ValueOrder.compare(keys[a], keys[b])
                    return comparison != 0 ? comparison < 0 : a < b
                }
                return .array(order.map { elements[$0] })
            },
            "_group_by_impl/1": .values { value, arguments in
                try ValueDepth.nest(1, around: value)  // the elements one level deeper, in groups
                let (elements, keys) = try keyed(value, arguments[0])
                let order = keys.indices.sorted { a, b in
                    let comparison = ValueOrder.compare(keys[a], keys[b])
                    return comparison != 0 ? comparison < 0 : a < b
                }
                var groups: [JSONValue] = []
                var current: [JSONValue] = []
                var currentKey: JSONValue?
                for position in order {
                    if let key = currentKey, ValueOrder.compare(key, keys[position]) == 0 {
                        current.append(elements[position])
                    } else {
                        if currentKey != nil { groups.append(.array(current)) }
                        current = [elements[position]]
                        currentKey = keys[position]
                    }
                }
                if currentKey != nil { groups.append(.array(current)) }
                return .array(groups)
            },
            "_unique_by_impl/1": .values { value, arguments in
                let (elements, keys) = try keyed(value, arguments[0])
                let order = keys.indices.sorted { a, b in
                    let comparison = ValueOrder.compare(keys[a], keys[b])
                    return comparison != 0 ? comparison < 0 : a < b
                }
                var result: [JSONValue] = []
                var lastKey: JSONValue?
                for position in order {
                    if let key = lastKey, ValueOrder.compare(key, keys[position]) == 0 { continue }
                    result.append(elements[position])
                    lastKey = keys[position]
                }
                return .array(result)
            },
            "_min_by_impl/1": .values { value, arguments in try extreme(value, arguments[0], wantMaximum: false) },
            "_max_by_impl/1": .values { value, arguments in try extreme(value, arguments[0], wantMaximum: true) },
            "bsearch/1": .values { value, arguments in
                guard case .array(let elements) = value else { throw typeError(value, "cannot be searched from") }
                var low = 0, high = elements.count - 1
                while low <= high {
                    let middle = (low + high) / 2
                    let order = ValueOrder.compare(elements[middle], arguments[0])
                    if order == 0 { return .number(middle) }
                    if order < 0 { low = middle + 1 } else { high = middle - 1 }
                }
                return .number(-1 - low)
            },
            "unique/0": .unary { value in
                var result: [JSONValue] = []
                for element in ValueOrder.sorted(try sortable(value)) {
                    if let last = result.last, ValueOrder.compare(last, element) == 0 { continue }
                    result.append(element)
                }
                return .array(result)
            },
            "min/0": .unary { value in try extreme(value, value, wantMaximum: false) },
            "max/0": .unary { value in try extreme(value, value, wantMaximum: true) },
            "reverse/0": .unary { value in
                // jq 1.8: `[.[length - 1 - range(0; length)]]`.
                if case .array(let array) = value { return .array(array.reversed()) }
                // (`range(0; nan)` never ends in jq, so NaN fails on its first index as any other number.)
                guard case .number(let count) = try ValueOperations.length(value), count.double > 0 || count.double.isNaN else { return .array([]) }
                return .array([try ValueOperations.index(value, .number(count.double - 1))])
            },
        ]
    }

    private static func sortable(_ value: JSONValue) throws -> [JSONValue] {
        guard case .array(let elements) = value else {
            throw typeError(value, "cannot be sorted, as it is not an array")
        }
        return elements
    }

    private static func keyed(_ value: JSONValue, _ keys: JSONValue, iterating: Bool = false) throws -> ([JSONValue], [JSONValue]) {
        guard case .array(let elements) = value, case .array(let keyValues) = keys, keyValues.count == elements.count else {
            let problem = iterating ? "cannot be iterated over" : "cannot be sorted, as they are not both arrays"
            throw EvaluationError("\(ValueOperations.describe(value)) and \(ValueOperations.describe(keys)) \(problem)")
        }
        return (elements, keyValues)
    }

    private static func extreme(_ value: JSONValue, _ keys: JSONValue, wantMaximum: Bool) throws -> JSONValue {
        let (elements, keyValues) = try keyed(value, keys, iterating: true)
        guard !elements.isEmpty else { return .null }
        var best = 0
        for position in 1..<elements.count {
            let comparison = ValueOrder.compare(keyValues[position], keyValues[best])
            if wantMaximum ? comparison >= 0 : comparison < 0 { best = position }
        }
        return elements[best]
    }
}
