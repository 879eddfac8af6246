import WeirCore

/// The syntax tree of an expression, as the parser builds it (names unresolved).
indirect enum Expression: Sendable {
    /// `.`
    case identity
    /// `..`
    case recurseAll
    /// A constant value.
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
    /// `left | right`.
    case pipe(Expression, Expression)
    /// `left, right`.
    case comma(Expression, Expression)
    /// Arithmetic or comparison.
    case binary(BinaryOperator, Expression, Expression)
    /// `left and right`.
    case and(Expression, Expression)
    /// `left or right`.
    case or(Expression, Expression)
    /// `left // right`.
    case alternative(Expression, Expression)
    /// Unary minus.
    case negate(Expression)
    /// `[body]` (or `[]`).
    case array(Expression?)
    /// `{…}`.
    case object([ObjectEntry])
    /// `if … then … elif … else … end` (branches, optional else).
    case ifThen([(Expression, Expression)], Expression?)
    /// `reduce source as pattern (initial; update)`.
    case reduce(Expression, Pattern, Expression, Expression)
    /// `foreach source as pattern (initial; update; extract)`.
    case foreach(Expression, Pattern, Expression, Expression, Expression?)
    /// `source as $a ?// $b | body`.
    case bind(Expression, [Pattern], Expression)
    /// `def f: body; rest`.
    case functionDefinition(FunctionDefinition, Expression)
    /// A call of a builtin or defined function, with its source offset.
    case call(String, [Expression], offset: Int)
    /// `$name`, with its source offset.
    case variable(String, offset: Int)
    /// `$__loc__`.
    case location(line: Int)
    /// `lhs op= rhs`.
    case assign(AssignmentOperator, Expression, Expression)
    /// `label $name | body`.
    case label(String, Expression)
    /// `break $name`.
    case breakLabel(String, offset: Int)
}

extension Expression {
    /// The expressions directly inside this one (those of its patterns' computed keys too).
    var children: [Expression] {
        switch self {
        case .identity, .recurseAll, .literal, .format, .variable, .location, .breakLabel:
            return []
        case .string(let segments, _):
            return segments.compactMap { if case .interpolation(let inner) = $0 { inner } else { nil } }
        case .index(let a, let b), .pipe(let a, let b), .comma(let a, let b), .binary(_, let a, let b),
             .and(let a, let b), .or(let a, let b), .alternative(let a, let b), .assign(_, let a, let b):
            return [a, b]
        case .slice(let target, let from, let to):
            return [target] + [from, to].compactMap { $0 }
        case .iterate(let a), .optional(let a), .negate(let a), .label(_, let a):
            return [a]
        case .tryCatch(let body, let handler):
            return [body] + [handler].compactMap { $0 }
        case .array(let body):
            return [body].compactMap { $0 }
        case .object(let entries):
            return entries.flatMap { entry -> [Expression] in
                let key: [Expression] = if case .computed(let expression) = entry.key { [expression] } else { [] }
                return key + [entry.value].compactMap { $0 }
            }
        case .ifThen(let branches, let otherwise):
            return branches.flatMap { [$0.0, $0.1] } + [otherwise].compactMap { $0 }
        case .reduce(let source, let pattern, let initial, let update):
            return [source, initial, update] + pattern.keyExpressions
        case .foreach(let source, let pattern, let initial, let update, let extract):
            return [source, initial, update] + [extract].compactMap { $0 } + pattern.keyExpressions
        case .bind(let source, let patterns, let body):
            return [source, body] + patterns.flatMap(\.keyExpressions)
        case .functionDefinition(let definition, let rest):
            return [definition.body, rest]
        case .call(_, let arguments, _):
            return arguments
        }
    }
}

/// A piece of a string literal: text, or an interpolated expression.
enum StringSegment: Sendable {
    /// Literal text.
    case text(String)
    /// `\(expression)`.
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
    /// The key.
    var key: Key
    /// The value; `nil` for the shorthand `{name}` / `{$x}` / `{"a"}`.
    var value: Expression?
}

/// A `def name(params): body;`.
struct FunctionDefinition: Sendable {
    /// The function name.
    var name: String
    /// Parameters; a `$name` parameter is a value parameter.
    var parameters: [String]
    /// The body.
    var body: Expression
}

/// A destructuring pattern: `$x`, `[$a, $b]`, `{a: $x, $b, "c": [$d], (expr): $e}`.
indirect enum Pattern: Sendable {
    /// `$name`.
    case variable(String)
    /// `[p1, p2, …]`.
    case array([Pattern])
    /// `{key: p, $name, …}`.
    case object([(key: PatternKey, pattern: Pattern?)])
}

extension Pattern {
    /// The expressions of its computed keys, at any depth (patterns nest at most
    /// ``Parser/maximumNesting`` levels).
    var keyExpressions: [Expression] {
        switch self {
        case .variable: return []
        case .array(let elements): return elements.flatMap(\.keyExpressions)
        case .object(let entries):
            return entries.flatMap { entry -> [Expression] in
                let key: [Expression] = if case .computed(let expression) = entry.key { [expression] } else { [] }
                return key + (entry.pattern?.keyExpressions ?? [])
            }
        }
    }
}

/// The key of an object pattern entry.
enum PatternKey: Sendable {
    /// `$name` (binds the variable and is the key).
    case variable(String)
    /// A constant key.
    case name(String)
    /// A key computed by an expression.
    case computed(Expression)
}

/// Binary operators that combine two values.
enum BinaryOperator: String, Sendable {
    /// Arithmetic.
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    /// Comparisons.
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// `=`, `|=`, and the arithmetic update-assignments.
enum AssignmentOperator: String, Sendable {
    /// Assignment operators.
    case set = "=", update = "|=", add = "+=", subtract = "-=", multiply = "*=", divide = "/=", modulo = "%=", alternative = "//="
}
