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

    private struct WeakFunction {
        weak var function: FunctionNode?
    }
}
