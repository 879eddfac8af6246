#if canImport(Glibc)
import Glibc
#endif
import WeirCore

/// Glibc's `exp10` (not exported by the Swift Glibc module); jq uses it, and it differs from `pow(10, x)` in the last bit.
@_silgen_name("exp10")
private func exp10(_ value: Double) -> Double

/// Glibc's `scalb` (a double exponent: NaN unless it is integral), not exported by the Swift Glibc module.
@_silgen_name("scalb")
private func scalb(_ value: Double, _ exponent: Double) -> Double

/// C's conversions of a double to an integer type as jq's builtins get them on x86-64, where an
/// out-of-range or NaN value becomes the type's minimum (`cvttsd2si`): `ldexp(1; 1e300)` is 0 in
/// jq 1.8, not infinity. In range, the fraction is dropped toward zero.
enum CConversion {
    /// `(int)value`.
    static func int(_ value: Double) -> Int32 {
        guard value > -2147483649, value < 2147483648 else { return Int32.min }
        return Int32(value.rounded(.towardZero))
    }

    /// `(long)value`.
    static func long(_ value: Double) -> Int {
        guard value >= -9.2233720368547758e18, value < 9.2233720368547758e18 else { return Int.min }
        return Int(value.rounded(.towardZero))
    }
}

extension Builtins {
    /// Math builtins: libm functions of one, two and three numbers.
    static var mathBuiltins: [String: Builtin] {
        var table: [String: Builtin] = [:]
        let unaryFunctions: [(String, @Sendable (Double) -> Double)] = [
            ("floor", { $0.rounded(.down) }), ("ceil", { $0.rounded(.up) }), ("round", { Glibc.round($0) }),
            ("sqrt", { $0.squareRoot() }), ("fabs", { Swift.abs($0) }), ("trunc", { $0.rounded(.towardZero) }),
            ("nearbyint", { Glibc.nearbyint($0) }), ("rint", { Glibc.rint($0) }),
            ("log", { Glibc.log($0) }), ("log10", { Glibc.log10($0) }), ("log2", { Glibc.log2($0) }), ("log1p", { Glibc.log1p($0) }),
            ("exp", { Glibc.exp($0) }), ("exp2", { Glibc.exp2($0) }), ("exp10", { exp10($0) }), ("expm1", { Glibc.expm1($0) }),
            ("cbrt", { Glibc.cbrt($0) }), ("sin", { Glibc.sin($0) }), ("cos", { Glibc.cos($0) }), ("tan", { Glibc.tan($0) }),
            ("asin", { Glibc.asin($0) }), ("acos", { Glibc.acos($0) }), ("atan", { Glibc.atan($0) }),
            ("sinh", { Glibc.sinh($0) }), ("cosh", { Glibc.cosh($0) }), ("tanh", { Glibc.tanh($0) }),
            ("asinh", { Glibc.asinh($0) }), ("acosh", { Glibc.acosh($0) }), ("atanh", { Glibc.atanh($0) }),
            ("gamma", { Glibc.lgamma($0) }), ("lgamma", { Glibc.lgamma($0) }), ("tgamma", { Glibc.tgamma($0) }),
            ("logb", { Glibc.logb($0) }),
            ("significand", { value in
                if value == 0 || !value.isFinite { return value }
                return Glibc.scalbn(value, -Int32(Glibc.ilogb(value)))
            }),
            ("j0", { Glibc.j0($0) }), ("j1", { Glibc.j1($0) }), ("y0", { Glibc.y0($0) }), ("y1", { Glibc.y1($0) }),
            ("ceil", { $0.rounded(.up) }),
        ]
        for (name, function) in unaryFunctions {
            // Every one computes on the double, as jq 1.8 does: `-100000000000000000 | fabs` is 1e+17.
            table["\(name)/0"] = .unary { value in
                guard case .number(let number) = value else { throw typeError(value, "number required") }
                return .number(function(number.double))
            }
        }
        let binaryFunctions: [(String, @Sendable (Double, Double) -> Double)] = [
            ("pow", { Glibc.pow($0, $1) }), ("atan2", { Glibc.atan2($0, $1) }), ("fmod", { Glibc.fmod($0, $1) }),
            ("fmin", { Glibc.fmin($0, $1) }), ("fmax", { Glibc.fmax($0, $1) }), ("fdim", { Glibc.fdim($0, $1) }),
            ("hypot", { Glibc.hypot($0, $1) }), ("copysign", { Glibc.copysign($0, $1) }),
            ("drem", { Glibc.remainder($0, $1) }), ("remainder", { Glibc.remainder($0, $1) }),
            ("nextafter", { Glibc.nextafter($0, $1) }), ("nexttoward", { Glibc.nextafter($0, $1) }),
            ("ldexp", { Glibc.ldexp($0, CConversion.int($1)) }),
            ("scalb", { scalb($0, $1) }),
            ("scalbln", { Glibc.scalbln($0, CConversion.long($1)) }),
        ]
        for (name, function) in binaryFunctions {
            table["\(name)/2"] = .values { _, arguments in
                guard case .number(let a) = arguments[0], case .number(let b) = arguments[1] else {
                    let bad = arguments[0].typeName == "number" ? arguments[1] : arguments[0]
                    throw typeError(bad, "number required")
                }
                return .number(function(a.double, b.double))
            }
        }
        table["fma/3"] = .values { _, arguments in
            guard case .number(let a) = arguments[0], case .number(let b) = arguments[1], case .number(let c) = arguments[2] else {
                throw EvaluationError("fma requires numbers")
            }
            return .number(Glibc.fma(a.double, b.double, c.double))
        }
        table["frexp/0"] = .unary { value in
            guard case .number(let number) = value else { throw typeError(value, "number required") }
            var exponent: Int32 = 0
            let mantissa = Glibc.frexp(number.double, &exponent)
            return .array([.number(mantissa), .number(Int(exponent))])
        }
        table["lgamma_r/0"] = .unary { value in
            guard case .number(let number) = value else { throw typeError(value, "number required") }
            var sign: Int32 = 0
            let logarithm = Glibc.lgamma_r(number.double, &sign)
            return .array([.number(logarithm), .number(Int(sign))])
        }
        table["modf/0"] = .unary { value in
            guard case .number(let number) = value else { throw typeError(value, "number required") }
            var integral = 0.0
            let fraction = Glibc.modf(number.double, &integral)
            return .array([.number(fraction), .number(integral)])
        }
        return table
    }
}
