#if canImport(Glibc)
import Glibc
#endif

/// Glibc's `pthread_getattr_np` (a GNU extension the Swift Glibc module does not export).
@_silgen_name("pthread_getattr_np")
private func threadAttributes(_ thread: pthread_t, _ attributes: UnsafeMutablePointer<pthread_attr_t>) -> Int32

/// Turns runaway recursion (`def f: f; f`, very deep data) into an error instead of a crash.
///
/// jq keeps its own stack on the heap; this evaluator recurses on the thread's stack, so the
/// recursive nodes (function calls, `recurse`, `..`) check how much of it is left. The lowest
/// safe address is found once per thread (`pthread_getattr_np`) and kept in a thread-specific slot.
enum StackGuard {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Room kept free below the check: enough for one level of any node and for printing errors.
    private static let margin: UInt = 256 * 1024

    /// Throws when the current thread's stack is nearly exhausted.
    @inline(__always)
    static func check() throws {
        if isNearlyExhausted { throw EvaluationError("Expression recursion too deep (the evaluation stack is exhausted)") }
    }

    /// True when less than the margin is left of the current thread's stack.
    @inline(__always)
    static var isNearlyExhausted: Bool {
        var marker: UInt8 = 0
        let here = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        var limit = UInt(bitPattern: pthread_getspecific(key))
        if limit == 0 {
            limit = lowestSafeAddress()
            pthread_setspecific(key, UnsafeRawPointer(bitPattern: limit))
        }
        return here < limit
    }

    private static func lowestSafeAddress() -> UInt {
        var attributes = pthread_attr_t()
        guard threadAttributes(pthread_self(), &attributes) == 0 else { return 1 }
        defer { pthread_attr_destroy(&attributes) }
        var base: UnsafeMutableRawPointer?
        var size = 0
        guard pthread_attr_getstack(&attributes, &base, &size) == 0, let base else { return 1 }
        let low = UInt(bitPattern: base)
        return size > Int(margin) * 2 ? low + margin : low + UInt(size / 2)
    }
}
