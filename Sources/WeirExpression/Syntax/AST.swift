import WeirCore

/// The syntax tree of an expression, as the parser builds it (names unresolved).
indirect enum Expression: Sendable {
    case identity
    case recurseAll
    case literal(JSONValue)
    /// A string with interpolations, optionally under a format (`@base64 "…\(.)…"`).
    case string([StringSegment], format: String?)
    /// A bare format such as `@csv`, applied to `.`.
    case format(String)
    /// `target[key]`, also `.name` and `."name"`.
    case index(Expression, Expression)
    /// `target[from:to]`.
    case slice(Expression, Expression?, Expression?)
    /// `target[]`.
    case iterate(Expression)
    /// `.a?`, `.[k]?`, `.[]?`, `.[m:n]?`: an index, slice or iteration whose own failure yields nothing.
    case optional(Expression)
    /// `body?`, `try body`, `try body catch handler`.
    case tryCatch(Expression, Expression?)
    case pipe(Expression, Expression)
    case comma(Expression, Expression)
    case binary(BinaryOperator, Expression, Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case alternative(Expression, Expression)
    case negate(Expression)
    case array(Expression?)
    case object([ObjectEntry])
    case ifThen([(Expression, Expression)], Expression?)
    case reduce(Expression, Pattern, Expression, Expression)
    case foreach(Expression, Pattern, Expression, Expression, Expression?)
    /// `source as $a ?// $b | body`.
    case bind(Expression, [Pattern], Expression)
    case functionDefinition(FunctionDefinition, Expression)
    case call(String, [Expression], offset: Int)
    case variable(String, offset: Int)
    case location(line: Int)
    case assign(AssignmentOperator, Expression, Expression)
    case label(String, Expression)
    case breakLabel(String, offset: Int)
}

/// A piece of a string literal: text, or an interpolated expression.
enum StringSegment: Sendable {
    case text(String)
    case interpolation(Expression)
}

/// One `key: value` entry of an object construction.
struct ObjectEntry: Sendable {
    /// The key: a fixed string, a computed expression, or a variable (`{$x}`).
    enum Key: Sendable {
        case name(String)
        case computed(Expression)
        case variable(String, offset: Int)
    }
    var key: Key
    /// The value; `nil` for the shorthand `{name}` / `{$x}` / `{"a"}`.
    var value: Expression?
}

/// A `def name(params): body;`.
struct FunctionDefinition: Sendable {
    var name: String
    /// Parameters; a `$name` parameter is a value parameter.
    var parameters: [String]
    var body: Expression
}

/// A destructuring pattern: `$x`, `[$a, $b]`, `{a: $x, $b, "c": [$d], (expr): $e}`.
indirect enum Pattern: Sendable {
    case variable(String)
    case array([Pattern])
    case object([(key: PatternKey, pattern: Pattern?)])
}

/// The key of an object pattern entry.
enum PatternKey: Sendable {
    /// `$name` (binds the variable and is the key).
    case variable(String)
    case name(String)
    case computed(Expression)
}

/// Binary operators that combine two values.
enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// `=`, `|=`, and the arithmetic update-assignments.
enum AssignmentOperator: String, Sendable {
    case set = "=", update = "|=", add = "+=", subtract = "-=", multiply = "*=", divide = "/=", modulo = "%=", alternative = "//="
}
