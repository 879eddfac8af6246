#if canImport(Glibc)
import Glibc
#endif
import WeirCore

/// Keeps the values an expression builds from nesting without bound.
///
/// Values are released, compared and written by recursion, so a value nested tens of thousands
/// of levels deep (`reduce range(100000) as $_ (null; [.])`) would overflow the stack where it
/// is dropped. Every construction that can nest values more deeply (`[…]`, `{…}`, `setpath`
/// and the assignments, `to_entries`, `group_by`) goes through ``nest(_:around:)``, and no value
/// may nest more than ``maximum`` levels.
///
/// Measuring a value costs its size, so it is done only when needed: an evaluation starts with
/// a bound of ``inputDepth`` (what the JSON reader and the expression parser accept) on how deep
/// any value it can see is, and each construction raises the bound by the levels it adds. While
/// the bound is within ``maximum`` nothing is measured; past it, each construction measures its
/// parts. The bound lives in a thread-specific slot, set by ``Program`` when an evaluation starts.
enum ValueDepth {
    /// The deepest value an expression may build (the reader accepts 1,000 levels; a record
    /// written out is held to that too, so the next stage can read it).
    static let maximum = 5_000
    /// How deep a value reaching an evaluation can be: records, `--argjson` values and
    /// `fromjson` come from the JSON reader, literals from the expression parser.
    static let inputDepth = max(JSONParser.defaultMaxDepth, Parser.maximumNesting)

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The current bound (``inputDepth`` when none is set).
    private static var bound: Int {
        get {
            let stored = Int(bitPattern: pthread_getspecific(key))
            return stored == 0 ? inputDepth : stored
        }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }

    /// Starts an evaluation; returns the bound to give back to ``end(_:)`` (evaluations may nest).
    static func begin() -> Int {
        let previous = bound
        bound = inputDepth
        if previous >= maximum { Measured.forget() }
        return previous
    }

    /// Ends an evaluation: the enclosing one's bound holds again, raised by what this one built.
    static func end(_ previous: Int) {
        bound = max(previous, bound)
    }

    /// Accounts for a value built `levels` deeper than the deepest of `parts` (for `setpath`,
    /// `levels` is the path's length and `parts` the value put there); throws when the result
    /// would nest more than ``maximum`` levels.
    @inline(__always)
    static func nest<Parts: Sequence<JSONValue>>(_ levels: Int, around parts: Parts) throws {
        let current = bound
        if current &+ levels <= maximum {
            bound = current &+ levels
            return
        }
        try measure(levels, around: parts)
    }

    /// ``nest(_:around:)`` for one part.
    @inline(__always)
    static func nest(_ levels: Int, around part: JSONValue) throws {
        try nest(levels, around: CollectionOfOne(part))
    }

    private static func measure<Parts: Sequence<JSONValue>>(_ levels: Int, around parts: Parts) throws {
        let room = maximum - levels
        guard room >= 0 else { throw tooDeep }
        let measured = Measured.current
        for part in parts {
            guard let depth = measured.depth(of: part, within: room) else { throw tooDeep }
            measured.remember(part, depth: depth)
        }
        bound = maximum  // every value is within the maximum; keep measuring from here on
    }

    private static var tooDeep: EvaluationError {
        EvaluationError("a value built by the expression would nest more than \(maximum) levels deep")
    }

    /// The parts measured last in this evaluation on this thread, with their depths: a value
    /// grown in a loop (`reduce … (null; [.])`) holds the part measured one step before, so
    /// each step measures one level instead of all of them. The parts are kept alive while
    /// remembered, so their storage cannot be reused by another value.
    final class Measured {
        private var entries: [(storage: UnsafeRawPointer, depth: Int, value: JSONValue)] = []
        private static let capacity = 4

        private static let key: pthread_key_t = {
            var key = pthread_key_t()
            pthread_key_create(&key) { if let object = $0 { Unmanaged<Measured>.fromOpaque(UnsafeRawPointer(object)).release() } }
            return key
        }()

        /// This thread's (made on first use).
        static var current: Measured {
            if let stored = pthread_getspecific(key) { return Unmanaged<Measured>.fromOpaque(stored).takeUnretainedValue() }
            let made = Measured()
            pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
            return made
        }

        /// Forgets every part (at the start of an evaluation), if this thread has any.
        static func forget() {
            guard let stored = pthread_getspecific(key) else { return }
            Unmanaged<Measured>.fromOpaque(stored).takeUnretainedValue().entries.removeAll()
        }

        func remember(_ value: JSONValue, depth: Int) {
            guard let storage = Self.storage(of: value) else { return }
            if entries.count == Self.capacity { entries.removeFirst() }
            entries.append((storage, depth, value))
        }

        private static func storage(of value: JSONValue) -> UnsafeRawPointer? {
            switch value {
            case .array(let array): storage(of: array)
            case .object(let object): storage(of: object.values)
            default: nil
            }
        }

        /// Where an array's elements are stored: the same for every copy of it, while it lives.
        private static func storage(of elements: [JSONValue]) -> UnsafeRawPointer? {
            elements.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
        }

        /// How many levels `value` nests (a scalar 0, `[]` 1), nil when more than `limit`; found
        /// without recursion. A part shared within the
        /// value (`[.[], .]` in a loop shares each earlier state) is looked into again only when
        /// reached deeper than before, so sharing costs no more than the distinct parts.
        func depth(of value: JSONValue, within limit: Int) -> Int? {
            var pending: [(JSONValue, Int)] = [(value, 0)]
            var reached: [UnsafeRawPointer: Int] = [:]
            var deepest = 0
            while let (next, depth) = pending.popLast() {
                let elements: [JSONValue]
                switch next {
                case .array(let array): elements = array
                case .object(let object): elements = object.values
                default: continue
                }
                guard depth < limit else { return nil }
                if let storage = Self.storage(of: elements) {
                    if let known = entries.first(where: { $0.storage == storage }) {
                        guard depth + known.depth <= limit else { return nil }
                        deepest = max(deepest, depth + known.depth)
                        continue
                    }
                    if let before = reached[storage], before >= depth { continue }
                    reached[storage] = depth
                }
                deepest = max(deepest, depth + 1)
                for element in elements where element.isContainer { pending.append((element, depth + 1)) }
            }
            return deepest
        }
    }
}

extension JSONValue {
    /// True for an array or an object.
    fileprivate var isContainer: Bool {
        switch self {
        case .array, .object: true
        default: false
        }
    }
}
