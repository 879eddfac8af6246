#if canImport(Glibc)
import Glibc
#endif
import WeirCore

/// jq's `value_at_path`: the last path a path expression reached and the value there.
///
/// In path mode jq lets a value that no path expression produced stand for the tracked path
/// when it is identical to the value there, and every null, true and false is identical to
/// another of its kind: `true | path(not | not)` is `[]`, `{"a":null} | path(.a | null | .b)` is
/// `["a","b"]`. The evaluator passes a `nil` path for such a value; the pipe that fed a path
/// into its right side records it here for that side's run (restoring the one before after it,
/// as jq's backtracking does), and ``PathMode`` consults it when it meets a `nil` path. Path
/// evaluation never suspends, so the state lives in a thread-specific slot, like ``StackGuard``'s.
final class PathTracking {
    private var path: [JSONValue]?
    private var value: JSONValue = .null

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<PathTracking>.fromOpaque(pointer).release() }
        }
        return key
    }()

    /// This thread's tracker.
    private static var current: PathTracking {
        if let pointer = pthread_getspecific(key) { return Unmanaged<PathTracking>.fromOpaque(pointer).takeUnretainedValue() }
        let tracker = PathTracking()
        pthread_setspecific(key, Unmanaged.passRetained(tracker).toOpaque())
        return tracker
    }

    /// Runs `body` with `path` (holding `value`) as the tracked path, then restores the one before.
    @inline(__always)
    static func tracking(_ path: [JSONValue], _ value: JSONValue, _ body: () throws -> Void) throws {
        let tracker = current
        let (savedPath, savedValue) = (tracker.path, tracker.value)
        tracker.path = path
        tracker.value = value
        defer { tracker.path = savedPath; tracker.value = savedValue }
        try body()
    }

    /// The tracked path, when `value` is identical to the value there (a null or a boolean equal to it).
    static func path(standingFor value: JSONValue) -> [JSONValue]? {
        let tracker = current
        guard let path = tracker.path, PathMode.isIdenticalScalar(value, tracker.value) else { return nil }
        return path
    }
}
