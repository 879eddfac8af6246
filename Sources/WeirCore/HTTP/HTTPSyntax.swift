/// The small pieces of HTTP syntax a stage checks before it sends anything.
package enum HTTPHeaderSyntax {
    /// True for a byte allowed in a token (a method or a header name, RFC 9110 §5.6.2).
    package static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// True when `value` may be sent as a header value: no line breaks or other control
    /// bytes (tab allowed), so a record's data cannot add headers of its own.
    package static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }
    }
}

/// How a response body is shown in messages and reject entries.
package enum HTTPBodyExcerpt {
    /// The most body bytes shown.
    package static let limit = 256

    /// The body's first bytes as text (control bytes as spaces, cut on a character), with `…` when cut.
    package static func text(_ body: [UInt8]) -> String {
        var end = min(body.count, limit)
        while end < body.count, end > 0, body[end] & 0xC0 == 0x80 { end -= 1 }
        let shown = body[..<end].map { $0 < 0x20 ? UInt8(ascii: " ") : $0 }
        return String(decoding: shown, as: UTF8.self) + (end < body.count ? "…" : "")
    }

    /// `an array`, `a string`: what a JSON value is, for messages.
    package static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
