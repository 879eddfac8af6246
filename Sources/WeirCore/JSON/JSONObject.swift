/// A JSON object: key/value entries in insertion order, with lookup by key.
///
/// Most records have a few dozen keys, where a linear scan beats hashing; an index is
/// built only for large objects. Setting an existing key keeps its position (as jq does,
/// and as a later duplicate key in the input does: the last value wins, in the first place).
///
/// Keys are the same key when their UTF-8 bytes are, as in jq and ``JSONParser``: `"é"` in NFC
/// and in NFD are two keys, although Swift's `String` `==` (and its hashing) would take them
/// for one.
package struct JSONObject: Sendable {
    private var entryKeys: [String] = []
    private var entryValues: [JSONValue] = []
    private var index: [String: Int]? = nil

    private static let indexThreshold = 24

    /// An empty object.
    package init() {}

    /// An object from entries in order; a repeated key keeps its first position and last value.
    package init<S: Sequence>(_ entries: S) where S.Element == (String, JSONValue) {
        for (key, value) in entries { self[key] = value }
    }

    /// An object from parallel key and value arrays whose keys the caller knows are distinct
    /// (the parser's fast path after its own duplicate check).
    package init(uniqueKeys keys: [String], values: [JSONValue]) {
        precondition(keys.count == values.count, "keys and values differ in count")
        entryKeys = keys
        entryValues = values
        if keys.count > Self.indexThreshold { rebuildIndex() }
    }

    /// The number of keys.
    package var count: Int { entryKeys.count }

    /// True when there are no keys.
    package var isEmpty: Bool { entryKeys.isEmpty }

    /// The keys in insertion order.
    package var keys: [String] { entryKeys }

    /// The values in key insertion order.
    package var values: [JSONValue] { entryValues }

    /// The position of `key` among the entries, if present.
    package func position(of key: String) -> Int? {
        if let index {
            // The index hashes canonically: a hit may be an equivalent spelling of `key`.
            guard let position = index[key] else { return nil }
            if JSONValue.sameUTF8(entryKeys[position], key) { return position }
        }
        return entryKeys.firstIndex { JSONValue.sameUTF8($0, key) }
    }

    /// The value under `key`; setting `nil` removes the key.
    package subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return entryValues[position]
        }
        set {
            if let position = position(of: key) {
                if let newValue {
                    entryValues[position] = newValue
                } else {
                    entryKeys.remove(at: position)
                    entryValues.remove(at: position)
                    rebuildIndex()
                }
            } else if let newValue {
                entryKeys.append(key)
                entryValues.append(newValue)
                if index != nil {
                    index![key] = entryKeys.count - 1
                } else if entryKeys.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    /// Appends an entry whose key the caller knows is not present yet (the parser's fast path
    /// after its own duplicate check).
    package mutating func appendUnique(_ key: String, _ value: JSONValue) {
        entryKeys.append(key)
        entryValues.append(value)
        if index != nil {
            index![key] = entryKeys.count - 1
        } else if entryKeys.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Reserves room for `capacity` entries.
    package mutating func reserveCapacity(_ capacity: Int) {
        entryKeys.reserveCapacity(capacity)
        entryValues.reserveCapacity(capacity)
    }

    private mutating func rebuildIndex() {
        guard entryKeys.count > Self.indexThreshold else { index = nil; return }
        var newIndex = [String: Int](minimumCapacity: entryKeys.count)
        for (position, key) in entryKeys.enumerated() { newIndex[key] = position }
        index = newIndex
    }
}

extension JSONObject: Sequence {
    /// Iterates `(key, value)` pairs in insertion order.
    package struct Iterator: IteratorProtocol {
        fileprivate let keys: [String]
        fileprivate let values: [JSONValue]
        fileprivate var position = 0

        /// The next entry, or nil after the last.
        package mutating func next() -> (String, JSONValue)? {
            guard position < keys.count else { return nil }
            defer { position += 1 }
            return (keys[position], values[position])
        }
    }

    /// Iterates `(key, value)` pairs in insertion order.
    package func makeIterator() -> Iterator {
        Iterator(keys: entryKeys, values: entryValues)
    }

    /// The number of entries (lets `Array(object)` reserve exactly).
    package var underestimatedCount: Int { entryKeys.count }
}

extension JSONObject: Equatable {
    /// Objects are equal when they have the same keys with equal values, in any order.
    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (position, key) in lhs.entryKeys.enumerated() {
            guard let other = rhs[key], other == lhs.entryValues[position] else { return false }
        }
        return true
    }
}
