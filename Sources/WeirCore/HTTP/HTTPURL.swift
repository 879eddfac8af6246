/// An absolute `http://` or `https://` URL split into the parts a transport needs.
///
/// Deliberately small: scheme, host (a name, an IPv4 literal or a bracketed IPv6 literal),
/// port and the request target (path and query, fragment dropped). No user info, no
/// percent-decoding: the URL is expected already encoded, and spaces or control bytes
/// anywhere are rejected rather than guessed at.
package struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`, lower case.
    package var scheme: String
    /// The host without brackets (`example.com`, `127.0.0.1`, `::1`), names in lower case.
    package var host: String
    /// The port, explicit or the scheme's default.
    package var port: Int
    /// The origin-form request target: path (at least `/`) and `?query` if any.
    package var target: String

    /// True when ``host`` is an IPv6 literal (it was written in brackets).
    package var isIPv6Literal: Bool { host.contains(":") }

    /// True when the port is the scheme's default.
    var hasDefaultPort: Bool { port == HTTPURL.defaultPort(scheme) }

    /// `host[:port]` as the `Host` header wants it (brackets around IPv6, port only when not default).
    package var authority: String {
        let bracketed = isIPv6Literal ? "[\(host)]" : host
        return hasDefaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// The absolute form, `scheme://authority/target` (also the request target sent to a proxy).
    package var description: String { "\(scheme)://\(authority)\(target)" }

    package init(scheme: String, host: String, port: Int, target: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.target = target
    }

    /// The default port of `scheme` (80 for http, 443 for https).
    static func defaultPort(_ scheme: String) -> Int { scheme == "https" ? 443 : 80 }

    /// Parses an absolute http(s) URL; throws ``HTTPError/invalidURL(_:)`` naming what is wrong.
    package static func parse(_ text: String) throws(HTTPError) -> HTTPURL {
        let bytes = Array(text.utf8)
        if let bad = bytes.firstIndex(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw .invalidURL("\(bytes[bad] == 0x20 ? "space" : "control byte") at offset \(bad) in '\(printable(text))'")
        }
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw .invalidURL("no scheme in '\(text)'")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .invalidURL("unsupported scheme '\(scheme)' in '\(text)'")
        }
        var rest = text[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.first == "?" { target = "/" + target }
        if authority.contains("@") { throw .invalidURL("user info is not supported in '\(text)'") }

        var host: Substring
        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL("unclosed '[' in '\(text)'") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw .invalidURL("junk after ']' in '\(text)'") }
                portText = after.dropFirst()
            }
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw .invalidURL("bad IPv6 literal '[\(host)]' in '\(text)'")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .invalidURL("no host in '\(text)'") }
        if authority.first != "[", host.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_")) }) {
            throw .invalidURL("bad host '\(host)' in '\(text)'")
        }
        var port = defaultPort(scheme)
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value), portText.allSatisfy(\.isASCII) else {
                throw .invalidURL("bad port '\(portText)' in '\(text)'")
            }
            port = value
        }
        return HTTPURL(scheme: scheme, host: host.lowercased(), port: port, target: target)
    }

    /// The URL a `Location` header points to, relative to this one (absolute, `//host/...`,
    /// `/path`, or a path relative to this one's directory).
    package func resolving(_ location: String) throws(HTTPError) -> HTTPURL {
        if location.contains("://") { return try HTTPURL.parse(location) }
        if location.hasPrefix("//") { return try HTTPURL.parse("\(scheme):\(location)") }
        if let bad = location.utf8.first(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw .invalidURL("byte \(bad) in redirect location '\(HTTPURL.printable(location))'")
        }
        var resolved = self
        var reference = location
        if let hash = reference.firstIndex(of: "#") { reference = String(reference[..<hash]) }
        if reference.hasPrefix("/") {
            resolved.target = reference
        } else if reference.hasPrefix("?") {
            resolved.target = String(target.prefix { $0 != "?" }) + reference
        } else if reference.isEmpty {
            return self
        } else {
            let path = target.prefix { $0 != "?" }
            let directory = path[...(path.lastIndex(of: "/") ?? path.startIndex)]
            resolved.target = String(directory) + reference
        }
        return resolved
    }

    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }
}
