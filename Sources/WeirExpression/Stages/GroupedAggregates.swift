import WeirCore

/// One aggregate of `weir-stats`: what it computes, over which expression, under which name.
///
/// Written `KIND[:EXPR][ as NAME]`: `count`, `sum:.price`, `p90:.latency as slow`,
/// `quantile(0.95):.ms`. Its output name is readable by default (`sum_price`, `p90_latency`:
/// the kind, then the expression's words joined by `_`) and `as NAME` renames it.
package struct AggregateSpec: Sendable {
    /// What an aggregate computes.
    package enum Kind: Sendable, Equatable {
        case count, sum, mean, min, max, stddev, variance, first, last, distinct, approxDistinct, collect, mode
        /// A quantile, exact or (with `--approx`) from a ``RelativeErrorSketch``; `label` is `p90` or `quantile(0.95)`.
        case quantile(QuantileFraction, label: String)

        /// True when null values are skipped (a missing field adds nothing): all but first, last,
        /// collect, distinct and mode, which take every value.
        var skipsNull: Bool {
            switch self {
            case .sum, .mean, .stddev, .variance, .quantile, .min, .max: true
            default: false
            }
        }

        /// True when the aggregate needs numbers (null values are skipped, other non-numbers are errors).
        var needsNumbers: Bool {
            switch self {
            case .sum, .mean, .stddev, .variance, .quantile: true
            default: false
            }
        }
    }

    /// What it computes.
    package let kind: Kind
    /// The expression's text (nil for `count`).
    let expressionSource: String?
    /// The compiled expression (nil for `count`).
    package let program: Program?
    /// The output field's name.
    package let name: String
    /// `KIND:EXPR` without the name: what a partial state must have been made with.
    package let signature: String

    /// The kinds spelled as words (the quantiles are `pNN` and `quantile(Q)`).
    static let kindNames: [(String, Kind)] = [
        ("count", .count), ("sum", .sum), ("mean", .mean), ("min", .min), ("max", .max),
        ("stddev", .stddev), ("var", .variance), ("first", .first), ("last", .last),
        ("distinct", .distinct), ("approx-distinct", .approxDistinct), ("collect", .collect), ("mode", .mode),
    ]

    /// True when `text` reads as an aggregate, so an operand list can tell aggregates from the
    /// input files after them: a known kind (then ` as ` or the end), or any lower-case word
    /// followed by `:` (`frob:.x` is an unknown aggregate, not a file: write `./frob:.x` for that).
    package static func looksLikeAggregate(_ text: String) -> Bool {
        let head = text.prefix { $0 != ":" && $0 != " " }
        if kind(String(head)) != nil { return true }
        guard text.dropFirst(head.count).first == ":", let first = head.first, first.isLowercase else { return false }
        return head.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || "-().".contains($0) }
    }

    private static func kind(_ word: String) -> (Kind, String)? {
        if let entry = kindNames.first(where: { $0.0 == word }) { return (entry.1, word == "approx-distinct" ? "approx_distinct" : word) }
        if word.hasPrefix("p"), word.count > 1, word.dropFirst().allSatisfy({ $0.isNumber || $0 == "." }),
           let percent = DecimalText(parsing: String(word.dropFirst())),
           let fraction = QuantileFraction(decimalText: DecimalText(isNegative: false, digits: percent.digits, scale: percent.scale + 2).text) {
            return (.quantile(fraction, label: word), word)
        }
        if word.hasPrefix("quantile("), word.hasSuffix(")") {
            let inner = String(word.dropFirst("quantile(".count).dropLast())
            guard let fraction = QuantileFraction(decimalText: inner), let decimal = DecimalText(parsing: inner) else { return nil }
            return (.quantile(fraction, label: word), "p" + percentText(decimal))
        }
        return nil
    }

    /// A fraction as a percent without trailing zeros (`0.95` is `95`, `0.999` is `99.9`).
    private static func percentText(_ fraction: DecimalText) -> String {
        var digits = fraction.digits
        var scale = fraction.scale - 2
        if scale < 0 {
            digits += repeatElement(UInt8(ascii: "0"), count: -scale)
            scale = 0
        }
        while scale > 0, digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            scale -= 1
        }
        return DecimalText(isNegative: false, digits: digits, scale: scale).text
    }

    /// Splits `BODY as NAME` (NAME: letters, digits, `_`, `-`, `.`); jq's own `as` always binds
    /// a `$variable`, so a trailing ` as NAME` is never part of an expression.
    static func splitName(_ text: String) -> (body: String, name: String?) {
        let characters = Array(text)
        let marker = Array(" as ")
        guard characters.count > marker.count else { return (text, nil) }
        var start = characters.count - marker.count
        while start >= 0 {
            if Array(characters[start..<(start + marker.count)]) == marker {
                let name = characters[(start + marker.count)...]
                if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
                    return (String(characters[..<start]), String(name))
                }
                return (text, nil)
            }
            start -= 1
        }
        return (text, nil)
    }

    /// Parses `KIND[:EXPR][ as NAME]` and compiles EXPR; a problem is a ``UsageError``.
    package static func parse(_ text: String) throws(UsageError) -> AggregateSpec {
        let (bodyText, explicitName) = splitName(text)
        let body = Substring(bodyText)
        let colon = body.firstIndex(of: ":")
        let word = String(colon.map { body[..<$0] } ?? body).trimmingSpaces
        guard let found = kind(word) else {
            throw UsageError("unknown aggregate '\(word)' in '\(text)' (count, sum, mean, min, max, stddev, var, first, last, distinct, approx-distinct, pNN, quantile(Q), collect, mode)")
        }
        let (aggregateKind, prefix) = found
        let source = colon.map { String(body[body.index(after: $0)...]).trimmingSpaces }
        var program: Program? = nil
        if aggregateKind == .count {
            guard source == nil else { throw UsageError("'count' takes no expression (in '\(text)')") }
        } else {
            guard let source, !source.isEmpty else { throw UsageError("'\(word)' needs an expression: \(word):EXPR (in '\(text)')") }
            do throws(ExpressionSyntaxError) {
                program = try Program.compile(source)
            } catch {
                throw UsageError("\(word):\(source): " + ExpressionOptions.syntaxMessage(error, source: source))
            }
        }
        let words = source.map(nameWords) ?? ""
        let name = explicitName ?? (words.isEmpty ? prefix : prefix + "_" + words)
        return AggregateSpec(kind: aggregateKind, expressionSource: source, program: program, name: name,
                             signature: source.map { "\(word):\($0)" } ?? word)
    }

    /// The words of an expression joined by `_` (`.store.city` is `store_city`).
    static func nameWords(_ source: String) -> String {
        var words: [String] = []
        var current = ""
        for character in source {
            if character.isLetter || character.isNumber || character == "_" {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words.joined(separator: "_")
    }
}

/// One `--by` key of `weir-stats`: its expression and the output field's name (`.shop` is
/// `shop`, `.store.city` is `city`: the last path component; `.shop as store` renames it).
package struct GroupKeySpec: Sendable {
    /// The expression's text.
    package let source: String
    /// The compiled expression.
    package let program: Program
    /// The output field's name.
    package let name: String

    /// Parses `EXPR[ as NAME]`; a problem is a ``UsageError``.
    package static func parse(_ text: String) throws(UsageError) -> GroupKeySpec {
        let (body, explicitName) = AggregateSpec.splitName(text)
        let source = body.trimmingSpaces
        let program: Program
        do throws(ExpressionSyntaxError) {
            program = try Program.compile(source)
        } catch {
            throw UsageError("--by \(source): " + ExpressionOptions.syntaxMessage(error, source: source))
        }
        let words = AggregateSpec.nameWords(source)
        var name = words.split(separator: "_").last.map(String.init) ?? "key"
        if source.hasPrefix("."), source.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) {
            name = source.split(separator: ".").last.map(String.init) ?? "key"
        } else if !words.isEmpty {
            name = words
        }
        return GroupKeySpec(source: source, program: program, name: explicitName ?? name)
    }
}

/// Where a record (or a partial state) came from, in input order: which input, which line,
/// which column. Groups are written in the order of their first record, and `first`,
/// `last` and `collect` follow it, whichever worker saw the record.
package struct InputOrder: Comparable, Sendable {
    package var input: Int
    package var line: Int
    package var column: Int

    package init(input: Int, line: Int, column: Int) {
        self.input = input
        self.line = line
        self.column = column
    }

    package init(_ position: RecordPosition) {
        self.init(input: position.inputIndex, line: position.line, column: position.firstColumn)
    }

    package static func < (lhs: InputOrder, rhs: InputOrder) -> Bool {
        (lhs.input, lhs.line, lhs.column) < (rhs.input, rhs.line, rhs.column)
    }

    /// Later than any real position.
    package static let end = InputOrder(input: .max, line: .max, column: .max)
}

/// Everything `weir-stats` was asked for, shared by every worker.
package final class StatsConfiguration: Sendable {
    /// The `--by` keys.
    package let keys: [GroupKeySpec]
    /// The aggregates, in output order.
    package let aggregates: [AggregateSpec]
    /// `--skip-non-numbers`: a non-number where a number is needed is ignored, not an error.
    package let skipsNonNumbers: Bool
    /// `--approx`: quantiles from a ``RelativeErrorSketch`` instead of every value.
    package let approximateQuantiles: Bool
    /// `--max-collect`: the most values `collect` keeps per group.
    package let maxCollect: Int
    /// What a partial state records about the options it was made with (and `--merge` checks).
    package let signature: JSONValue
    /// The paths of a record that the expressions read (the rest is validated, not built).
    package let inputPaths: JSONPathTree
    /// The distinct expressions (by text): evaluated once per record however many aggregates use them.
    let expressions: [Program]
    /// For each aggregate, its index in ``expressions`` (nil for `count`).
    let expressionIndex: [Int?]

    /// How each aggregate takes the values of its expression.
    enum SlotMode { case count, numbers, skippingNull, every }
    /// For each aggregate, how it takes its values.
    let slotModes: [SlotMode]
    /// The expressions whose values must be numbers (or null), with the aggregate to name in the error.
    let numberChecks: [(expression: Int, aggregate: Int)]

    package init(keys: [GroupKeySpec], aggregates: [AggregateSpec], skipsNonNumbers: Bool, approximateQuantiles: Bool, maxCollect: Int) throws(UsageError) {
        self.keys = keys
        self.aggregates = aggregates
        self.skipsNonNumbers = skipsNonNumbers
        self.approximateQuantiles = approximateQuantiles
        self.maxCollect = maxCollect
        var seen: Set<String> = []
        for name in keys.map(\.name) + aggregates.map(\.name) {
            guard seen.insert(name).inserted else {
                throw UsageError("two output fields are named '\(name)': rename one with 'as NAME' (e.g. 'sum:.price as revenue')")
            }
        }
        var sources: [String] = []
        var programs: [Program] = []
        var index: [Int?] = []
        var paths = JSONPathTree.none
        for key in keys { paths.formUnion(key.program.inputPaths) }
        for aggregate in aggregates {
            guard let source = aggregate.expressionSource, let program = aggregate.program else {
                index.append(nil)
                continue
            }
            if let found = sources.firstIndex(of: source) {
                index.append(found)
            } else {
                index.append(sources.count)
                sources.append(source)
                programs.append(program)
                paths.formUnion(program.inputPaths)
            }
        }
        expressions = programs
        expressionIndex = index
        inputPaths = paths
        slotModes = zip(aggregates, index).map { aggregate, expression in
            guard expression != nil else { return .count }
            return aggregate.kind.needsNumbers ? .numbers : aggregate.kind.skipsNull ? .skippingNull : .every
        }
        var checks: [(expression: Int, aggregate: Int)] = []
        for (slot, aggregate) in aggregates.enumerated() where aggregate.kind.needsNumbers {
            if let expression = index[slot], !checks.contains(where: { $0.expression == expression }) { checks.append((expression, slot)) }
        }
        numberChecks = checks
        signature = .object(JSONObject([
            ("by", .array(keys.map { .string($0.source) })),
            ("aggs", .array(aggregates.map { .string($0.signature) })),
            ("approx", .bool(approximateQuantiles)),
        ]))
    }

    /// A fresh accumulator for aggregate `index`.
    func makeAccumulator(_ index: Int) -> any Accumulator {
        switch aggregates[index].kind {
        case .count: return CountAccumulator()
        case .sum: return SumAccumulator()
        case .mean: return MomentsAccumulator(output: .mean)
        case .variance: return MomentsAccumulator(output: .variance)
        case .stddev: return MomentsAccumulator(output: .standardDeviation)
        case .min: return ExtremeAccumulator(keepsLargest: false)
        case .max: return ExtremeAccumulator(keepsLargest: true)
        case .first: return EndAccumulator(keepsLast: false)
        case .last: return EndAccumulator(keepsLast: true)
        case .distinct: return DistinctAccumulator()
        case .approxDistinct: return ApproximateDistinctAccumulator()
        case .collect: return CollectAccumulator(limit: maxCollect)
        case .mode: return ModeAccumulator()
        case .quantile(let fraction, _):
            if approximateQuantiles { return SketchQuantileAccumulator(fraction: fraction) }
            return ExactQuantileAccumulator(fraction: fraction)
        }
    }
}

/// The running state of one aggregate for one group. A class: states are updated in place
/// by the million, and an enum payload would copy its arrays on every update.
protocol Accumulator: AnyObject {
    /// Adds one value (for aggregates that need numbers, a number: the caller checked).
    func add(_ value: JSONValue, at order: InputOrder)
    /// Takes in another accumulator of the same aggregate (another worker's, end of input).
    func merge(_ other: any Accumulator)
    /// The aggregate's answer.
    func result() -> JSONValue
    /// The state, for `--partial`.
    func state() -> JSONValue
    /// Takes in a state read from a partial (at `order`, the partial line's position); false when it is malformed.
    func load(_ state: JSONValue, at order: InputOrder) -> Bool
    /// Approximate heap bytes held (for `--stats`).
    var heapBytes: Int { get }
}

private final class CountAccumulator: Accumulator {
    var count = 0
    func add(_ value: JSONValue, at order: InputOrder) { count += 1 }
    func merge(_ other: any Accumulator) { count += (other as! CountAccumulator).count }
    func result() -> JSONValue { .number(count) }
    func state() -> JSONValue { .number(count) }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .number(let number) = state, let value = number.intValue, value >= 0 else { return false }
        count += value
        return true
    }
    var heapBytes: Int { 0 }
}

private final class SumAccumulator: Accumulator {
    var sum = ExactSum()
    func add(_ value: JSONValue, at order: InputOrder) {
        if case .number(let number) = value { sum.add(DecimalTerm(number)) }
    }
    func merge(_ other: any Accumulator) { sum.merge((other as! SumAccumulator).sum) }
    func result() -> JSONValue { .number(sum.jsonNumber) }
    func state() -> JSONValue { .string(sum.stateText) }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .string(let text) = state, let loaded = ExactSum(stateText: text) else { return false }
        sum.merge(loaded)
        return true
    }
    var heapBytes: Int { sum.heapBytes }
}

private final class MomentsAccumulator: Accumulator {
    enum Output { case mean, variance, standardDeviation }
    let output: Output
    var moments: ExactMoments

    init(output: Output) {
        self.output = output
        moments = ExactMoments(keepsSquares: output != .mean)
    }

    func add(_ value: JSONValue, at order: InputOrder) {
        if case .number(let number) = value { moments.add(DecimalTerm(number)) }
    }
    func merge(_ other: any Accumulator) { moments.merge((other as! MomentsAccumulator).moments) }
    func result() -> JSONValue {
        let value: Double?
        switch output {
        case .mean: value = moments.mean
        case .variance: value = moments.sampleVariance
        case .standardDeviation: value = moments.sampleStandardDeviation
        }
        return value.map { .number(JSONNumber($0)) } ?? .null
    }
    func state() -> JSONValue {
        var parts: [JSONValue] = [.number(moments.count), .string(moments.sum.stateText)]
        if moments.keepsSquares { parts.append(.string(moments.squares.stateText)) }
        return .array(parts)
    }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .array(let parts) = state, parts.count == (moments.keepsSquares ? 3 : 2),
              case .number(let countNumber) = parts[0], let count = countNumber.intValue, count >= 0,
              case .string(let sumText) = parts[1], let sum = ExactSum(stateText: sumText) else { return false }
        var squares: ExactSum? = nil
        if moments.keepsSquares {
            guard case .string(let text) = parts[2], let loaded = ExactSum(stateText: text) else { return false }
            squares = loaded
        }
        moments.merge(ExactMoments(count: count, sum: sum, squares: squares))
        return true
    }
    var heapBytes: Int { moments.sum.heapBytes + moments.squares.heapBytes }
}

/// The smallest or largest value in jq's order; of equal values (`1` and `1.0`), the one
/// whose JSON text sorts first, so the answer never depends on the order values arrive in.
private final class ExtremeAccumulator: Accumulator {
    let keepsLargest: Bool
    var best: JSONValue? = nil

    init(keepsLargest: Bool) { self.keepsLargest = keepsLargest }

    func add(_ value: JSONValue, at order: InputOrder) {
        guard let current = best else {
            best = value
            return
        }
        let comparison = ValueOrder.compare(value, current)
        if comparison == 0 {
            if case .number(let a) = value, case .number(let b) = current, a.literal == b.literal { return }
            if JSONWriter.string(value).utf8.lexicographicallyPrecedes(JSONWriter.string(current).utf8) { best = value }
        } else if (comparison > 0) == keepsLargest {
            best = value
        }
    }
    func merge(_ other: any Accumulator) {
        if let value = (other as! ExtremeAccumulator).best { add(value, at: .end) }
    }
    func result() -> JSONValue { best ?? .null }
    func state() -> JSONValue { .array(best.map { [$0] } ?? []) }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .array(let items) = state, items.count <= 1 else { return false }
        if let value = items.first { add(value, at: order) }
        return true
    }
    var heapBytes: Int { 0 }
}

/// The first or last value in input order.
private final class EndAccumulator: Accumulator {
    let keepsLast: Bool
    var value: JSONValue? = nil
    var order = InputOrder.end

    init(keepsLast: Bool) { self.keepsLast = keepsLast }

    func add(_ value: JSONValue, at order: InputOrder) {
        if self.value == nil || (keepsLast ? order >= self.order : order < self.order) {
            self.value = value
            self.order = order
        }
    }
    func merge(_ other: any Accumulator) {
        let other = other as! EndAccumulator
        if let value = other.value { add(value, at: other.order) }
    }
    func result() -> JSONValue { value ?? .null }
    func state() -> JSONValue { .array(value.map { [$0] } ?? []) }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .array(let items) = state, items.count <= 1 else { return false }
        if let value = items.first { add(value, at: order) }
        return true
    }
    var heapBytes: Int { 0 }
}

/// The exact number of distinct values (compared as jq's `==` does, by ``GroupingKey`` text).
private final class DistinctAccumulator: Accumulator {
    var keys: Set<[UInt8]> = []
    var bytes = 0
    var scratch: [UInt8] = []

    func add(_ value: JSONValue, at order: InputOrder) {
        scratch.removeAll(keepingCapacity: true)
        GroupingKey.write(value, into: &scratch)
        insert(scratch)
    }
    private func insert(_ key: [UInt8]) {
        if !keys.contains(key) {
            keys.insert(key)
            bytes += key.count + 32
        }
    }
    func merge(_ other: any Accumulator) {
        for key in (other as! DistinctAccumulator).keys { insert(key) }
    }
    func result() -> JSONValue { .number(keys.count) }
    func state() -> JSONValue {
        .array(keys.sorted { $0.lexicographicallyPrecedes($1) }.map { key -> JSONValue in (try? JSONParser.parse(key)) ?? .null })
    }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .array(let items) = state else { return false }
        for item in items { add(item, at: order) }
        return true
    }
    var heapBytes: Int { bytes }
}

/// The HyperLogLog estimate of the number of distinct values.
private final class ApproximateDistinctAccumulator: Accumulator {
    var sketch = HyperLogLog()
    var scratch: [UInt8] = []

    func add(_ value: JSONValue, at order: InputOrder) {
        scratch.removeAll(keepingCapacity: true)
        GroupingKey.write(value, into: &scratch)
        sketch.add(hash: StableHash.hash(scratch))
    }
    func merge(_ other: any Accumulator) { sketch.merge((other as! ApproximateDistinctAccumulator).sketch) }
    func result() -> JSONValue { .number(sketch.estimate) }
    func state() -> JSONValue { .string(sketch.stateText) }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .string(let text) = state, let loaded = HyperLogLog(stateText: text) else { return false }
        sketch.merge(loaded)
        return true
    }
    var heapBytes: Int { sketch.heapBytes }
}

/// The first N values in input order.
private final class CollectAccumulator: Accumulator {
    let limit: Int
    var values: [JSONValue] = []
    var orders: [InputOrder] = []
    var bytes = 0

    init(limit: Int) { self.limit = limit }

    func add(_ value: JSONValue, at order: InputOrder) {
        // Within one worker values arrive in input order; merges interleave by order.
        guard limit > 0, values.count < limit || order < orders.last! else { return }
        if let last = orders.last, order < last {
            let index = orders.firstIndex { order < $0 } ?? orders.count
            values.insert(value, at: index)
            orders.insert(order, at: index)
        } else {
            values.append(value)
            orders.append(order)
        }
        if values.count > limit {
            values.removeLast()
            orders.removeLast()
        }
        bytes += 48
    }
    func merge(_ other: any Accumulator) {
        let other = other as! CollectAccumulator
        var mergedValues: [JSONValue] = []
        var mergedOrders: [InputOrder] = []
        var left = 0, right = 0
        while mergedValues.count < limit, left < values.count || right < other.values.count {
            if right >= other.values.count || (left < values.count && !(other.orders[right] < orders[left])) {
                mergedValues.append(values[left]); mergedOrders.append(orders[left]); left += 1
            } else {
                mergedValues.append(other.values[right]); mergedOrders.append(other.orders[right]); right += 1
            }
        }
        values = mergedValues
        orders = mergedOrders
        bytes = values.count * 48
    }
    func result() -> JSONValue { .array(values) }
    func state() -> JSONValue { .array(values) }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .array(let items) = state else { return false }
        let loaded = CollectAccumulator(limit: limit)
        for item in items { loaded.add(item, at: order) }
        merge(loaded)
        return true
    }
    var heapBytes: Int { bytes }
}

/// The most frequent value (by ``GroupingKey`` text, written as that canonical text); of
/// equally frequent values, the smallest in jq's order.
private final class ModeAccumulator: Accumulator {
    var counts: [[UInt8]: Int] = [:]
    var bytes = 0
    var scratch: [UInt8] = []

    func add(_ value: JSONValue, at order: InputOrder) {
        scratch.removeAll(keepingCapacity: true)
        GroupingKey.write(value, into: &scratch)
        add(scratch, 1)
    }
    private func add(_ key: [UInt8], _ count: Int) {
        if let existing = counts[key] {
            counts[key] = existing + count
        } else {
            counts[key] = count
            bytes += key.count + 40
        }
    }
    func merge(_ other: any Accumulator) {
        for (key, count) in (other as! ModeAccumulator).counts { add(key, count) }
    }
    func result() -> JSONValue {
        guard let top = counts.values.max() else { return .null }
        let candidates = counts.filter { $0.value == top }.keys.compactMap { try? JSONParser.parse($0) }
        return candidates.min { ValueOrder.compare($0, $1) < 0 } ?? .null
    }
    func state() -> JSONValue {
        .array(counts.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { key -> JSONValue in
            JSONValue.array([(try? JSONParser.parse(key)) ?? .null, .number(counts[key]!)])
        })
    }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .array(let items) = state else { return false }
        for item in items {
            guard case .array(let pair) = item, pair.count == 2, case .number(let number) = pair[1], let count = number.intValue, count > 0 else { return false }
            scratch.removeAll(keepingCapacity: true)
            GroupingKey.write(pair[0], into: &scratch)
            add(scratch, count)
        }
        return true
    }
    var heapBytes: Int { bytes }
}

/// An exact quantile: every number of the group is kept (memory grows with the group's values).
private final class ExactQuantileAccumulator: Accumulator {
    let fraction: QuantileFraction
    var numbers: [JSONNumber] = []
    var isSorted = true

    init(fraction: QuantileFraction) { self.fraction = fraction }

    func add(_ value: JSONValue, at order: InputOrder) {
        if case .number(let number) = value {
            numbers.append(number)
            isSorted = false
        }
    }
    func merge(_ other: any Accumulator) {
        numbers.append(contentsOf: (other as! ExactQuantileAccumulator).numbers)
        isSorted = false
    }
    /// Ascending by value; equal values by their text, so the order is the same however they arrived.
    ///
    /// Positions are sorted by double first (rounding is monotone, so different doubles are
    /// different values in the same order), and only runs of equal doubles, usually one repeated
    /// literal, by exact value and text: no string is touched for most comparisons.
    private func sort() {
        guard !isSorted else { return }
        var order = Array(numbers.indices)
        numbers.withUnsafeBufferPointer { items in
            order.sort { items[$0].double < items[$1].double }
            var start = 0
            while start < order.count {
                let double = items[order[start]].double
                var end = start + 1
                while end < order.count, items[order[end]].double == double { end += 1 }
                if end - start > 1 {
                    let first = items[order[start]].text
                    if order[(start + 1)..<end].contains(where: { items[$0].text != first }) {
                        order[start..<end].sort { a, b in
                            let exact = JSONNumber.compare(items[a], items[b])
                            return exact != 0 ? exact < 0 : items[a].text.utf8.lexicographicallyPrecedes(items[b].text.utf8)
                        }
                    }
                }
                start = end
            }
        }
        numbers = order.map { numbers[$0] }
        isSorted = true
    }
    func result() -> JSONValue {
        guard !numbers.isEmpty else { return .null }
        sort()
        switch ExactQuantile.quantile(fraction, count: numbers.count, value: { numbers[$0].double }) {
        case .element(let index): return .number(numbers[index])
        case .interpolated(let value): return .number(JSONNumber(value))
        }
    }
    func state() -> JSONValue {
        sort()
        return .array(numbers.map { JSONValue.number($0) })
    }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard case .array(let items) = state else { return false }
        for item in items {
            guard case .number(let number) = item else { return false }
            numbers.append(number)
        }
        isSorted = false
        return true
    }
    var heapBytes: Int { numbers.capacity * MemoryLayout<JSONNumber>.stride }
}

/// An approximate quantile from a ``RelativeErrorSketch`` (`--approx`).
private final class SketchQuantileAccumulator: Accumulator {
    let fraction: QuantileFraction
    var sketch = RelativeErrorSketch()

    init(fraction: QuantileFraction) { self.fraction = fraction }

    func add(_ value: JSONValue, at order: InputOrder) {
        if case .number(let number) = value, number.double.isFinite { sketch.add(number.double) }
    }
    func merge(_ other: any Accumulator) { sketch.merge((other as! SketchQuantileAccumulator).sketch) }
    func result() -> JSONValue { sketch.quantile(fraction).map { .number(JSONNumber($0)) } ?? .null }
    func state() -> JSONValue { sketch.state }
    func load(_ state: JSONValue, at order: InputOrder) -> Bool {
        guard let loaded = RelativeErrorSketch(state: state) else { return false }
        sketch.merge(loaded)
        return true
    }
    var heapBytes: Int { sketch.heapBytes }
}

/// One group: its key, where it was first seen, and one accumulator per aggregate.
final class StatsGroup {
    /// The ``GroupingKey`` text of each key value.
    let keyParts: [[UInt8]]
    var firstSeen: InputOrder
    let accumulators: [any Accumulator]

    init(keyParts: [[UInt8]], firstSeen: InputOrder, accumulators: [any Accumulator]) {
        self.keyParts = keyParts
        self.firstSeen = firstSeen
        self.accumulators = accumulators
    }
}

/// The groups of `weir-stats` and their aggregates: fed records (or partial states), merged
/// across workers, written at the end in first-seen order (or sorted by key).
///
/// Memory grows with the groups and the state each aggregate keeps (constant for most;
/// every value for exact quantiles, the distinct values for `distinct` and `mode`, up to
/// `--max-collect` values for `collect`), not with the records.
package struct GroupedAggregation {
    package let configuration: StatsConfiguration
    /// The group keys (``GroupingKey`` text); a key's ordinal is its group's position in `groups`.
    private var index = DistinctKeySet(mode: .exact)
    private var groups: [StatsGroup] = []
    private var keyScratch: [UInt8] = []
    private var keyValues: [JSONValue] = []
    private var values: [[JSONValue]]
    private var keyBytes = 0

    package init(configuration: StatsConfiguration) {
        self.configuration = configuration
        values = Array(repeating: [], count: configuration.expressions.count)
    }

    /// The number of groups.
    package var groupCount: Int { groups.count }

    /// Approximate bytes of state held: keys, accumulators and their contents.
    package var stateBytes: Int {
        index.memoryBytes + keyBytes + groups.reduce(0) { total, group in
            total + 64 + group.accumulators.reduce(0) { $0 + 48 + $1.heapBytes }
        }
    }

    private mutating func group(at order: InputOrder) -> StatsGroup {
        let (found, inserted) = keyScratch.withUnsafeBytes { index.insert($0) }
        if !inserted {
            let group = groups[found]
            if order < group.firstSeen { group.firstSeen = order }
            return group
        }
        var parts: [[UInt8]] = []
        for value in keyValues {
            var part: [UInt8] = []
            GroupingKey.write(value, into: &part)
            parts.append(part)
        }
        return appendGroup(StatsGroup(keyParts: parts, firstSeen: order, accumulators: (0..<configuration.aggregates.count).map(configuration.makeAccumulator)))
    }

    /// Adds the group whose key was just inserted into `index` (so its ordinal is `groups.count`).
    private mutating func appendGroup(_ group: StatsGroup) -> StatsGroup {
        groups.append(group)
        keyBytes += keyScratch.count + 64
        return group
    }

    /// Adds one record: evaluates the keys and every expression, checks that aggregates that
    /// need numbers got numbers (or drops the non-numbers with `--skip-non-numbers`), and
    /// only then updates the group, so a bad record changes nothing.
    package mutating func add(_ record: JSONValue, at position: RecordPosition) throws(RecordError) {
        let configuration = self.configuration
        let context = evaluationContext(position)
        keyValues.removeAll(keepingCapacity: true)
        for index in configuration.keys.indices {
            var outputs = 0
            do {
                if let single = try configuration.keys[index].program.singleValue(record, context: context) {
                    keyValues.append(single)
                    continue
                }
                try configuration.keys[index].program.evaluate(record, context: context) { result in
                    outputs += 1
                    if outputs == 1 { keyValues.append(result) }
                }
            } catch {
                throw recordError(error)
            }
            guard outputs == 1 else {
                let source = configuration.keys[index].source
                throw RecordError(outputs == 0 ? "--by \(source): yielded no value" : "--by \(source): yielded \(outputs) values, not one")
            }
        }
        for index in values.indices {
            values[index].removeAll(keepingCapacity: true)
            do {
                if let single = try configuration.expressions[index].singleValue(record, context: context) {
                    values[index].append(single)
                } else {
                    try configuration.expressions[index].evaluate(record, context: context) { values[index].append($0) }
                }
            } catch {
                throw recordError(error)
            }
        }
        if !configuration.skipsNonNumbers {
            for check in configuration.numberChecks {
                for value in values[check.expression] {
                    switch value {
                    case .number, .null: continue
                    default:
                        throw RecordError("\(configuration.aggregates[check.aggregate].signature): \(value.typeName) (\(Self.excerpt(value))) is not a number")
                    }
                }
            }
        }
        keyScratch.removeAll(keepingCapacity: true)
        Self.writeKey(keyValues, into: &keyScratch)
        let order = InputOrder(position)
        let group = group(at: order)
        for slot in configuration.slotModes.indices {
            let accumulator = group.accumulators[slot]
            switch configuration.slotModes[slot] {
            case .count:
                accumulator.add(.null, at: order)
            case .numbers:
                for value in values[configuration.expressionIndex[slot]!] {
                    if case .number = value { accumulator.add(value, at: order) }
                }
            case .skippingNull:
                for value in values[configuration.expressionIndex[slot]!] {
                    if case .null = value { continue }
                    accumulator.add(value, at: order)
                }
            case .every:
                for value in values[configuration.expressionIndex[slot]!] { accumulator.add(value, at: order) }
            }
        }
    }

    /// The group key text of a list of key values: one value's ``GroupingKey`` text, or the
    /// array of several.
    private static func writeKey(_ values: [JSONValue], into output: inout [UInt8]) {
        if values.count == 1 {
            GroupingKey.write(values[0], into: &output)
        } else {
            GroupingKey.write(.array(values), into: &output)
        }
    }

    private static func excerpt(_ value: JSONValue) -> String {
        let text = JSONWriter.string(value)
        return text.count <= 40 ? text : String(text.prefix(37)) + "..."
    }

    /// Why a partial state was refused: a malformed line, or one made with other options.
    package enum PartialProblem: Error {
        case malformed(String)
        case otherOptions
    }

    /// Adds one partial state line (`--merge`), as if its group's records were read at `position`.
    package mutating func addPartial(_ record: JSONValue, at position: RecordPosition) throws(PartialProblem) {
        guard case .object(let object) = record, case .number(let version)? = object["weir_stats_partial"] else {
            throw .malformed("not a weir-stats partial state (no \"weir_stats_partial\" member)")
        }
        guard version.intValue == 1 else { throw .malformed("partial state version \(version.text), this weir-stats reads version 1") }
        guard let signature = object["spec"], signature == configuration.signature else { throw .otherOptions }
        guard case .array(let keys)? = object["key"], keys.count == configuration.keys.count,
              case .array(let states)? = object["aggs"], states.count == configuration.aggregates.count else {
            throw .malformed("a partial state needs \"key\" (\(configuration.keys.count) values) and \"aggs\" (\(configuration.aggregates.count) states)")
        }
        keyValues = keys
        keyScratch.removeAll(keepingCapacity: true)
        Self.writeKey(keys, into: &keyScratch)
        let order = InputOrder(position)
        let group = group(at: order)
        for (slot, state) in states.enumerated() where !group.accumulators[slot].load(state, at: order) {
            throw .malformed("malformed state for \(configuration.aggregates[slot].signature)")
        }
    }

    /// Takes in another worker's groups.
    package mutating func merge(_ other: consuming GroupedAggregation) {
        for group in other.groups {
            keyScratch.removeAll(keepingCapacity: true)
            if group.keyParts.count == 1 {
                keyScratch = group.keyParts[0]
            } else {
                keyScratch.append(UInt8(ascii: "["))
                for (offset, part) in group.keyParts.enumerated() {
                    if offset > 0 { keyScratch.append(UInt8(ascii: ",")) }
                    keyScratch.append(contentsOf: part)
                }
                keyScratch.append(UInt8(ascii: "]"))
            }
            let (found, inserted) = keyScratch.withUnsafeBytes { index.insert($0) }
            if !inserted {
                let mine = groups[found]
                mine.firstSeen = min(mine.firstSeen, group.firstSeen)
                for (accumulator, theirs) in zip(mine.accumulators, group.accumulators) { accumulator.merge(theirs) }
            } else {
                _ = appendGroup(group)
            }
        }
    }

    /// Adds the empty group of a run without `--by` that saw no record (one line: `count` 0).
    package mutating func ensureSingleGroup() {
        guard configuration.keys.isEmpty, groups.isEmpty else { return }
        keyValues.removeAll()
        keyScratch.removeAll()
        _ = group(at: .end)
    }

    /// The groups in output order: first seen, or sorted by key in jq's order.
    private func orderedGroups(sortedByKey: Bool) -> [StatsGroup] {
        guard sortedByKey else { return groups.sorted { $0.firstSeen < $1.firstSeen } }
        let keyed = groups.map { group in (group, group.keyParts.map { (try? JSONParser.parse($0)) ?? .null }) }
        return keyed.sorted { a, b in
            let order = ValueOrder.compare(.array(a.1), .array(b.1))
            return order != 0 ? order < 0 : a.0.firstSeen < b.0.firstSeen
        }.map(\.0)
    }

    /// Writes one result line per group; returns how many.
    package func writeResults(into output: inout [UInt8], sortedByKey: Bool) -> Int {
        let ordered = orderedGroups(sortedByKey: sortedByKey)
        for group in ordered {
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, part) in zip(configuration.keys, group.keyParts) {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                JSONWriter.writeString(key.name, into: &output)
                output.append(UInt8(ascii: ":"))
                output.append(contentsOf: part)
            }
            for (aggregate, accumulator) in zip(configuration.aggregates, group.accumulators) {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                JSONWriter.writeString(aggregate.name, into: &output)
                output.append(UInt8(ascii: ":"))
                JSONWriter.write(accumulator.result(), into: &output)
            }
            output.append(contentsOf: "}\n".utf8)
        }
        return ordered.count
    }

    /// Writes one partial state line per group (`--partial`); returns how many.
    package func writePartials(into output: inout [UInt8], sortedByKey: Bool) -> Int {
        let ordered = orderedGroups(sortedByKey: sortedByKey)
        var signature: [UInt8] = []
        JSONWriter.write(configuration.signature, into: &signature)
        for group in ordered {
            output.append(contentsOf: #"{"weir_stats_partial":1,"spec":"#.utf8)
            output.append(contentsOf: signature)
            output.append(contentsOf: #","key":["#.utf8)
            for (offset, part) in group.keyParts.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                output.append(contentsOf: part)
            }
            output.append(contentsOf: #"],"aggs":["#.utf8)
            for (offset, accumulator) in group.accumulators.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                JSONWriter.write(accumulator.state(), into: &output)
            }
            output.append(contentsOf: "]}\n".utf8)
        }
        return ordered.count
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
