import WeirCore

/// Turns a syntax tree into nodes: resolves variables and functions to environment depths,
/// builtins to their implementations, and reports unknown or unsupported names.
final class Compiler {

    /// The value of an expression jq folds to a constant at compile time (literals, arrays and
    /// objects of constants, `$__loc__`, arithmetic and comparisons of constants); nil otherwise.
    static func constantValue(_ expression: Expression) -> JSONValue? {
        switch expression {
        case .literal(let value):
            return value
        case .location(let line):
            return .object(JSONObject([("file", .string("<top-level>")), ("line", .number(line))]))
        case .array(nil):
            return .array([])
        case .array(let body?):
            var elements: [JSONValue] = []
            var pending = [body]
            while let next = pending.popLast() {
                if case .comma(let left, let right) = next {
                    pending.append(right)
                    pending.append(left)
                } else if let value = constantValue(next) {
                    elements.append(value)
                } else {
                    return nil
                }
            }
            return .array(elements)
        case .object(let entries):
            var object = JSONObject()
            for entry in entries {
                guard case .name(let name) = entry.key, let valueExpression = entry.value,
                      let value = constantValue(valueExpression) else { return nil }
                object[name] = value
            }
            return .object(object)
        case .binary(let op, let left, let right):
            guard let a = constantValue(left), let b = constantValue(right) else { return nil }
            return try? ValueOperations.apply(op, a, b)  // a failing operation is left to run time
        default:
            return nil
        }
    }
    private let source: String
    /// Builtins defined in jq (compiled on first use, shared by every call).
    private var preludeFunctions: [String: FunctionNode] = [:]
    /// True once the program uses `input_filename` / `input_line_number`.
    private(set) var usesContext = false
    /// Every function compiled, the program's and the prelude's: a recursive one refers to
    /// itself through its body, so ``Program`` breaks those cycles when it goes away.
    private(set) var functions: [FunctionNode] = []
    /// Breaks the cycles of ``functions`` (a recursive one refers to itself through its body)
    /// for a compilation that failed, so no ``Program`` owns them.
    func releaseFunctions() {
        for function in functions { function.body = EmptyNode() }
    }

    /// The scope of the program's root (named variables, `$ENV`, the evaluation context).
    let rootScope: Scope?

    /// Names of the context slots at the root of the user's scope.
    static let fileNameSlot = "*file_name", lineNumberSlot = "*line_number"

    /// A compiler for `source` whose root scope binds `variableNames` (then the evaluation context).
    init(source: String, variableNames: [String]) {
        self.source = source
        var scope: Scope? = nil
        for name in variableNames { scope = Scope(parent: scope, entry: .variable(name)) }
        scope = Scope(parent: scope, entry: .variable(Compiler.fileNameSlot))
        scope = Scope(parent: scope, entry: .variable(Compiler.lineNumberSlot))
        self.rootScope = scope
    }

    /// A compile error at a byte offset of the source.
    func error(_ message: String, offset: Int) -> ExpressionSyntaxError {
        ExpressionSyntaxError(column: Lexer.column(of: offset, in: source), message: message)
    }

    // MARK: Scope lookups

    private func lookupVariable(_ name: String, _ scope: Scope?) -> Int? {
        var depth = 0
        var current = scope
        while let level = current {
            if case .variable(let candidate) = level.entry, candidate == name { return depth }
            depth += 1
            current = level.parent
        }
        return nil
    }

    private enum FunctionLookup {
        case function(FunctionNode, depth: Int)
        case closure(depth: Int)
    }

    private func lookupFunction(_ name: String, arity: Int, _ scope: Scope?) -> FunctionLookup? {
        var depth = 0
        var current = scope
        while let level = current {
            switch level.entry {
            case .function(let candidate, let candidateArity, let function) where candidate == name && candidateArity == arity:
                return .function(function, depth: depth)
            case .closure(let candidate) where candidate == name && arity == 0:
                return .closure(depth: depth)
            default: break
            }
            depth += 1
            current = level.parent
        }
        return nil
    }

    private func lookupLabel(_ name: String, _ scope: Scope?) -> Int? {
        var depth = 0
        var current = scope
        while let level = current {
            if case .label(let candidate) = level.entry, candidate == name { return depth }
            depth += 1
            current = level.parent
        }
        return nil
    }

    // MARK: Compiling

    /// Compiles an expression in a scope.
    func compile(_ expression: Expression, _ scope: Scope?) throws(ExpressionSyntaxError) -> Node {
        // The parser bounds a program's depth; a debug build's large frames may still need this.
        if StackGuard.isNearlyExhausted {
            throw ExpressionSyntaxError(column: 1, message: "the program is too deeply nested to compile")
        }
        switch expression {
        case .identity:
            return IdentityNode()
        case .recurseAll:
            return RecurseAllNode()
        case .literal(let value):
            return LiteralNode(value)
        case .string(let segments, let format):
            var parts: [StringNode.Part] = []
            for segment in segments {
                switch segment {
                case .text(let text): parts.append(.text(text))
                case .interpolation(let inner): parts.append(.interpolation(try compile(inner, scope)))
                }
            }
            return StringNode(parts: parts, format: format)
        case .format(let name):
            return FormatNode(format: name)
        case .index(let target, let key):
            let targetNode: Node? = if case .identity = target { nil } else { try compile(target, scope) }
            if case .literal(.string(let name)) = key { return FieldNode(target: targetNode, name: name) }
            return IndexNode(target: targetNode ?? IdentityNode(), key: try compile(key, scope))
        case .slice(let target, let from, let to):
            return SliceNode(target: try compile(target, scope), from: try from.map { e throws(ExpressionSyntaxError) in try compile(e, scope) },
                             to: try to.map { e throws(ExpressionSyntaxError) in try compile(e, scope) })
        case .iterate(let target):
            return IterateNode(target: try compile(target, scope))
        case .optional(let inner):
            let node = try compile(inner, scope)
            (node as? OptionalAccess)?.isOptional = true
            return node
        case .tryCatch(let body, let handler):
            let handlerNode: Node? = try handler.map { e throws(ExpressionSyntaxError) in try compile(e, scope) }
            return TryNode(body: try compile(body, scope), handler: handlerNode is EmptyNode ? nil : handlerNode)
        case .pipe(let left, let right):
            let leftNode = try compile(left, scope)
            let rightNode = try compile(right, scope)
            if leftNode is IdentityNode { return rightNode }
            if rightNode is IdentityNode { return leftNode }
            if let field = rightNode as? FieldNode, field.target == nil {
                let merged = FieldNode(target: leftNode, name: field.name)
                merged.isOptional = field.isOptional
                return merged
            }
            return PipeNode(left: leftNode, right: rightNode)
        case .comma(let left, let right):
            return CommaNode(left: try compile(left, scope), right: try compile(right, scope))
        case .binary(let op, let left, let right):
            return BinaryNode(op: op, lhs: try compile(left, scope), rhs: try compile(right, scope))
        case .and(let left, let right):
            return LogicalNode(isAnd: true, lhs: try compile(left, scope), rhs: try compile(right, scope))
        case .or(let left, let right):
            return LogicalNode(isAnd: false, lhs: try compile(left, scope), rhs: try compile(right, scope))
        case .alternative(let left, let right):
            return AlternativeNode(lhs: try compile(left, scope), rhs: try compile(right, scope))
        case .negate(let operand):
            if case .literal(.number(let number)) = operand, number.literal != nil {
                return LiteralNode(.number(ValueOperations.negate(number)))
            }
            return NegateNode(operand: try compile(operand, scope))
        case .array(let body):
            return ArrayNode(body: try body.map { e throws(ExpressionSyntaxError) in try compile(e, scope) })
        case .object(let entries):
            return try compileObject(entries, scope)
        case .ifThen(let branches, let otherwise):
            var result: Node = try otherwise.map { e throws(ExpressionSyntaxError) in try compile(e, scope) } ?? IdentityNode()
            for (condition, then) in branches.reversed() {
                result = IfNode(condition: try compile(condition, scope), then: try compile(then, scope), otherwise: result)
            }
            return result
        case .reduce(let source, let pattern, let initial, let update):
            let sourceNode = try compile(source, scope)
            let (binder, bodyScope) = try compileBinder([pattern], scope)
            return ReduceNode(source: sourceNode, binder: binder, initial: try compile(initial, scope), update: try compile(update, bodyScope))
        case .foreach(let source, let pattern, let initial, let update, let extract):
            let sourceNode = try compile(source, scope)
            let (binder, bodyScope) = try compileBinder([pattern], scope)
            return ForeachNode(source: sourceNode, binder: binder, initial: try compile(initial, scope),
                               update: try compile(update, bodyScope),
                               extract: try extract.map { e throws(ExpressionSyntaxError) in try compile(e, bodyScope) })
        case .bind(let source, let patterns, let body):
            let sourceNode = try compile(source, scope)
            let (binder, bodyScope) = try compileBinder(patterns, scope)
            return BindNode(source: sourceNode, binder: binder, body: try compile(body, bodyScope))
        case .functionDefinition(let definition, let rest):
            let function = try compileDefinition(definition, scope)
            let restScope = Scope(parent: scope, entry: .function(definition.name, arity: definition.parameters.count, function))
            return DefinitionNode(rest: try compile(rest, restScope))
        case .call(let name, let arguments, let offset):
            return try compileCall(name, arguments, offset: offset, scope)
        case .variable(let name, let offset):
            if let depth = lookupVariable(name, scope) { return VariableNode(depth: depth) }
            if name == "ENV" { return LiteralNode(Builtins.environmentObject()) }
            if name == "__prog_args" { throw error("`$__prog_args` is not supported", offset: offset) }
            throw error("$\(name) is not defined", offset: offset)
        case .location(let line):
            return LiteralNode(.object(JSONObject([("file", .string("<top-level>")), ("line", .number(line))])))
        case .assign(let op, let left, let right):
            return AssignNode(op: op, lhs: try compile(left, scope), rhs: try compile(right, scope))
        case .label(let name, let body):
            return LabelNode(body: try compile(body, Scope(parent: scope, entry: .label(name))))
        case .breakLabel(let name, let offset):
            guard let depth = lookupLabel(name, scope) else { throw error("$*label-\(name) is not defined", offset: offset) }
            return BreakNode(depth: depth)
        }
    }

    private func compileObject(_ entries: [ObjectEntry], _ scope: Scope?) throws(ExpressionSyntaxError) -> Node {
        var compiled: [ObjectNode.Entry] = []
        for entry in entries {
            switch entry.key {
            case .name(let name):
                let value = try entry.value.map { e throws(ExpressionSyntaxError) in try compile(e, scope) } ?? FieldNode(target: nil, name: name)
                compiled.append(ObjectNode.Entry(constantKey: name, key: nil, value: value))
            case .variable(let name, let offset):
                let variable = try compile(.variable(name, offset: offset), scope)
                let value = try entry.value.map { e throws(ExpressionSyntaxError) in try compile(e, scope) } ?? variable
                if entry.value != nil {
                    compiled.append(ObjectNode.Entry(constantKey: nil, key: variable, value: value))
                } else {
                    compiled.append(ObjectNode.Entry(constantKey: name, key: nil, value: value))
                }
            case .computed(let keyExpression):
                if case .literal(let literal) = keyExpression {
                    if case .string(let name) = literal {
                        let value = try entry.value.map { e throws(ExpressionSyntaxError) in try compile(e, scope) } ?? FieldNode(target: nil, name: name)
                        compiled.append(ObjectNode.Entry(constantKey: name, key: nil, value: value))
                        continue
                    }
                }
                if let constant = Compiler.constantValue(keyExpression) {
                    // jq folds constant keys at compile time: a constant that is not a string is a syntax error.
                    throw error("Cannot use \(ValueOperations.describe(constant)) as object key", offset: 0)
                }
                let keyNode = try compile(keyExpression, scope)
                let value: Node = try entry.value.map { e throws(ExpressionSyntaxError) in try compile(e, scope) } ?? IndexNode(target: IdentityNode(), key: keyNode)
                compiled.append(ObjectNode.Entry(constantKey: nil, key: keyNode, value: value))
            }
        }
        return ObjectNode(entries: compiled)
    }

    private func compileBinder(_ patterns: [Pattern], _ scope: Scope?) throws(ExpressionSyntaxError) -> (Binder, Scope?) {
        var names: [String] = []
        func collect(_ pattern: Pattern) {
            switch pattern {
            case .variable(let name): if !names.contains(name) { names.append(name) }
            case .array(let elements): elements.forEach(collect)
            case .object(let entries):
                for entry in entries {
                    if case .variable(let name) = entry.key, !names.contains(name) { names.append(name) }
                    if let inner = entry.pattern { collect(inner) }
                }
            }
        }
        patterns.forEach(collect)
        var bodyScope = scope
        for name in names { bodyScope = Scope(parent: bodyScope, entry: .variable(name)) }
        func resolve(_ pattern: Pattern) throws(ExpressionSyntaxError) -> CompiledPattern {
            switch pattern {
            case .variable(let name): return .variable(slot: names.firstIndex(of: name)!)
            case .array(let elements):
                var compiled: [CompiledPattern] = []
                for element in elements { compiled.append(try resolve(element)) }
                return .array(compiled)
            case .object(let entries):
                var compiled: [(key: CompiledPatternKey, pattern: CompiledPattern?)] = []
                for entry in entries {
                    let key: CompiledPatternKey
                    switch entry.key {
                    case .variable(let name): key = .variable(slot: names.firstIndex(of: name)!, name: name)
                    case .name(let name): key = .constant(name)
                    case .computed(let expression):
                        if case .literal(let literal) = expression {
                            if case .string(let name) = literal {
                                key = .constant(name)
                                break
                            }
                            throw error("Cannot use \(ValueOperations.describe(literal)) as object key", offset: 0)
                        }
                        key = .computed(try compile(expression, bodyScope))
                    }
                    compiled.append((key, try entry.pattern.map { p throws(ExpressionSyntaxError) in try resolve(p) }))
                }
                return .object(compiled)
            }
        }
        var alternatives: [CompiledPattern] = []
        for pattern in patterns { alternatives.append(try resolve(pattern)) }
        return (Binder(alternatives: alternatives, slotCount: names.count), bodyScope)
    }

    private func compileDefinition(_ definition: FunctionDefinition, _ scope: Scope?) throws(ExpressionSyntaxError) -> FunctionNode {
        let function = FunctionNode(name: definition.name, valueParameters: definition.parameters.map { $0.hasPrefix("$") })
        functions.append(function)
        var bodyScope = Scope(parent: scope, entry: .function(definition.name, arity: definition.parameters.count, function))
        for parameter in definition.parameters {
            if parameter.hasPrefix("$") {
                let name = String(parameter.dropFirst())
                bodyScope = Scope(parent: bodyScope, entry: .closure(name))
                bodyScope = Scope(parent: bodyScope, entry: .variable(name))
            } else {
                bodyScope = Scope(parent: bodyScope, entry: .closure(parameter))
            }
        }
        function.body = try compile(definition.body, bodyScope)
        return function
    }

    private func compileCall(_ name: String, _ arguments: [Expression], offset: Int, _ scope: Scope?) throws(ExpressionSyntaxError) -> Node {
        if let found = lookupFunction(name, arity: arguments.count, scope) {
            switch found {
            case .closure(let depth):
                return ClosureCallNode(depth: depth)
            case .function(let function, let depth):
                var nodes: [Node] = []
                for argument in arguments { nodes.append(try compile(argument, scope)) }
                return CallNode(function: function, depth: depth, arguments: nodes)
            }
        }
        if Builtins.unsupported.contains(name) {
            throw error("`\(name)` is not supported", offset: offset)
        }
        if name == "input_filename" || name == "input_line_number", arguments.isEmpty {
            usesContext = true
            if name == "input_filename" { return VariableNode(depth: lookupVariable(Compiler.fileNameSlot, scope) ?? 0) }
            return InputLineNumberNode(depth: lookupVariable(Compiler.lineNumberSlot, scope) ?? 0)
        }
        if name == "getpath", arguments.count == 1 { return GetPathNode(argument: try compile(arguments[0], scope)) }
        if name == "path", arguments.count == 1 { return PathOfNode(body: try compile(arguments[0], scope)) }
        if let builtin = Builtins.table["\(name)/\(arguments.count)"] {
            var nodes: [Node] = []
            for argument in arguments { nodes.append(try compile(argument, scope)) }
            return try builtin.make(nodes)
        }
        if let function = try preludeFunction(name, arity: arguments.count) {
            var nodes: [Node] = []
            for argument in arguments { nodes.append(try compile(argument, scope)) }
            return CallNode(function: function, depth: 0, arguments: nodes)
        }
        throw error("\(name)/\(arguments.count) is not defined", offset: offset)
    }

    /// A builtin defined in jq (``Prelude``), compiled once per program on first use.
    private func preludeFunction(_ name: String, arity: Int) throws(ExpressionSyntaxError) -> FunctionNode? {
        let key = "\(name)/\(arity)"
        if let function = preludeFunctions[key] { return function }
        guard let text = Prelude.definitions[key] else { return nil }
        let expression: Expression
        do {
            expression = try Parser.parse(text + " .")
        } catch {
            throw ExpressionSyntaxError(column: 1, message: "internal error in builtin \(key): \(error.message)")
        }
        guard case .functionDefinition(let definition, _) = expression else { return nil }
        let function = FunctionNode(name: name, valueParameters: definition.parameters.map { $0.hasPrefix("$") })
        function.staticEnvironment = Environment(parent: nil, binding: .function)
        functions.append(function)
        preludeFunctions[key] = function
        var bodyScope = Scope(parent: nil, entry: .function(name, arity: arity, function))
        for parameter in definition.parameters {
            if parameter.hasPrefix("$") {
                let plain = String(parameter.dropFirst())
                bodyScope = Scope(parent: bodyScope, entry: .closure(plain))
                bodyScope = Scope(parent: bodyScope, entry: .variable(plain))
            } else {
                bodyScope = Scope(parent: bodyScope, entry: .closure(parameter))
            }
        }
        function.body = try compile(definition.body, bodyScope)
        return function
    }
}
