/// An exact signed decimal of any size: an integer magnitude and a scale (`-2.50` is
/// magnitude 250, scale 2, negative). Addition and multiplication are exact; the only
/// rounding is in ``quotient(dividingBy:)`` and ``double``, which say so.
///
/// The magnitude is kept in base 10^9 limbs (least significant first), so the text is a
/// direct print and scaling by powers of ten is cheap. This is the slow, unbounded path of
/// ``ExactSum``, which accumulates in an `Int128` until that would overflow.
package struct ExactDecimal: Sendable, Equatable, CustomStringConvertible {
    /// True below zero (never for zero).
    package private(set) var isNegative: Bool
    /// The magnitude times 10^scale, base 10^9, least significant limb first, no zero limbs at the top.
    private var limbs: [UInt32]
    /// Fraction digits.
    package private(set) var scale: Int

    private static let base: UInt64 = 1_000_000_000

    /// Zero.
    package static let zero = ExactDecimal(isNegative: false, limbs: [], scale: 0)

    private init(isNegative: Bool, limbs: [UInt32], scale: Int) {
        var limbs = limbs
        while limbs.last == 0 { limbs.removeLast() }
        self.limbs = limbs
        self.scale = scale
        self.isNegative = isNegative && !limbs.isEmpty
    }

    /// `mantissa` × 10^-`scale`, exactly.
    package init(_ mantissa: Int128, scale: Int) {
        var magnitude = mantissa.magnitude
        var limbs: [UInt32] = []
        while magnitude > 0 {
            limbs.append(UInt32(magnitude % UInt128(Self.base)))
            magnitude /= UInt128(Self.base)
        }
        self.init(isNegative: mantissa < 0, limbs: limbs, scale: scale)
    }

    /// A decimal from its text (see ``DecimalText/init(parsing:)``: exponents up to
    /// ``DecimalText/maxExponent``); nil for anything else.
    package init?(parsing text: String) {
        guard let decimal = DecimalText(parsing: text) else { return nil }
        self.init(decimal)
    }

    /// The same number as a ``DecimalText``.
    package init(_ decimal: DecimalText) {
        var limbs: [UInt32] = []
        let digits = decimal.digits
        var end = digits.count
        while end > 0 {
            let start = max(0, end - 9)
            var limb: UInt32 = 0
            for index in start..<end { limb = limb * 10 + UInt32(digits[index] - UInt8(ascii: "0")) }
            limbs.append(limb)
            end = start
        }
        self.init(isNegative: decimal.isNegative, limbs: limbs, scale: decimal.scale)
    }

    /// True for zero.
    package var isZero: Bool { limbs.isEmpty }

    /// The plain decimal text, without exponent, trailing fraction zeros dropped (`3.30` is `3.3`,
    /// `5.00` is `5`): a valid JSON number with exactly this value.
    package var description: String {
        var digits: [UInt8] = []
        if limbs.isEmpty { digits = [UInt8(ascii: "0")] }
        for (index, limb) in limbs.enumerated().reversed() {
            let text = Array(String(limb).utf8)
            if index != limbs.count - 1 { digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 9 - text.count)) }
            digits.append(contentsOf: text)
        }
        var scale = self.scale
        while scale > 0, digits.count > 1, digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            scale -= 1
        }
        if scale > 0, digits == [UInt8(ascii: "0")] { scale = 0 }
        return String(decoding: (isNegative ? [UInt8(ascii: "-")] : []) + DecimalText.layout(digits, scale: scale), as: UTF8.self)
    }

    /// The nearest `Double` (correctly rounded from the exact text).
    package var double: Double { Double(description) ?? .nan }

    /// The same value with `scale` fraction digits (`scale` ≥ the current one).
    package func rescaled(to scale: Int) -> ExactDecimal {
        precondition(scale >= self.scale)
        var shift = scale - self.scale
        guard !limbs.isEmpty, shift > 0 else { return ExactDecimal(isNegative: isNegative, limbs: limbs, scale: scale) }
        var result = [UInt32](repeating: 0, count: shift / 9) + limbs
        shift %= 9
        if shift > 0 {
            var factor: UInt64 = 1
            for _ in 0..<shift { factor *= 10 }
            var carry: UInt64 = 0
            for index in 0..<result.count {
                let product = UInt64(result[index]) * factor + carry
                result[index] = UInt32(product % Self.base)
                carry = product / Self.base
            }
            if carry > 0 { result.append(UInt32(carry)) }
        }
        return ExactDecimal(isNegative: isNegative, limbs: result, scale: scale)
    }

    /// Three-way comparison of magnitudes of limb arrays.
    private static func compareMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for index in stride(from: a.count - 1, through: 0, by: -1) where a[index] != b[index] {
            return a[index] < b[index] ? -1 : 1
        }
        return 0
    }

    private static func addMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(max(a.count, b.count) + 1)
        var carry: UInt64 = 0
        for index in 0..<max(a.count, b.count) {
            let sum = UInt64(index < a.count ? a[index] : 0) + UInt64(index < b.count ? b[index] : 0) + carry
            result.append(UInt32(sum % base))
            carry = sum / base
        }
        if carry > 0 { result.append(UInt32(carry)) }
        return result
    }

    /// a − b for |a| ≥ |b|.
    private static func subtractMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var result = a
        var borrow: Int64 = 0
        for index in 0..<a.count {
            var difference = Int64(a[index]) - Int64(index < b.count ? b[index] : 0) - borrow
            if difference < 0 {
                difference += Int64(base)
                borrow = 1
            } else {
                borrow = 0
            }
            result[index] = UInt32(difference)
        }
        return result
    }

    /// The exact sum.
    package static func + (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        let scale = max(lhs.scale, rhs.scale)
        let a = lhs.rescaled(to: scale), b = rhs.rescaled(to: scale)
        if a.isNegative == b.isNegative {
            return ExactDecimal(isNegative: a.isNegative, limbs: addMagnitudes(a.limbs, b.limbs), scale: scale)
        }
        if compareMagnitudes(a.limbs, b.limbs) >= 0 {
            return ExactDecimal(isNegative: a.isNegative, limbs: subtractMagnitudes(a.limbs, b.limbs), scale: scale)
        }
        return ExactDecimal(isNegative: b.isNegative, limbs: subtractMagnitudes(b.limbs, a.limbs), scale: scale)
    }

    /// The negated value.
    package static prefix func - (value: ExactDecimal) -> ExactDecimal {
        ExactDecimal(isNegative: !value.isNegative, limbs: value.limbs, scale: value.scale)
    }

    /// The exact difference.
    package static func - (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal { lhs + -rhs }

    /// The exact product (its scale is the sum of the scales).
    package static func * (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        guard !lhs.limbs.isEmpty, !rhs.limbs.isEmpty else { return .zero }
        var result = [UInt64](repeating: 0, count: lhs.limbs.count + rhs.limbs.count + 1)
        for (i, a) in lhs.limbs.enumerated() {
            var carry: UInt64 = 0
            for (j, b) in rhs.limbs.enumerated() {
                let value = result[i + j] + UInt64(a) * UInt64(b) + carry
                result[i + j] = value % base
                carry = value / base
            }
            var index = i + rhs.limbs.count
            while carry > 0 {
                let value = result[index] + carry
                result[index] = value % base
                carry = value / base
                index += 1
            }
        }
        return ExactDecimal(isNegative: lhs.isNegative != rhs.isNegative, limbs: result.map { UInt32($0) }, scale: lhs.scale + rhs.scale)
    }

    /// The quotient by a positive whole number, truncated toward zero after `extraDigits`
    /// more fraction digits than the dividend has: far more than a `Double` holds, so its
    /// ``double`` is the correctly rounded quotient except within 10^-`extraDigits` of a tie.
    func quotient(dividingBy divisor: UInt64, extraDigits: Int = 60) -> ExactDecimal {
        precondition(divisor > 0)
        let widened = rescaled(to: scale + extraDigits)
        var result = [UInt32](repeating: 0, count: widened.limbs.count)
        var remainder: UInt128 = 0
        for index in stride(from: widened.limbs.count - 1, through: 0, by: -1) {
            let current = remainder * UInt128(Self.base) + UInt128(widened.limbs[index])
            result[index] = UInt32(current / UInt128(divisor))
            remainder = current % UInt128(divisor)
        }
        return ExactDecimal(isNegative: isNegative, limbs: result, scale: widened.scale)
    }

    /// Approximate heap bytes held (for `--stats`).
    package var heapBytes: Int { limbs.capacity * 4 }
}

/// One number as an exact decimal term, the form ``ExactSum`` adds: a small mantissa and
/// scale, a big decimal, or a non-finite `Double` (the only binary values summed).
package enum DecimalTerm: Sendable {
    /// `mantissa` × 10^-`scale`.
    case small(mantissa: Int128, scale: Int)
    /// Too many digits for an `Int128`.
    case big(ExactDecimal)
    /// ±infinity or NaN: a computed value with no decimal form.
    case nonFinite(Double)

    /// The exact value of a JSON number: its literal's decimal value when it has one (any
    /// size, exponents up to ``DecimalText/maxExponent``), else the decimal jq prints for a
    /// computed `Double` (`0.30000000000000004`). A literal beyond that exponent falls back to its
    /// `Double` (`1e-5000` is 0; `1e5000` is infinite).
    @inline(__always)
    package init(_ number: JSONNumber) {
        if let literal = number.literal, let term = DecimalTerm.parseSmall(literal) {
            self = term
            return
        }
        let text = number.literal ?? JSONNumber.format(number.double)
        if number.literal == nil, !number.double.isFinite {
            self = .nonFinite(number.double)
        } else if let term = DecimalTerm.parseSmall(text) {
            self = term
        } else if let decimal = ExactDecimal(parsing: text) {
            self = .big(decimal)
        } else if number.double.isFinite, let term = DecimalTerm.parseSmall(JSONNumber.format(number.double)) {
            self = term
        } else if number.double.isFinite, let decimal = ExactDecimal(parsing: JSONNumber.format(number.double)) {
            self = .big(decimal)
        } else {
            self = .nonFinite(number.double)
        }
    }

    /// The term as an ``ExactDecimal`` (nil when not finite).
    package var exact: ExactDecimal? {
        switch self {
        case .small(let mantissa, let scale): ExactDecimal(mantissa, scale: scale)
        case .big(let decimal): decimal
        case .nonFinite: nil
        }
    }

    /// Powers of ten that fit in an `Int128` (10^0 … 10^38).
    static let powersOfTen: [Int128] = {
        var powers: [Int128] = [1]
        for _ in 1...38 { powers.append(powers.last! * 10) }
        return powers
    }()

    /// `[-]DIGITS[.DIGITS][e[+-]DIGITS]` with at most 38 significant digits and a scale
    /// within 0...38; nil otherwise (the caller takes the slow path).
    @inline(__always)
    private static func parseSmall(_ text: String) -> DecimalTerm? {
        var text = text
        return text.withUTF8 { bytes -> DecimalTerm? in
            var index = 0
            let count = bytes.count
            var negative = false
            if index < count, bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
            var mantissa: Int128 = 0
            var digits = 0
            var fraction = 0
            var seenPoint = false
            while index < count {
                let byte = bytes[index]
                if byte >= 0x30, byte <= 0x39 {
                    if digits > 0 || byte != 0x30 { digits += 1 }
                    if digits > 38 { return nil }
                    mantissa = mantissa * 10 + Int128(byte - 0x30)
                    if seenPoint { fraction += 1 }
                } else if byte == UInt8(ascii: "."), !seenPoint {
                    seenPoint = true
                } else {
                    break
                }
                index += 1
            }
            var exponent = 0
            if index < count {
                guard bytes[index] | 0x20 == UInt8(ascii: "e") else { return nil }
                index += 1
                var exponentNegative = false
                if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                    exponentNegative = bytes[index] == UInt8(ascii: "-")
                    index += 1
                }
                guard index < count else { return nil }
                while index < count {
                    let byte = bytes[index]
                    guard byte >= 0x30, byte <= 0x39 else { return nil }
                    exponent = exponent * 10 + Int(byte - 0x30)
                    if exponent > 100 { return nil }
                    index += 1
                }
                if exponentNegative { exponent = -exponent }
            }
            var scale = fraction - exponent
            if scale < 0 {
                guard digits - scale <= 38 else { return nil }
                mantissa *= powersOfTen[-scale]
                scale = 0
            }
            guard scale <= 38 else { return nil }
            return .small(mantissa: negative ? -mantissa : mantissa, scale: scale)
        }
    }
}

/// An exact running sum of decimal numbers: `0.1 + 0.2` is `0.3`, and integers of any size
/// add without loss. Mergeable: the sum of two sums is exactly the sum over all their terms,
/// whatever the order, which is what makes partial aggregates merge to exactly one run's answer.
///
/// The fast path keeps `Σ × 10^scale` in an `Int128` (prices with two decimals add at the
/// cost of an integer add); what would overflow it moves to an ``ExactDecimal``. Non-finite
/// terms (computed infinities) are summed as `Double`s, and a sum that has any is that `Double`.
package struct ExactSum: Sendable {
    private var small: Int128 = 0
    private var scale = 0
    private var big: ExactDecimal? = nil
    private var nonFinite: Double = 0
    private var hasNonFinite = false

    package init() {}

    /// Adds one term.
    @inline(__always)
    package mutating func add(_ term: DecimalTerm) {
        switch term {
        case .small(let mantissa, let termScale): add(mantissa, scale: termScale)
        case .big(let decimal): addBig(decimal)
        case .nonFinite(let double):
            nonFinite += double
            hasNonFinite = true
        }
    }

    /// Adds `mantissa` × 10^-`termScale`.
    @inline(__always)
    package mutating func add(_ mantissa: Int128, scale termScale: Int) {
        if termScale > scale {
            let (scaled, overflow) = small.multipliedReportingOverflow(by: DecimalTerm.powersOfTen[termScale - scale])
            if overflow {
                flush()
            } else {
                small = scaled
            }
            scale = termScale
        }
        var term = mantissa
        if termScale < scale {
            let (scaled, overflow) = mantissa.multipliedReportingOverflow(by: DecimalTerm.powersOfTen[scale - termScale])
            if overflow {
                addBig(ExactDecimal(mantissa, scale: termScale))
                return
            }
            term = scaled
        }
        let (sum, overflow) = small.addingReportingOverflow(term)
        if overflow {
            flush()
            small = term
        } else {
            small = sum
        }
    }

    /// Adds the square of a term (for sums of squares).
    @inline(__always)
    mutating func addSquare(_ term: DecimalTerm) {
        switch term {
        case .small(let mantissa, let termScale):
            let (square, overflow) = mantissa.multipliedReportingOverflow(by: mantissa)
            if !overflow, termScale * 2 <= 38 {
                add(square, scale: termScale * 2)
            } else {
                let decimal = ExactDecimal(mantissa, scale: termScale)
                addBig(decimal * decimal)
            }
        case .big(let decimal): addBig(decimal * decimal)
        case .nonFinite(let double): add(.nonFinite(double * double))
        }
    }

    private mutating func addBig(_ decimal: ExactDecimal) {
        big = (big ?? .zero) + decimal
    }

    private mutating func flush() {
        if small != 0 { addBig(ExactDecimal(small, scale: scale)) }
        small = 0
    }

    /// Adds another sum (merging partial sums).
    package mutating func merge(_ other: ExactSum) {
        if let otherBig = other.big { addBig(otherBig) }
        if other.small != 0 { add(other.small, scale: other.scale) }
        if other.hasNonFinite {
            nonFinite += other.nonFinite
            hasNonFinite = true
        }
    }

    /// The exact value, or nil when a non-finite term was added (then see ``double``).
    package var exact: ExactDecimal? {
        guard !hasNonFinite else { return nil }
        let smallPart = ExactDecimal(small, scale: scale)
        return big.map { $0 + smallPart } ?? smallPart
    }

    /// The sum as the nearest `Double`.
    package var double: Double { exact?.double ?? nonFinite }

    /// The sum as a JSON number: exact decimal text, or a non-finite `Double` as jq prints it.
    package var jsonNumber: JSONNumber {
        if let exact { return JSONNumber(literal: exact.description) }
        return JSONNumber(nonFinite)
    }

    /// The state as text for a partial aggregate: the exact decimal, or `inf`, `-inf`, `nan`
    /// for a non-finite sum (read back by ``init(stateText:)``).
    package var stateText: String {
        if let exact { return exact.description }
        return nonFinite.isNaN ? "nan" : (nonFinite < 0 ? "-inf" : "inf")
    }

    /// A sum from its ``stateText``; nil for anything else.
    package init?(stateText text: String) {
        switch text {
        case "nan": nonFinite = .nan; hasNonFinite = true
        case "inf": nonFinite = .infinity; hasNonFinite = true
        case "-inf": nonFinite = -.infinity; hasNonFinite = true
        default:
            guard let decimal = ExactDecimal(parsing: text), text.utf8.allSatisfy({ $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }) else { return nil }
            big = decimal
        }
    }

    /// Approximate heap bytes held (for `--stats`).
    package var heapBytes: Int { big?.heapBytes ?? 0 }
}

/// The exact count, sum and sum of squares of a group's numbers: mean and variance from
/// exact sums, so merged partials give bit-for-bit the answer of one run (a Welford
/// accumulator in `Double`s, merged with Chan et al.'s parallel formula, would differ in
/// the last bits with the order of merging).
package struct ExactMoments: Sendable {
    /// How many numbers.
    package private(set) var count = 0
    /// Their exact sum.
    package private(set) var sum = ExactSum()
    /// Their exact sum of squares (kept only when `keepsSquares`).
    package private(set) var squares = ExactSum()
    /// False for a mean alone (no squares needed).
    package let keepsSquares: Bool

    package init(keepsSquares: Bool) {
        self.keepsSquares = keepsSquares
    }

    /// Adds one number.
    @inline(__always)
    package mutating func add(_ term: DecimalTerm) {
        count += 1
        sum.add(term)
        if keepsSquares { squares.addSquare(term) }
    }

    /// Adds another accumulator's numbers.
    package mutating func merge(_ other: ExactMoments) {
        count += other.count
        sum.merge(other.sum)
        squares.merge(other.squares)
    }

    /// Restores a state from its parts (a partial aggregate).
    package init(count: Int, sum: ExactSum, squares: ExactSum?) {
        self.count = count
        self.sum = sum
        self.keepsSquares = squares != nil
        self.squares = squares ?? ExactSum()
    }

    /// The mean, correctly rounded from the exact quotient; nil when empty.
    package var mean: Double? {
        guard count > 0 else { return nil }
        guard let exact = sum.exact else { return sum.double / Double(count) }
        return exact.quotient(dividingBy: UInt64(count)).double
    }

    /// The sample variance (divisor n − 1), from the exact (n·Σx² − (Σx)²) / (n·(n − 1));
    /// nil for fewer than two numbers.
    package var sampleVariance: Double? {
        guard count > 1 else { return nil }
        guard let sumExact = sum.exact, let squaresExact = squares.exact else { return .nan }
        let n = ExactDecimal(Int128(count), scale: 0)
        let numerator = n * squaresExact - sumExact * sumExact
        return numerator.quotient(dividingBy: UInt64(count)).quotient(dividingBy: UInt64(count - 1)).double
    }

    /// The sample standard deviation: the square root of ``sampleVariance``.
    package var sampleStandardDeviation: Double? { sampleVariance.map { $0.squareRoot() } }
}
