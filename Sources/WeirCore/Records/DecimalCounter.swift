/// A decimal number as written: a sign, the digits of its magnitude and how many of them are
/// fraction digits (`-2.50` is negative, digits `250`, scale 2). Exact whatever the size.
package struct DecimalText: Equatable, Sendable {
    /// True for a number below zero (never for zero).
    package private(set) var isNegative: Bool
    /// The ASCII digits of the magnitude times 10^scale, without leading zeros (`0` for zero).
    package private(set) var digits: [UInt8]
    /// How many of the digits are after the decimal point.
    package private(set) var scale: Int

    /// The largest exponent accepted (`1e1000`): a bound on the digits one operand can make.
    static let maxExponent = 1000

    /// A number from its sign, digits (ASCII, leading zeros allowed) and scale.
    package init(isNegative: Bool, digits: [UInt8], scale: Int) {
        var digits = Array(digits.drop { $0 == UInt8(ascii: "0") })
        if digits.isEmpty { digits = [UInt8(ascii: "0")] }
        self.digits = digits
        self.scale = max(0, scale)
        self.isNegative = isNegative && digits != [UInt8(ascii: "0")]
    }

    /// Parses `[+-]DIGITS[.DIGITS][e[+-]DIGITS]` (either side of the point may be empty, not
    /// both); nil for anything else. An exponent is applied to the text, so `1.5e-3` is 0.0015
    /// with scale 4 and `2e3` is 2000 with scale 0.
    package init?(parsing text: String) {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while let byte = bytes.first {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                digits.append(byte)
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                break
            }
            bytes = bytes.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var exponent = 0
        if let marker = bytes.first, marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty else { return nil }
            for byte in bytes {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                guard exponent <= Self.maxExponent else { return nil }
            }
            if exponentNegative { exponent = -exponent }
        } else if !bytes.isEmpty {
            return nil
        }
        var scale = fractionDigits - exponent
        if scale < 0 {
            digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -scale))
            scale = 0
        }
        self.init(isNegative: negative, digits: digits, scale: scale)
    }

    /// True for zero.
    package var isZero: Bool { digits == [UInt8(ascii: "0")] }

    /// The same number with `scale` fraction digits. Dropping digits rounds toward +∞ when
    /// `roundingUp`, else toward −∞ (a ceiling or a floor).
    package func rescaled(to scale: Int, roundingUp: Bool) -> DecimalText {
        if scale >= self.scale {
            return DecimalText(isNegative: isNegative, digits: digits + repeatElement(UInt8(ascii: "0"), count: scale - self.scale), scale: scale)
        }
        let dropped = self.scale - scale
        let kept = digits.count > dropped ? Array(digits[..<(digits.count - dropped)]) : [UInt8(ascii: "0")]
        let exact = digits.suffix(dropped).allSatisfy { $0 == UInt8(ascii: "0") }
        var result = DecimalText(isNegative: isNegative, digits: kept, scale: scale)
        // Truncation moved the value toward zero; step away from zero when that was the wrong way.
        if !exact, roundingUp != isNegative {
            result = DecimalText(isNegative: isNegative, digits: DecimalText.incremented(kept), scale: scale)
        }
        return result
    }

    /// The plain decimal text (`-2.50`, `0.05`, `7`): a valid JSON number.
    package var text: String { String(decoding: (isNegative ? [UInt8(ascii: "-")] : []) + DecimalText.layout(digits, scale: scale), as: UTF8.self) }

    /// ASCII digits plus one.
    private static func incremented(_ digits: [UInt8]) -> [UInt8] {
        var digits = digits
        var index = digits.count - 1
        while index >= 0 {
            if digits[index] == UInt8(ascii: "9") {
                digits[index] = UInt8(ascii: "0")
                index -= 1
            } else {
                digits[index] += 1
                return digits
            }
        }
        return [UInt8(ascii: "1")] + digits
    }

    /// The magnitude's text: at least one digit before the point, a point before the last
    /// `scale` digits when there are any (`5`, scale 2 → `0.05`).
    static func layout(_ digits: [UInt8], scale: Int) -> [UInt8] {
        guard scale > 0 else { return digits }
        var padded = digits
        if padded.count < scale + 1 { padded.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: scale + 1 - padded.count), at: 0) }
        padded.insert(UInt8(ascii: "."), at: padded.count - scale)
        return padded
    }
}

/// Counts from a first value by a step, exactly, up to a last value or forever: the engine of
/// `weir-seq`.
///
/// The current value is kept as its own text (`12.50`) and the step is added digit by digit
/// to that text, so there is no float drift (`0.1 + 0.1 + 0.1` is `0.3`), no overflow (the
/// text grows a digit when it must) and nothing to format per value: writing a value is one
/// copy. Every value has the scale of the more precise of the first value and the step (as
/// GNU seq prints them); the last value is only a bound.
package struct DecimalCounter: Sendable {
    /// The magnitude's text, right-aligned: `storage[start...]`; the room before `start` lets it grow.
    private var storage: [UInt8]
    private var start: Int
    private var isNegative: Bool
    /// Fraction digits of every value.
    private let scale: Int
    /// The step's magnitude in the same layout (the point at the same distance from the end).
    private let step: [UInt8]
    private let stepIsNegative: Bool
    /// The bound's magnitude, in the same layout (unused when counting forever).
    private let limitText: [UInt8]
    private let limitIsNegative: Bool
    private let hasLimit: Bool
    /// True once the value went past the bound.
    package private(set) var isFinished = false

    /// A counter at `first`, moving by `step` (not zero), ending after the last value not past `last`.
    package init(first: DecimalText, step: DecimalText, last: DecimalText?) {
        precondition(!step.isZero, "a zero step never ends")
        let scale = max(first.scale, step.scale)
        let firstText = DecimalText.layout(first.rescaled(to: scale, roundingUp: false).digits, scale: scale)
        self.scale = scale
        storage = [UInt8](repeating: UInt8(ascii: "0"), count: 32) + firstText
        start = 32
        isNegative = first.isNegative
        self.step = DecimalText.layout(step.rescaled(to: scale, roundingUp: false).digits, scale: scale)
        stepIsNegative = step.isNegative
        // Values are multiples of 10^-scale: a bound with more digits rounds toward the start.
        let bound = last?.rescaled(to: scale, roundingUp: step.isNegative)
        hasLimit = bound != nil
        limitIsNegative = bound?.isNegative ?? false
        limitText = bound.map { DecimalText.layout($0.digits, scale: scale) } ?? []
        isFinished = isPastLimit
    }

    /// The current value's text (`-0.5`).
    package var text: String {
        String(decoding: (isNegative ? [UInt8(ascii: "-")] : []) + storage[start...], as: UTF8.self)
    }

    /// The current value's length in bytes, sign included.
    private var length: Int { storage.count - start + (isNegative ? 1 : 0) }

    /// Appends up to `limit` lines `prefix VALUE suffix \n`, one per value, advancing after
    /// each; returns how many it appended (0 once finished).
    package mutating func append(_ count: Int, prefix: [UInt8], suffix: [UInt8], into bytes: inout [UInt8]) -> Int {
        guard !isFinished, count > 0 else { return 0 }
        // A value grows by at most (digits of count + 1) digits over `count` steps.
        let longest = max(length, step.count + 1) + String(count).utf8.count + 2
        let perLine = prefix.count + longest + suffix.count + 1
        var appended = 0
        let lines = [UInt8](unsafeUninitializedCapacity: count * perLine) { buffer, initialized in
            guard var cursor = buffer.baseAddress else { return }
            let end = cursor + buffer.count
            prefix.withUnsafeBufferPointer { prefix in
                suffix.withUnsafeBufferPointer { suffix in
                    while appended < count, !isFinished, end - cursor >= perLine {
                        cursor.initialize(from: prefix.baseAddress!, count: prefix.count)
                        cursor += prefix.count
                        if isNegative {
                            cursor.initialize(to: UInt8(ascii: "-"))
                            cursor += 1
                        }
                        let valueLength = storage.count - start
                        storage.withUnsafeBufferPointer { cursor.initialize(from: $0.baseAddress! + start, count: valueLength) }
                        cursor += valueLength
                        if !suffix.isEmpty {
                            cursor.initialize(from: suffix.baseAddress!, count: suffix.count)
                            cursor += suffix.count
                        }
                        cursor.initialize(to: 0x0A)
                        cursor += 1
                        appended += 1
                        advance()
                    }
                }
            }
            initialized = buffer.baseAddress!.distance(to: cursor)
        }
        if bytes.isEmpty { bytes = lines } else { bytes.append(contentsOf: lines) }
        return appended
    }

    /// Moves to the next value and notes when it is past the bound.
    package mutating func advance() {
        if isNegative == stepIsNegative {
            addStep()
        } else if compareMagnitude(step) >= 0 {
            subtractStep()
        } else {
            subtractFromStep()
            isNegative = stepIsNegative
        }
        if hasLimit, isPastLimit { isFinished = true }
    }

    /// True when the magnitude is zero (`0`, `0.00`).
    private var isZero: Bool {
        for index in start..<storage.count where storage[index] != UInt8(ascii: "0") && storage[index] != UInt8(ascii: ".") { return false }
        return true
    }

    private var isPastLimit: Bool {
        guard hasLimit else { return false }
        let order: Int
        if isNegative != limitIsNegative {
            order = isNegative ? -1 : 1
        } else {
            let magnitude = compareMagnitude(limitText)
            order = isNegative ? -magnitude : magnitude
        }
        return stepIsNegative ? order < 0 : order > 0
    }

    /// Three-way comparison of the current magnitude with `other` (same layout, no extra leading zeros).
    private func compareMagnitude(_ other: [UInt8]) -> Int {
        let count = storage.count - start
        if count != other.count { return count < other.count ? -1 : 1 }
        for offset in 0..<count {
            let left = storage[start + offset], right = other[offset]
            if left != right { return left < right ? -1 : 1 }
        }
        return 0
    }

    /// Makes room for `digits` more digits before `start`.
    private mutating func reserveFront(_ digits: Int) {
        guard start < digits else { return }
        let room = max(digits, storage.count)
        storage.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: room), at: 0)
        start += room
    }

    /// |value| += |step|.
    private mutating func addStep() {
        reserveFront(max(0, step.count - (storage.count - start)) + 1)
        var index = storage.count - 1
        var stepIndex = step.count - 1
        var carry: UInt8 = 0
        while stepIndex >= 0 || carry != 0 {
            if index < start {
                storage[index] = UInt8(ascii: "0")
                start = index
            }
            let digit = storage[index]
            if digit == UInt8(ascii: ".") {
                index -= 1
                stepIndex -= 1
                continue
            }
            var sum = digit - UInt8(ascii: "0") + carry
            if stepIndex >= 0 { sum += step[stepIndex] - UInt8(ascii: "0") }
            carry = sum >= 10 ? 1 : 0
            storage[index] = UInt8(ascii: "0") + (sum >= 10 ? sum - 10 : sum)
            index -= 1
            stepIndex -= 1
        }
    }

    /// |value| -= |step|, when |value| ≥ |step|.
    private mutating func subtractStep() {
        subtractDigits(step)
        trimLeadingZeros()
        if isZero { isNegative = false }
    }

    /// |value| = |step| − |value|, when |value| < |step|.
    private mutating func subtractFromStep() {
        let value = Array(storage[start...])
        reserveFront(step.count)
        start = storage.count - step.count
        storage.replaceSubrange(start..., with: step)
        subtractDigits(value)
        trimLeadingZeros()
    }

    /// Subtracts the decimal text `digits` (same scale, not larger) from the value's digits,
    /// aligned on the right; decimal points are stepped over.
    private mutating func subtractDigits(_ digits: [UInt8]) {
        var index = storage.count - 1
        var digitIndex = digits.count - 1
        var borrow: UInt8 = 0
        while digitIndex >= 0 || borrow != 0 {
            let digit = storage[index]
            if digit == UInt8(ascii: ".") {
                index -= 1
                digitIndex -= 1
                continue
            }
            let take = (digitIndex >= 0 ? digits[digitIndex] - UInt8(ascii: "0") : 0) + borrow
            let have = digit - UInt8(ascii: "0")
            if have >= take {
                storage[index] = UInt8(ascii: "0") + have - take
                borrow = 0
            } else {
                storage[index] = UInt8(ascii: "0") + have + 10 - take
                borrow = 1
            }
            index -= 1
            digitIndex -= 1
        }
    }

    /// Drops leading zeros, keeping one digit before the point.
    private mutating func trimLeadingZeros() {
        let pointIndex = scale > 0 ? storage.count - 1 - scale : storage.count
        while start < pointIndex - 1, storage[start] == UInt8(ascii: "0") { start += 1 }
    }
}
