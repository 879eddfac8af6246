/// What a column's fields become in JSON, as declared with `--types name:TYPE`.
package enum CSVColumnType: String, Sendable, CaseIterable {
    /// The default inference (``CSVInference``).
    case auto
    /// Always a JSON string, whatever the text.
    case string
    /// A JSON number; the text must be a number (see ``CSVNumberSyntax/normalizedNumber(_:decimalComma:)``).
    case number
    /// A JSON boolean from `true`/`false`, `t`/`f`, `yes`/`no`, `y`/`n`, `1`/`0` (any case).
    case bool
    /// The field's text is itself a JSON value, written compactly.
    case json
}

/// What an undeclared field becomes.
package enum CSVInference: String, Sendable, CaseIterable {
    /// Every field is a string.
    case none
    /// A field whose text is already a JSON number (no leading zeros, no `+`, no spaces)
    /// becomes that number, literal text kept; everything else is a string.
    case numbers
    /// As ``numbers``, and the exact texts `true` and `false` become booleans.
    case all
}

/// What an empty field becomes.
package enum CSVEmptyPolicy: String, Sendable, CaseIterable {
    /// The empty string `""`.
    case string
    /// `null`.
    case null
    /// The key is left out of the object.
    case omit
}

/// What happens to a row whose field count differs from the header's.
package enum CSVRaggedPolicy: String, Sendable, CaseIterable {
    /// The row is an error (reported, skipped or rejected by the `--errors` policy).
    case error
    /// Missing fields are empty; extra fields are kept under their column numbers.
    case pad
    /// Missing fields are empty; extra fields are dropped.
    case truncate
}

/// Everything that turns a tokenized record into a JSON object besides the header.
package struct CSVConversionOptions: Sendable {
    /// The type of undeclared fields.
    package var inference: CSVInference = .numbers
    /// Declared column types by column name.
    package var declaredTypes: [String: CSVColumnType] = [:]
    /// Read `2,50` (and not `2.50`) as the number 2.50.
    package var decimalComma = false
    /// What an empty field becomes.
    package var empty: CSVEmptyPolicy = .string
    /// What a row of the wrong width does.
    package var ragged: CSVRaggedPolicy = .error
    /// Add the file name under this key.
    package var filenameKey: String? = nil
    /// Add the row number under this key.
    package var rowKey: String? = nil

    /// The defaults: numbers inferred, empty fields as `""`, ragged rows an error.
    package init() {}

    /// The keys of the fields added to every object, with the option that names each
    /// (no column may have these names: see ``CSVHeader``).
    var addedKeys: [(key: String, option: String)] {
        [filenameKey.map { ($0, "--filename") }, rowKey.map { ($0, "--row") }].compactMap { $0 }
    }

    /// Checks the added keys against each other and against the `--columns` names; a
    /// message for a usage error if they clash.
    package func addedKeysProblem(columns: [String]?) -> String? {
        if let filenameKey, filenameKey == rowKey {
            return "--row and --filename both name the field \(JSONWriter.string(.string(filenameKey)))"
        }
        for added in addedKeys where columns?.contains(added.key) == true {
            return "--columns names \(JSONWriter.string(.string(added.key))), the field \(added.option) adds"
        }
        return nil
    }

    /// Parses `name:type,name:type` (a name may itself hold `:`; the type is after the last one).
    package static func parseTypes(_ spec: String) -> Result<[String: CSVColumnType], CSVUsageError> {
        var types: [String: CSVColumnType] = [:]
        for item in spec.split(separator: ",", omittingEmptySubsequences: true) {
            guard let colon = item.lastIndex(of: ":") else {
                return .failure(CSVUsageError("'\(item)' is not NAME:TYPE"))
            }
            let name = String(item[..<colon])
            let typeName = String(item[item.index(after: colon)...])
            guard !name.isEmpty else { return .failure(CSVUsageError("'\(item)' has no column name")) }
            guard let type = CSVColumnType(rawValue: typeName) else {
                let known = CSVColumnType.allCases.map(\.rawValue).joined(separator: ", ")
                return .failure(CSVUsageError("unknown type '\(typeName)' for column '\(name)' (known: \(known))"))
            }
            types[name] = type
        }
        return .success(types)
    }
}

/// A configuration mistake found while setting the codec up (a usage error for the stage).
package struct CSVUsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    package var message: String
    /// An error with `message`.
    package init(_ message: String) { self.message = message }
    /// The message.
    package var description: String { message }
}

/// Byte-level tests and rewrites of number texts.
package enum CSVNumberSyntax {
    /// True when `bytes[start..<end]` is exactly an RFC 8259 number
    /// (``JSONNumberGrammar``), `separator` being its decimal point.
    @inline(__always)
    package static func isJSONNumber(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int, separator: UInt8 = UInt8(ascii: ".")) -> Bool {
        if case .number(end) = JSONNumberGrammar.match(bytes, start, end, separator: separator) { return true }
        return false
    }

    /// The canonical JSON text of a number written more loosely, or `nil` if `text` is not
    /// a number at all.
    ///
    /// Accepts an optional `+` or `-`, digits with leading zeros, a decimal point (`.`, or
    /// `,` with `decimalComma`) with digits on at least one side, and an exponent. Returns
    /// the text unchanged when it is already canonical; otherwise drops `+` and leading
    /// zeros, writes `0.5` for `.5` and `1` for `1.`. Never goes through a `Double`, so no
    /// digit is lost.
    package static func normalizedNumber(_ text: [UInt8], decimalComma: Bool) -> [UInt8]? {
        let separator = decimalComma ? UInt8(ascii: ",") : UInt8(ascii: ".")
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        let integerStart = index
        while index < text.count, isDigit(text[index]) { index += 1 }
        var integer = Array(text[integerStart..<index])
        var fraction: [UInt8] = []
        if index < text.count, text[index] == separator {
            index += 1
            let fractionStart = index
            while index < text.count, isDigit(text[index]) { index += 1 }
            fraction = Array(text[fractionStart..<index])
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        var exponent: [UInt8] = []
        if index < text.count, text[index] | 0x20 == UInt8(ascii: "e") {
            exponent.append(text[index])
            index += 1
            if index < text.count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                exponent.append(text[index])
                index += 1
            }
            let digitsStart = index
            while index < text.count, isDigit(text[index]) { index += 1 }
            guard index > digitsStart else { return nil }
            exponent.append(contentsOf: text[digitsStart..<index])
        }
        guard index == text.count else { return nil }
        while integer.count > 1, integer[0] == UInt8(ascii: "0") { integer.removeFirst() }
        if integer.isEmpty { integer = [UInt8(ascii: "0")] }
        var result: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        result += integer
        if !fraction.isEmpty {
            result.append(UInt8(ascii: "."))
            result += fraction
        }
        result += exponent
        return result
    }

    /// `true` or `false` for the spellings a declared `bool` column accepts, else `nil`.
    package static func boolean(_ text: [UInt8]) -> Bool? {
        switch String(decoding: text, as: UTF8.self).lowercased() {
        case "true", "t", "yes", "y", "1": true
        case "false", "f", "no", "n", "0": false
        default: nil
        }
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
