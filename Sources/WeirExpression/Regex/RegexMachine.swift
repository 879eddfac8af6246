/// A compiled regular expression and the backtracking machine that runs it, with a step limit.
///
/// Weir runs its own engine rather than Swift's `Regex` so that a match can be stopped: a
/// pattern with nested quantifiers (`^(a+)+$` on thirty `a`s and a `!`) backtracks an
/// exponential number of times. jq 1.8 relies on Oniguruma's retry limit, counted for each
/// position a match is tried at; here every instruction the machine executes counts, and an
/// attempt at one position that takes more than ``RegexProgram/stepLimit(textLength:)`` steps
/// throws ``RegexStepLimitExceeded``, which the regex builtins turn into an error for the
/// record (jq's own wording, `Regex failure: retry-limit-in-match over`).
///
/// The text is an array of Unicode scalars, so positions are the code-point offsets jq reports.
final class RegexProgram: Sendable {
    /// The most machine steps a match attempt at one position may take: a million, plus ten
    /// per scalar of the text so that patterns such as `.*x` can scan and back up over long
    /// strings. Ordinary patterns take a few steps per scalar; runaway backtracking is stopped
    /// in a fraction of a second.
    static func stepLimit(textLength: Int) -> Int { 1_000_000 + 10 * textLength }

    /// The number of capture groups (group 0, the whole match, not counted).
    let groupCount: Int
    /// Each group's name, by group number starting at 1 (`nil` for an unnamed group).
    let groupNames: [String?]

    private let instructions: [Instruction]
    private let sets: [RegexScalarSet]
    private let registerCount: Int
    /// The search may only start at the beginning of the text (the pattern opens with `\A` or `^`).
    private let anchoredAtStart: Bool
    /// A scalar every match must start with, to skip hopeless start positions quickly.
    private let firstScalar: Unicode.Scalar?

    /// The instructions of the machine. Jumps are absolute instruction indexes.
    fileprivate enum Instruction: Sendable {
        case scalar(Unicode.Scalar)
        case scalarCaseless(Unicode.Scalar)
        case any
        case anyButNewline
        case set(Int, caseless: Bool)
        case assertion(RegexAssertion)
        /// Continue at the first target; on failure, at the second.
        case split(Int, Int)
        case jump(Int)
        case save(Int)
        case backreference([Int], caseless: Bool)
        /// Remember the position in a register (the start of a loop body).
        case mark(Int)
        /// Leave the loop at `exit` when the body matched nothing, else go back to `loop`.
        case loopIfProgress(register: Int, loop: Int, exit: Int)
        /// Run the sub-program at `start` (ended by `.succeed`) as an atomic group or a look-around.
        case subMatch(start: Int, kind: SubMatchKind, resume: Int)
        case succeed
        case keep
        case match
    }

    fileprivate enum SubMatchKind: Sendable {
        case atomic
        case lookAhead(negative: Bool)
        case lookBehind(negative: Bool, minimumLength: Int, maximumLength: Int)
    }

    /// Compiles `pattern` with jq's flags (`i`, `x`, `p`/dot-all).
    init(pattern: String, caseless: Bool, extended: Bool, dotAll: Bool) throws(RegexSyntaxError) {
        var parser = RegexParser(pattern, caseless: caseless, extended: extended, dotAll: dotAll)
        let tree = try parser.parse()
        groupCount = parser.groupCount
        groupNames = parser.groupNames
        var compiler = RegexCompiler()
        compiler.emit(.save(0))
        try compiler.compile(tree)
        compiler.emit(.save(1))
        compiler.emit(.match)
        instructions = compiler.instructions
        sets = compiler.sets
        registerCount = compiler.registerCount
        anchoredAtStart = Self.opensWithTextStart(tree)
        firstScalar = Self.requiredFirstScalar(tree)
    }

    /// A successful match: the whole match and each group as scalar offsets (`nil` for a group that did not take part).
    struct Match {
        var range: Range<Int>
        var groups: [Range<Int>?]
    }

    /// The first match that starts at `start` or later (the search tries each position in turn).
    func firstMatch(in text: [Unicode.Scalar], from start: Int) throws(RegexStepLimitExceeded) -> Match? {
        var machine = Machine(program: self, text: text, searchStart: start)
        var position = start
        while position <= text.count {
            if let firstScalar, position < text.count, text[position] != firstScalar {
                position += 1
                continue
            }
            if let slots = try machine.run(at: position) {
                var groups: [Range<Int>?] = []
                for group in 1...max(groupCount, 1) where group <= groupCount {
                    let low = slots[2 * group], high = slots[2 * group + 1]
                    groups.append(low >= 0 && high >= low ? low..<high : nil)
                }
                return Match(range: slots[0]..<max(slots[0], slots[1]), groups: groups)
            }
            if anchoredAtStart { break }
            position += 1
        }
        return nil
    }

    private static func opensWithTextStart(_ node: RegexNode) -> Bool {
        switch node {
        case .assertion(.textStart): return true
        case .sequence(let items): return items.first.map(opensWithTextStart) ?? false
        case .group(_, let body), .atomic(let body): return opensWithTextStart(body)
        case .alternation(let branches): return branches.allSatisfy(opensWithTextStart)
        default: return false
        }
    }

    private static func requiredFirstScalar(_ node: RegexNode) -> Unicode.Scalar? {
        switch node {
        case .scalar(let scalar, caseless: false): return scalar
        case .sequence(let items):
            guard let first = items.first else { return nil }
            return requiredFirstScalar(first)
        case .group(_, let body), .atomic(let body): return requiredFirstScalar(body)
        case .quantified(let body, let minimum, _, _) where minimum > 0: return requiredFirstScalar(body)
        default: return nil
        }
    }

    /// One search's state: the text, the capture slots and registers, the backtrack stack and the step count.
    private struct Machine {
        let program: RegexProgram
        let text: [Unicode.Scalar]
        let searchStart: Int
        var slots: [Int]
        var registers: [Int]
        var steps = 0
        let stepLimit: Int

        /// What to do on failure: resume a branch, or undo a slot or register change.
        enum Entry {
            case branch(pc: Int, position: Int)
            case restoreSlot(Int, Int)
            case restoreRegister(Int, Int)
        }

        init(program: RegexProgram, text: [Unicode.Scalar], searchStart: Int) {
            self.program = program
            self.text = text
            self.searchStart = searchStart
            stepLimit = RegexProgram.stepLimit(textLength: text.count)
            slots = Array(repeating: -1, count: 2 * (program.groupCount + 1))
            registers = Array(repeating: -1, count: program.registerCount)
        }

        /// The capture slots of a match starting exactly at `position`, or `nil`.
        mutating func run(at position: Int) throws(RegexStepLimitExceeded) -> [Int]? {
            for index in slots.indices { slots[index] = -1 }
            steps = 0
            guard try execute(from: 0, at: position) != nil else { return nil }
            return slots
        }

        /// Runs from instruction `pc` until `.match` or `.succeed`; the end position, or `nil`
        /// when every alternative failed (slots and registers are then as they were).
        mutating func execute(from startPC: Int, at startPosition: Int) throws(RegexStepLimitExceeded) -> Int? {
            var stack: [Entry] = []
            var pc = startPC
            var position = startPosition
            let instructions = program.instructions
            while true {
                steps &+= 1
                if steps > stepLimit { throw RegexStepLimitExceeded() }
                var failed = false
                switch instructions[pc] {
                case .scalar(let scalar):
                    if position < text.count, text[position] == scalar { position += 1; pc += 1 } else { failed = true }
                case .scalarCaseless(let folded):
                    if position < text.count, RegexCompiler.fold(text[position]) == folded { position += 1; pc += 1 } else { failed = true }
                case .any:
                    if position < text.count { position += 1; pc += 1 } else { failed = true }
                case .anyButNewline:
                    if position < text.count, text[position] != "\n" { position += 1; pc += 1 } else { failed = true }
                case .set(let index, let caseless):
                    if position < text.count, Self.setContains(program.sets[index], text[position], caseless: caseless) {
                        position += 1
                        pc += 1
                    } else {
                        failed = true
                    }
                case .assertion(let assertion):
                    if holds(assertion, at: position) { pc += 1 } else { failed = true }
                case .split(let first, let second):
                    stack.append(.branch(pc: second, position: position))
                    pc = first
                case .jump(let target):
                    pc = target
                case .save(let slot):
                    stack.append(.restoreSlot(slot, slots[slot]))
                    slots[slot] = position
                    pc += 1
                case .keep:
                    stack.append(.restoreSlot(0, slots[0]))
                    slots[0] = position
                    pc += 1
                case .backreference(let groups, let caseless):
                    if let end = matchBackreference(groups, caseless: caseless, at: position) { position = end; pc += 1 } else { failed = true }
                case .mark(let register):
                    stack.append(.restoreRegister(register, registers[register]))
                    registers[register] = position
                    pc += 1
                case .loopIfProgress(let register, let loop, let exit):
                    pc = registers[register] == position ? exit : loop
                case .subMatch(let start, let kind, let resume):
                    let savedSlots = slots
                    let savedRegisters = registers
                    var outcome: Int?
                    switch kind {
                    case .atomic, .lookAhead:
                        outcome = try execute(from: start, at: position)
                    case .lookBehind(_, let minimumLength, let maximumLength):
                        outcome = nil
                        var length = minimumLength
                        while length <= min(maximumLength, position) {
                            if let end = try execute(from: start, at: position - length), end == position { outcome = end; break }
                            slots = savedSlots
                            registers = savedRegisters
                            length += 1
                        }
                    }
                    switch kind {
                    case .atomic:
                        if let end = outcome { position = end; pc = resume } else { failed = true }
                    case .lookAhead(let negative), .lookBehind(let negative, _, _):
                        if (outcome != nil) != negative { pc = resume } else { failed = true }
                        if negative { slots = savedSlots; registers = savedRegisters }
                    }
                    if !failed {
                        // Keep what the sub-match captured, undoably.
                        for index in slots.indices where slots[index] != savedSlots[index] { stack.append(.restoreSlot(index, savedSlots[index])) }
                        for index in registers.indices where registers[index] != savedRegisters[index] { stack.append(.restoreRegister(index, savedRegisters[index])) }
                    }
                case .succeed, .match:
                    return position
                }
                guard failed else { continue }
                var resumed = false
                while let entry = stack.popLast() {
                    switch entry {
                    case .branch(let target, let at):
                        pc = target
                        position = at
                        resumed = true
                    case .restoreSlot(let slot, let value): slots[slot] = value
                    case .restoreRegister(let register, let value): registers[register] = value
                    }
                    if resumed { break }
                }
                if !resumed { return nil }
            }
        }

        private static func setContains(_ set: RegexScalarSet, _ scalar: Unicode.Scalar, caseless: Bool) -> Bool {
            if set.contains(scalar) { return true }
            guard caseless else { return false }
            for variant in RegexCompiler.caseVariants(scalar) where variant != scalar && set.contains(variant) { return true }
            return false
        }

        private func isWord(_ position: Int) -> Bool {
            position >= 0 && position < text.count && RegexProperty.word.matches(text[position])
        }

        private func holds(_ assertion: RegexAssertion, at position: Int) -> Bool {
            switch assertion {
            case .textStart: return position == 0
            case .textEnd: return position == text.count
            case .textEndOrFinalNewline: return position == text.count || (position == text.count - 1 && text[position] == "\n")
            case .lineStart: return position == 0 || (position < text.count && text[position - 1] == "\n")  // not after a final newline
            case .lineEnd: return position == text.count || text[position] == "\n"
            case .wordBoundary: return isWord(position - 1) != isWord(position)
            case .notWordBoundary: return isWord(position - 1) == isWord(position)
            case .searchStart: return position == searchStart
            }
        }

        /// The end of the text that repeats one of `groups` (a name may stand for several; the last is tried first).
        private func matchBackreference(_ groups: [Int], caseless: Bool, at position: Int) -> Int? {
            nextGroup: for group in groups where group <= program.groupCount {
                let low = slots[2 * group], high = slots[2 * group + 1]
                guard low >= 0, high >= low else { continue }
                let length = high - low
                guard position + length <= text.count else { continue }
                for offset in 0..<length {
                    let a = text[low + offset], b = text[position + offset]
                    if a != b && !(caseless && RegexCompiler.fold(a) == RegexCompiler.fold(b)) { continue nextGroup }
                }
                return position + length
            }
            return nil
        }
    }
}

/// Thrown when a match attempt exceeds ``RegexProgram/stepLimit(textLength:)``.
struct RegexStepLimitExceeded: Error {}

/// Turns a ``RegexNode`` tree into machine instructions.
private struct RegexCompiler {
    var instructions: [RegexProgram.Instruction] = []
    var sets: [RegexScalarSet] = []
    var registerCount = 0

    /// The most instructions a pattern may compile to (counted repetitions are unrolled).
    static let instructionLimit = 1_000_000

    mutating func emit(_ instruction: RegexProgram.Instruction) {
        instructions.append(instruction)
    }

    /// The simple case folding the caseless comparisons use.
    static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            return scalar.value >= 65 && scalar.value <= 90 ? Unicode.Scalar(scalar.value + 32)! : scalar
        }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        return lower.count == 1 ? lower.first! : scalar
    }

    /// The scalar and its single-scalar lower, upper and title case forms.
    static func caseVariants(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        var variants = [scalar]
        for mapping in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping, scalar.properties.titlecaseMapping] {
            let scalars = mapping.unicodeScalars
            if scalars.count == 1, let only = scalars.first, !variants.contains(only) { variants.append(only) }
        }
        return variants
    }

    mutating func compile(_ node: RegexNode) throws(RegexSyntaxError) {
        guard instructions.count < Self.instructionLimit else { throw RegexSyntaxError(message: "regular expression is too large") }
        switch node {
        case .empty: break
        case .scalar(let scalar, let caseless):
            emit(caseless ? .scalarCaseless(Self.fold(scalar)) : .scalar(scalar))
        case .any(let dotAll): emit(dotAll ? .any : .anyButNewline)
        case .set(let set, let caseless):
            sets.append(set)
            emit(.set(sets.count - 1, caseless: caseless))
        case .assertion(let assertion): emit(.assertion(assertion))
        case .keep: emit(.keep)
        case .backreference(let groups, let caseless): emit(.backreference(groups, caseless: caseless))
        case .group(let capture, let body):
            if let capture { emit(.save(2 * capture)) }
            try compile(body)
            if let capture { emit(.save(2 * capture + 1)) }
        case .sequence(let items):
            for item in items { try compile(item) }
        case .alternation(let branches):
            var jumpsToEnd: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index < branches.count - 1 {
                    let split = instructions.count
                    emit(.split(split + 1, -1))
                    try compile(branch)
                    jumpsToEnd.append(instructions.count)
                    emit(.jump(-1))
                    instructions[split] = .split(split + 1, instructions.count)
                } else {
                    try compile(branch)
                }
            }
            for jump in jumpsToEnd { instructions[jump] = .jump(instructions.count) }
        case .look(let body, let ahead, let negative):
            let kind: RegexProgram.SubMatchKind
            if ahead {
                kind = .lookAhead(negative: negative)
            } else {
                // The body is tried at every start that its length bounds allow (any, when unbounded).
                let (minimum, maximum) = Self.lengthBounds(body)
                kind = .lookBehind(negative: negative, minimumLength: minimum, maximumLength: maximum ?? Int.max)
            }
            try compileSubMatch(body, kind: kind)
        case .atomic(let body):
            try compileSubMatch(body, kind: .atomic)
        case .quantified(let body, let minimum, let maximum, let kind):
            if kind == .possessive {
                try compileSubMatch(.quantified(body, minimum: minimum, maximum: maximum, kind: .greedy), kind: .atomic)
                return
            }
            for _ in 0..<minimum { try compile(body) }
            let greedy = kind == .greedy
            if let maximum {
                // Each optional copy may be skipped to the end.
                var splits: [Int] = []
                for _ in minimum..<max(minimum, maximum) {
                    splits.append(instructions.count)
                    emit(.split(-1, -1))
                    try compile(body)
                }
                for split in splits { instructions[split] = greedy ? .split(split + 1, instructions.count) : .split(instructions.count, split + 1) }
            } else {
                let register = registerCount
                registerCount += 1
                let loop = instructions.count
                emit(.split(-1, -1))
                emit(.mark(register))
                try compile(body)
                emit(.loopIfProgress(register: register, loop: loop, exit: instructions.count + 1))
                instructions[loop] = greedy ? .split(loop + 1, instructions.count) : .split(instructions.count, loop + 1)
            }
        }
    }

    private mutating func compileSubMatch(_ body: RegexNode, kind: RegexProgram.SubMatchKind) throws(RegexSyntaxError) {
        let at = instructions.count
        emit(.subMatch(start: at + 1, kind: kind, resume: -1))
        try compile(body)
        emit(.succeed)
        instructions[at] = .subMatch(start: at + 1, kind: kind, resume: instructions.count)
    }

    /// The fewest and most scalars `node` can match (`nil`: unbounded).
    static func lengthBounds(_ node: RegexNode) -> (Int, Int?) {
        switch node {
        case .empty, .assertion, .keep, .look: return (0, 0)
        case .scalar, .any, .set: return (1, 1)
        case .backreference: return (0, nil)
        case .group(_, let body), .atomic(let body): return lengthBounds(body)
        case .sequence(let items):
            var low = 0
            var high: Int? = 0
            for item in items {
                let (itemLow, itemHigh) = lengthBounds(item)
                low += itemLow
                if let current = high, let itemHigh { high = current + itemHigh } else { high = nil }
            }
            return (low, high)
        case .alternation(let branches):
            let bounds = branches.map(lengthBounds)
            let low = bounds.map(\.0).min() ?? 0
            let high: Int? = bounds.contains { $0.1 == nil } ? nil : bounds.compactMap(\.1).max() ?? 0
            return (low, high)
        case .quantified(let body, let minimum, let maximum, _):
            let (bodyLow, bodyHigh) = lengthBounds(body)
            guard let maximum, let bodyHigh else { return (bodyLow * minimum, bodyHigh == 0 ? 0 : nil) }
            return (bodyLow * minimum, bodyHigh * maximum)
        }
    }
}
