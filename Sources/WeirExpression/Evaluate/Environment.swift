import WeirCore

/// Receives one output of a generator.
typealias Emit = (JSONValue) throws -> Void

/// Receives one output of a generator in path mode: the path (an array of keys) and the value there.
typealias PathEmit = ([JSONValue]?, JSONValue) throws -> Void

/// A runtime error of an expression, with jq's wording.
package struct EvaluationError: Error, Sendable, CustomStringConvertible {
    /// The message (jq's wording, e.g. `Cannot iterate over null`).
    package var message: String
    /// The value given to `error(v)` (what `try … catch .` sees), `nil` for built-in errors.
    package var value: JSONValue?

    /// A built-in error with a message.
    package init(_ message: String) {
        self.message = message
        self.value = nil
    }

    /// An error raised by `error(v)`.
    package init(value: JSONValue) {
        self.value = value
        switch value {
        case .string(let text): self.message = text
        case .object(let object) where object["message"] != nil:
            if case .string(let text)? = object["message"] { self.message = text } else { self.message = "\(ValueText.json(value)) (not a string)" }
        default: self.message = "\(ValueText.json(value)) (not a string)"
        }
    }

    /// What `catch` receives.
    var caughtValue: JSONValue { value ?? .string(message) }

    /// The message, as jq prints an uncaught error.
    package var description: String { message }
}

/// An error thrown by a downstream consumer, carried through a `try` so it is not caught there.
struct PassThroughError: Error {
    /// The consumer's error.
    let inner: any Error
}

/// Thrown by `break $label`, caught by the matching `label`.
struct BreakSignal: Error {
    /// The label activation to stop.
    let label: LabelIdentity
}

/// The identity of one activation of a `label`.
final class LabelIdentity: Sendable {}

/// The runtime environment: a persistent linked list of bindings, resolved by depth at compile time.
final class Environment: @unchecked Sendable {
    /// The enclosing bindings.
    let parent: Environment?
    /// This binding.
    let binding: Binding

    /// One binding: a variable's value, a closure parameter, a function definition marker or a label.
    enum Binding {
        case value(JSONValue)
        case closure(Node, Environment)
        case function
        case label(LabelIdentity)
    }

    /// A binding on top of `parent`.
    init(parent: Environment?, binding: Binding) {
        self.parent = parent
        self.binding = binding
    }

    /// The environment `depth` steps up (0 is this one).
    @inline(__always)
    func ancestor(_ depth: Int) -> Environment {
        var environment = self
        var remaining = depth
        while remaining > 0 {
            environment = environment.parent.unsafelyUnwrapped
            remaining -= 1
        }
        return environment
    }

    /// The value of the variable `depth` steps up.
    @inline(__always)
    func value(at depth: Int) -> JSONValue {
        if case .value(let value) = ancestor(depth).binding { return value }
        return .null
    }

    /// An empty root environment.
    static let root = Environment(parent: nil, binding: .function)
}

/// Compile-time scope: mirrors `Environment` so names resolve to depths.
final class Scope {
    /// The enclosing scope.
    let parent: Scope?
    /// What this level binds.
    let entry: Entry

    /// What a scope level binds.
    enum Entry {
        case variable(String)
        case closure(String)
        case function(String, arity: Int, FunctionNode)
        case label(String)
    }

    /// A scope level on top of `parent`.
    init(parent: Scope?, entry: Entry) {
        self.parent = parent
        self.entry = entry
    }
}
