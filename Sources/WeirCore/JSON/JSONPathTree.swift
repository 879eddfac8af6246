#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parts of a record that a computation reads, as a tree of object keys.
///
/// The expression language works out which paths of its input a program can reach
/// (`.stock > 10` reads only `stock`; `{id, city: .store.city}` reads `id` and `store.city`),
/// and the parser then builds only those parts of each record (``JSONParser``), skipping
/// the rest after validating it. That is what makes lazy evaluation cheap.
///
/// Semantics, applied at each node to the value found there:
/// - ``isWhole``: keep the whole value.
/// - otherwise, if the value is an object: keep only the keys in ``children``, each
///   filtered by its own subtree (a key that is absent stays absent);
/// - otherwise (array, string, number, …): keep the whole value, so that errors such as
///   indexing a string are the same as on the full record.
package struct JSONPathTree: Sendable, Equatable {
    /// Keep the whole value at this node.
    package var isWhole: Bool
    /// The keys to keep when the value here is an object.
    package var children: [String: JSONPathTree] {
        didSet { keyTable = KeyTable(children) }
    }
    /// The children laid out for the parser's byte-wise key matching, rebuilt on every change.
    private(set) var keyTable: KeyTable

    /// The children's keys as one run of UTF-8 bytes, so the parser matches a key without
    /// making a `String` of it (``JSONParser/parse(_:keeping:maxDepth:)``). A class, built once
    /// per change and never mutated, so copying a tree (the parser does, per kept key) retains
    /// one reference instead of four arrays.
    final class KeyTable: Sendable {
        /// The keys, in table order.
        let names: [String]
        /// The subtree of each key.
        let subtrees: [JSONPathTree]
        /// The keys' UTF-8 bytes, one after another.
        let bytes: [UInt8]
        /// Where each key's bytes end in ``bytes``.
        let ends: [Int]

        init(_ children: [String: JSONPathTree]) {
            var names: [String] = [], subtrees: [JSONPathTree] = [], bytes: [UInt8] = [], ends: [Int] = []
            for (name, subtree) in children {
                names.append(name)
                subtrees.append(subtree)
                bytes.append(contentsOf: name.utf8)
                ends.append(bytes.count)
            }
            self.names = names
            self.subtrees = subtrees
            self.bytes = bytes
            self.ends = ends
        }

        /// The index of the key whose UTF-8 bytes are `key[0..<length]`, compared byte for byte.
        @inline(__always)
        func index(of key: UnsafePointer<UInt8>, length: Int) -> Int? {
            bytes.withUnsafeBufferPointer { table in
                var start = 0
                for (index, end) in ends.enumerated() {
                    if end &- start == length, length == 0 || memcmp(table.baseAddress! + start, key, length) == 0 { return index }
                    start = end
                }
                return nil
            }
        }
    }

    /// A tree that keeps everything.
    package static let whole = JSONPathTree(isWhole: true, children: [:])

    /// A tree that keeps no keys of an object (but any non-object value whole).
    package static let none = JSONPathTree(isWhole: false, children: [:])

    package init(isWhole: Bool, children: [String: JSONPathTree]) {
        self.isWhole = isWhole
        self.children = children
        self.keyTable = KeyTable(children)
    }

    /// Trees are equal when they keep the same parts.
    package static func == (lhs: JSONPathTree, rhs: JSONPathTree) -> Bool {
        lhs.isWhole == rhs.isWhole && lhs.children == rhs.children
    }

    /// Adds the path `keys` (whole below its end) to the tree.
    package mutating func insert<C: Collection>(_ keys: C) where C.Element == String {
        guard !isWhole else { return }
        guard let first = keys.first else {
            self = .whole
            return
        }
        children[first, default: .none].insert(keys.dropFirst())
    }

    /// Merges another tree into this one (the union of what both keep).
    package mutating func formUnion(_ other: JSONPathTree) {
        if isWhole { return }
        if other.isWhole { self = .whole; return }
        for (key, subtree) in other.children {
            children[key, default: .none].formUnion(subtree)
        }
    }

    /// Applies the tree to a value (the reference semantics the parser's projection must match).
    package func project(_ value: JSONValue) -> JSONValue {
        guard !isWhole, case .object(let object) = value else { return value }
        var kept = JSONObject()
        for (key, element) in object {
            if let subtree = children[key] { kept[key] = subtree.project(element) }
        }
        return .object(kept)
    }
}
