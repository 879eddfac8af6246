/// When a stage colours its output (`--color auto|always|never`): one list of the choices,
/// read in one place (``StageInvocation/choice(_:default:)``), so help and parsing agree.
package enum ColorChoice: String, CaseIterable, Sendable {
    /// Colours only on a terminal, and only when `NO_COLOR` is unset or empty (no-color.org).
    case auto
    /// Colours whatever the output (an explicit choice outranks `NO_COLOR`).
    case always
    /// No colours.
    case never

    /// The choices as help shows them: `auto|always|never`.
    package static var valuesText: String { allCases.map(\.rawValue).joined(separator: "|") }

    /// True when output is to be coloured: `always`, or `auto` on a terminal without `NO_COLOR`.
    package func usesColor(outputIsTerminal: Bool, noColor: String? = SystemIO.environment("NO_COLOR")) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto: return outputIsTerminal && (noColor ?? "").isEmpty
        }
    }
}
