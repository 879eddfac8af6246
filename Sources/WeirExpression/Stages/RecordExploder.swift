import WeirCore

/// A path written as a jq path expression with constant steps only: `.items`, `.order.lines`,
/// `."a b"`, `.["k"]`, `.rows[0]`, `.` (the empty path).
package enum StaticPath {
    /// The path's keys (strings and integers, as jq's `path(EXPR)` gives them); nil when
    /// `source` does not parse or is not such a path (`.items[]`, `.a?`, `.x | .y`).
    package static func parse(_ source: String) -> [JSONValue]? {
        guard let expression = try? Parser.parse(source) else { return nil }
        return path(of: expression)
    }

    private static func path(of expression: Expression) -> [JSONValue]? {
        switch expression {
        case .identity:
            return []
        case .index(let target, let key):
            guard let prefix = path(of: target), let step = constantKey(key) else { return nil }
            return prefix + [step]
        case .pipe(let left, let right):
            // `.a | .b` and `.a.b` parse alike in some positions; both are a path.
            guard let prefix = path(of: left), let rest = path(of: right) else { return nil }
            return prefix + rest
        default:
            return nil
        }
    }

    private static func constantKey(_ key: Expression) -> JSONValue? {
        switch key {
        case .literal(.string(let name)): return .string(name)
        case .literal(.number(let number)) where number.isInteger: return .number(number)
        case .string(let segments, format: nil):
            var text = ""
            for segment in segments {
                guard case .text(let piece) = segment else { return nil }
                text += piece
            }
            return .string(text)
        default: return nil
        }
    }

    /// The path as jq would write it (`.order.lines`, `.rows[0]`, `.["a b"]`).
    package static func text(_ path: [JSONValue]) -> String {
        if path.isEmpty { return "." }
        var text = ""
        for key in path {
            switch key {
            case .string(let name) where isIdentifier(name): text += ".\(name)"
            case .string: text += ".[\(JSONWriter.string(key))]"
            default: text += "[\(JSONWriter.string(key))]"
            }
        }
        return text.hasPrefix(".") ? text : "." + text
    }

    private static func isIdentifier(_ name: String) -> Bool {
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        guard let first = name.unicodeScalars.first, isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
    }
}

/// One record per element of the array (or entry of the object) at a path (`weir-explode`).
///
/// Each output is a copy of the record in which the array at `source` is replaced by one
/// element, at `source` itself or, when `target` differs, at `target` (the array removed from
/// `source`); an object's entries are `{"key": K, "value": V}`, as jq's `to_entries` gives
/// them. With `index`, the element's position (0-based; for an object, its key) is set there
/// too. The rest of the record keeps its key order and number literals.
package struct RecordExploder: RecordTransform {
    /// Where the array is.
    package let source: [JSONValue]
    /// Where each element goes.
    package let target: [JSONValue]
    /// Where each element's position goes, if anywhere.
    package let index: [JSONValue]?
    /// True to write a record whose array is empty or missing once, with null at `target`.
    package let keepEmpty: Bool

    package init(source: [JSONValue], target: [JSONValue]? = nil, index: [JSONValue]? = nil, keepEmpty: Bool = false) {
        self.source = source
        self.target = target ?? source
        self.index = index
        self.keepEmpty = keepEmpty
    }

    package func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let value = try RecordDecoding.parse(record)
        do {
            return try explode(value, into: &output)
        } catch let error as RecordError {
            throw error
        } catch {
            throw recordError(error)
        }
    }

    /// Appends one line per element of `value`'s array at the source path; returns how many.
    package func explode(_ value: JSONValue, into output: inout [UInt8]) throws -> Int {
        let found = try ValueOperations.getPath(value, source)
        var elements: [(position: JSONValue, element: JSONValue)] = []
        switch found {
        case .null:
            break
        case .array(let array):
            elements = array.enumerated().map { (.number($0.offset), $0.element) }
        case .object(let object):
            elements = object.map { key, member in
                (.string(key), .object(JSONObject(uniqueKeys: ["key", "value"], values: [.string(key), member])))
            }
        default:
            throw RecordError("cannot explode \(found.typeName) (\(JSONWriter.string(found).prefix(40))) at \(StaticPath.text(source)): an array or object is needed")
        }
        if elements.isEmpty {
            guard keepEmpty else { return 0 }
            elements = [(.null, .null)]
        }
        // The record without the array, when the elements go elsewhere; the rest is shared.
        let base = target == source || source.isEmpty ? value : try ValueOperations.deletePaths(value, [.array(source)])
        for (position, element) in elements {
            var copy = try ValueOperations.setPath(base, target[...], element)
            if let index { copy = try ValueOperations.setPath(copy, index[...], position) }
            JSONWriter.write(copy, into: &output)
            output.append(0x0A)
        }
        return elements.count
    }
}
