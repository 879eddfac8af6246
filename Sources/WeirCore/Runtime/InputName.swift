/// How an input's name is shown in messages, reject files and provenance.
package enum InputName {
    /// The name of standard input in messages (its operand is `-`).
    package static let standardInput = "<stdin>"

    /// `name` as a user reads it: `<stdin>` for `-`, any other name as it is.
    package static func display(_ name: String) -> String {
        name == "-" ? standardInput : name
    }
}
