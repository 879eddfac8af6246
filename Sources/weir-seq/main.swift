import WeirCore
import WeirExpression

let spec = StageSpec(
    name: "seq",
    summary: "generate numbered records, like seq(1)",
    operands: "[FIRST] [LAST]",
    description: """
        Writes the records {"n":FIRST}, {"n":FIRST+STEP}, … up to LAST, like seq(1): one \
        operand is LAST (FIRST is 1), two are FIRST LAST, and three are FIRST STEP LAST as in \
        GNU seq. The step (--step, default 1) may be negative, to count down; FIRST past LAST \
        gives nothing.

        Numbers are exact whatever their size or number of decimals: the arithmetic is done on \
        the decimal text, so 0.1 0.3 --step 0.1 gives 0.1, 0.2 and 0.3, and 20-digit integers \
        count on without overflow. Each value has as many decimals as the more precise of \
        FIRST and STEP, as GNU seq prints them (1 2 --step 0.5 gives 1.0, 1.5, 2.0); an \
        exponent is written out (1e3 is 1000). Negative operands need no --: weir-seq -3 -1.

        With --forever there is no LAST (an operand is FIRST): the stage writes until its \
        consumer goes away, so weir-seq --forever | weir-head -n 3 ends at once, quietly. \
        With --template EXPR each record is instead every output of the jq expression EXPR on \
        the generated object (so .n is the number), evaluated on the workers: a value on which \
        EXPR fails is a bad record (see --errors), at line N for the Nth value.
        """,
    options: [
        .value("step", "S", default: "1", help: "The difference between values; negative to count down; not 0."),
        .value("as", "FIELD", default: "n", help: "The name of the generated field."),
        .flag("forever", help: "Never stop (no LAST): write until the consumer goes away."),
        .value("template", "EXPR", help: "Write the outputs of the jq expression EXPR on each generated object instead of the object."),
    ] + ExpressionOptions.variableOptions,
    examples: [
        StageExample(
            "Count to three",
            command: "weir-seq 3",
            input: "",
            output: "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"),
        StageExample(
            "Count down by an exact decimal step",
            command: "weir-seq 1 0 --step -0.25 --as x",
            input: "",
            output: "{\"x\":1.00}\n{\"x\":0.75}\n{\"x\":0.50}\n{\"x\":0.25}\n{\"x\":0.00}\n"),
        StageExample(
            "Make test records from a template",
            command: "weir-seq 2 --template '{id: .n, url: \"http://x/\\(.n)\"}'",
            input: "",
            output: "{\"id\":1,\"url\":\"http://x/1\"}\n{\"id\":2,\"url\":\"http://x/2\"}\n"),
    ],
    input: .none,
    commonOptions: CommonOptions.all.filter { $0.long != CommonOptions.maxLineBytes.long },
    negativeNumbersAreOperands: true
)

var invocation = StageInvocation(spec)
let forever = invocation.options.flag("forever")
var numbers: [String] = []
while !invocation.operands.isEmpty { numbers.append(invocation.takeOperand("FIRST or LAST")) }
let stepText = invocation.options.value("step")

/// `text` as a number; a usage error otherwise.
func number(_ text: String, _ name: String, _ invocation: StageInvocation) -> DecimalText {
    guard let number = DecimalText(parsing: text) else {
        let hint = ["inf", "infinity", "+inf", "+infinity"].contains(text.lowercased()) ? " (for no end, use --forever)" : ""
        invocation.usageError("invalid \(name) '\(text)': not a decimal number such as 5, -2.5 or 1e3\(hint)")
    }
    return number
}

var first = DecimalText(isNegative: false, digits: Array("1".utf8), scale: 0)
var step = number(stepText ?? "1", "--step", invocation)
var last: DecimalText? = nil
if forever {
    guard numbers.count <= 1 else { invocation.usageError("--forever takes at most one operand, FIRST (there is no LAST)") }
    if let text = numbers.first { first = number(text, "FIRST", invocation) }
} else {
    switch numbers.count {
    case 0: invocation.usageError("missing LAST (or --forever)")
    case 1: last = number(numbers[0], "LAST", invocation)
    case 2:
        first = number(numbers[0], "FIRST", invocation)
        last = number(numbers[1], "LAST", invocation)
    case 3:
        if stepText != nil { invocation.usageError("the step is given twice: as --step and as the middle operand") }
        first = number(numbers[0], "FIRST", invocation)
        step = number(numbers[1], "STEP", invocation)
        last = number(numbers[2], "LAST", invocation)
    default: invocation.usageError("too many operands: FIRST [STEP] LAST at most")
    }
}
if step.isZero { invocation.usageError("the step must not be 0") }
let template = ExpressionOptions.compileOption("template", invocation)

var prefix: [UInt8] = [UInt8(ascii: "{")]
JSONWriter.writeString(invocation.options.value("as") ?? "n", into: &prefix)
prefix.append(UInt8(ascii: ":"))

/// Writes the numbered records straight into each chunk's bytes (one copy per value).
struct NumberedRecords: RecordGenerator {
    var counter: DecimalCounter
    let prefix: [UInt8]
    var name: String { "<seq>" }

    mutating func generate(into bytes: inout [UInt8], limit: Int) -> Int {
        counter.append(limit, prefix: prefix, suffix: [UInt8(ascii: "}")], into: &bytes)
    }
}

/// Writes every output of the template on a generated record, as weir-map does.
struct Template: RecordTransform {
    let program: Program

    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let value = try RecordDecoding.parse(record, keeping: program.inputPaths)
        var written = 0
        do {
            try program.evaluate(value, context: EvaluationContext(lineNumber: position.line)) { result in
                JSONWriter.write(result, into: &output)
                output.append(0x0A)
                written += 1
            }
        } catch {
            throw recordError(error)
        }
        return written
    }
}

let source = GeneratedSource(NumberedRecords(counter: DecimalCounter(first: first, step: step, last: last), prefix: prefix))
if let template {
    await invocation.run(source: source) { Template(program: template) }
} else {
    await invocation.runChunks(source: source) { PassThroughLines() }
}
