import Testing
import WeirCore
@testable import WeirExpression

/// A compiled program frees everything when it goes away (found by `bin/fuzz expression-parse`
/// under LeakSanitizer: a recursive function, `walk` or a user's `def`, kept itself alive).
@Suite struct ProgramLifetimeTests {
    @Test(arguments: [
        "def f: if . > 0 then . - 1 | f else . end; f",  // the user's recursive function
        "walk(.)",                                        // a recursive builtin from the prelude
        "def f(g): def h: g; [h, (. - 1 | if . > 0 then f(g) else empty end)]; f(.)",
    ])
    func recursiveFunctionsAreFreedWithTheirProgram(source: String) throws {
        var functions: [WeakFunction] = []
        do {
            let program = try Program.compile(source)
            #expect(!program.functions.isEmpty)
            functions = program.functions.map(WeakFunction.init)
            _ = try program.outputs(.number(3))
        }
        let alive = functions.compactMap { $0.function?.name }
        #expect(alive.isEmpty, "the functions \(alive) of \(source) outlive their program")
    }

    /// A program that fails to compile after a recursive builtin was compiled frees it too
    /// (found by `bin/fuzz expression-parse`: `flatten(0.5), flattn(1e300)` leaked `flatten`).
    @Test func aFailedCompilationFreesTheFunctionsItCompiled() throws {
        let source = "flatten(0.5), flattn(1)"
        #expect(throws: ExpressionSyntaxError.self) { try Program.compile(source) }
        var functions: [WeakFunction] = []
        do {
            let compiler = Compiler(source: source, variableNames: [])
            let expression = try Parser.parse(source)
            #expect(throws: ExpressionSyntaxError.self) { try compiler.compile(expression, compiler.rootScope) }
            #expect(compiler.functions.contains { $0.name == "flatten" })
            functions = compiler.functions.map(WeakFunction.init)
            compiler.releaseFunctions()
        }
        let alive = functions.compactMap { $0.function?.name }
        #expect(alive.isEmpty, "the functions \(alive) outlive a failed compilation")
    }

    private struct WeakFunction {
        weak var function: FunctionNode?
    }
}
