/// A growable stack that the parser builds containers on: a finished container's elements
/// are moved out into an exact-size `Array`, with no copy and no reference counting.
///
/// It starts without storage (a scalar text allocates nothing) and doubles when full. It is
/// noncopyable because it owns its storage, which its `deinit` frees.
struct JSONWorkStack<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>? = nil
    private var capacity = 0
    /// The number of elements on the stack.
    private(set) var count = 0

    /// An empty stack without storage.
    init() {}

    deinit {
        guard let base else { return }
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// The element at `index` (below ``count``).
    @inline(__always)
    subscript(index: Int) -> Element {
        base.unsafelyUnwrapped[index]
    }

    /// Pushes an element.
    @inline(__always)
    mutating func append(_ element: consuming Element) {
        if count == capacity { grow() }
        (base.unsafelyUnwrapped + count).initialize(to: element)
        count &+= 1
    }

    /// Replaces the element at `index`.
    @inline(__always)
    mutating func replace(at index: Int, with element: consuming Element) {
        base.unsafelyUnwrapped[index] = element
    }

    /// Removes the elements from `start` up and returns them as an array, in order.
    @inline(__always)
    mutating func popArray(from start: Int) -> [Element] {
        let length = count &- start
        guard length > 0 else { return [] }
        let source = base.unsafelyUnwrapped + start
        count = start
        // reserveCapacity and append are inlined and specialized; `Array(unsafeUninitializedCapacity:)`
        // allocates through a generic entry point that looks the storage type up at run time.
        var array: [Element] = []
        array.reserveCapacity(length)
        for index in 0..<length { array.append((source + index).move()) }
        return array
    }

    /// Removes (and destroys) the elements from `start` up.
    mutating func removeAll(from start: Int) {
        guard count > start else { return }
        (base.unsafelyUnwrapped + start).deinitialize(count: count &- start)
        count = start
    }

    @inline(never)
    private mutating func grow() {
        let newCapacity = Swift.max(16, capacity &* 2)
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let base {
            newBase.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = newBase
        capacity = newCapacity
    }
}
