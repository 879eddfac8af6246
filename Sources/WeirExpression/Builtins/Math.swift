#if canImport(Glibc)
import Glibc
#endif
import WeirCore

/// Glibc's `exp10` (not exported by the Swift Glibc module); jq uses it, and it differs from `pow(10, x)` in the last bit.
@_silgen_name("exp10")
private func exp10(_ value: Double) -> Double

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
            ("lgamma_r", { Glibc.lgamma($0) }), ("logb", { Glibc.logb($0) }),
            ("significand", { value in
                if value == 0 || !value.isFinite { return value }
                return Glibc.scalbn(value, -Int32(Glibc.ilogb(value)))
            }),
            ("j0", { Glibc.j0($0) }), ("j1", { Glibc.j1($0) }), ("y0", { Glibc.y0($0) }), ("y1", { Glibc.y1($0) }),
            ("ceil", { $0.rounded(.up) }),
        ]
        for (name, function) in unaryFunctions {
            table["\(name)/0"] = .unary { value in
                guard case .number(let number) = value else { throw typeError(value, "number required") }
                if name == "floor" || name == "ceil" || name == "round" || name == "trunc" || name == "fabs" || name == "nearbyint" || name == "rint",
                   number.literal != nil, number.isInteger, Swift.abs(number.double) >= 1e17 {
                    return value  // an integer literal stays as written (jq 1.7 keeps big integers)
                }
                return .number(function(number.double))
            }
        }
        let binaryFunctions: [(String, @Sendable (Double, Double) -> Double)] = [
            ("pow", { Glibc.pow($0, $1) }), ("atan2", { Glibc.atan2($0, $1) }), ("fmod", { Glibc.fmod($0, $1) }),
            ("fmin", { Glibc.fmin($0, $1) }), ("fmax", { Glibc.fmax($0, $1) }), ("fdim", { Glibc.fdim($0, $1) }),
            ("hypot", { Glibc.hypot($0, $1) }), ("copysign", { Glibc.copysign($0, $1) }),
            ("drem", { Glibc.remainder($0, $1) }), ("remainder", { Glibc.remainder($0, $1) }),
            ("nextafter", { Glibc.nextafter($0, $1) }), ("nexttoward", { Glibc.nextafter($0, $1) }),
            ("ldexp", { Glibc.ldexp($0, Int32(clamping: Int(exactly: $1.rounded(.towardZero)) ?? 0)) }),
            ("scalb", { Glibc.scalbn($0, Int32(clamping: Int(exactly: $1.rounded(.towardZero)) ?? 0)) }),
            ("scalbln", { Glibc.scalbln($0, Int(exactly: $1.rounded(.towardZero)) ?? 0) }),
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
        table["modf/0"] = .unary { value in
            guard case .number(let number) = value else { throw typeError(value, "number required") }
            var integral = 0.0
            let fraction = Glibc.modf(number.double, &integral)
            return .array([.number(fraction), .number(integral)])
        }
        return table
    }
}
