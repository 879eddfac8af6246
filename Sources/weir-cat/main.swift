import WeirCore

let spec = StageSpec(
    name: "cat",
    summary: "concatenate NDJSON files, validating and compacting every record",
    description: """
        Reads each FILE in order (standard input when there is none, or for -) and writes every \
        record as one compact JSON line, like cat(1) for NDJSON. Every record is fully validated \
        (RFC 8259, UTF-8, nesting depth), so weir-cat is also the way to check a file. Insignificant \
        whitespace is removed; everything else, including key order, string escapes and number \
        literals such as 1.10 or 12345678901234567890, is copied byte for byte.

        With --source FIELD, each record (which must then be an object) gets FIELD set to \
        {"file":…,"line":…}: where it came from.
        """,
    options: [
        .value("source", "FIELD", help: "Add {\"file\":FILE,\"line\":LINE} under FIELD to each record (records must be objects)."),
    ],
    examples: [
        StageExample(
            "Compact records and keep literals as written",
            command: "weir-cat",
            input: "{ \"sku\": \"A-1\", \"price\": 1.10 }\n[1, 2]\n",
            output: "{\"sku\":\"A-1\",\"price\":1.10}\n[1,2]\n"),
        StageExample(
            "Record where each record came from",
            command: "weir-cat --source src",
            input: "{\"sku\":\"A-1\"}\n",
            output: "{\"sku\":\"A-1\",\"src\":{\"file\":\"<stdin>\",\"line\":1}}\n"),
    ]
)

var invocation = StageInvocation(spec)
let sourceField = invocation.options.value("source")

/// Validates and compacts each record; optionally appends its provenance.
struct Cat: RecordTransform {
    let sourceField: String?

    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let start = output.count
        try RecordDecoding.compact(record, into: &output)
        if let sourceField {
            let provenance = JSONValue.object(JSONObject([
                ("file", .string(position.displayName)), ("line", .number(position.line)),
            ]))
            try ObjectEditing.setField(sourceField, to: provenance, inCompactObjectFrom: start, of: &output)
        }
        output.append(0x0A)
        return 1
    }
}

await invocation.run { Cat(sourceField: sourceField) }
