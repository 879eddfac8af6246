/// Which proxy, if any, a plain `http://` request goes through, read from the environment.
///
/// Honoured, exactly:
/// - `http_proxy`, else `HTTP_PROXY`: `http://host[:port][/]` or `host[:port]` (port default
///   80). An `https://` proxy URL, user info, or anything else that does not parse is ignored
///   (no proxy). `https_proxy` and `all_proxy` are not read: https goes through URLSession,
///   where libcurl applies its own lowercase variables.
/// - `no_proxy`, else `NO_PROXY`: a comma-separated list; `*` alone disables the proxy for
///   every host; otherwise each entry (spaces trimmed, a leading `.` or `*.` dropped, a
///   `:port` suffix ignored, brackets around IPv6 dropped, case ignored) matches a host equal
///   to it or ending in `.entry`. No CIDR ranges.
package struct HTTPProxySettings: Sendable, Equatable {
    /// The proxy's host and port, or nil for direct connections.
    package var proxy: (host: String, port: Int)? {
        get { proxyHost.map { ($0, proxyPort) } }
        set { proxyHost = newValue?.host; proxyPort = newValue?.port ?? 80 }
    }
    /// Host suffixes that bypass the proxy.
    package var noProxy: [String]
    /// True when `no_proxy` is `*`.
    package var bypassAll: Bool

    private var proxyHost: String?
    private var proxyPort: Int = 80

    /// No proxy.
    package static let direct = HTTPProxySettings(environment: [:])

    /// Settings from `environment` (pass `ProcessInfo`'s or ``SystemIO/environment(_:)``'s values).
    package init(environment: [String: String]) {
        let proxyText = (environment["http_proxy"] ?? environment["HTTP_PROXY"] ?? "")
            .trimmingSpaces()
        noProxy = []
        bypassAll = false
        if !proxyText.isEmpty {
            let withScheme = proxyText.contains("://") ? proxyText : "http://" + proxyText
            if let url = try? HTTPURL.parse(withScheme), url.scheme == "http" {
                proxyHost = url.host
                proxyPort = url.port
            }
        }
        let noProxyText = environment["no_proxy"] ?? environment["NO_PROXY"] ?? ""
        for rawEntry in noProxyText.split(separator: ",") {
            var entry = String(rawEntry).trimmingSpaces().lowercased()
            if entry == "*" { bypassAll = true; continue }
            if entry.hasPrefix("[") , let close = entry.firstIndex(of: "]") {
                entry = String(entry[entry.index(after: entry.startIndex)..<close])
            } else if let colon = entry.lastIndex(of: ":"), entry.firstIndex(of: ":") == colon {
                entry = String(entry[..<colon])
            }
            if entry.hasPrefix("*.") { entry.removeFirst(2) }
            while entry.hasPrefix(".") { entry.removeFirst() }
            if !entry.isEmpty { noProxy.append(entry) }
        }
    }

    /// Settings from the process environment.
    static func fromProcessEnvironment() -> HTTPProxySettings {
        var environment: [String: String] = [:]
        for name in ["http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"] {
            if let value = SystemIO.environment(name) { environment[name] = value }
        }
        return HTTPProxySettings(environment: environment)
    }

    /// The proxy to use for `host`, or nil to connect directly.
    package func proxy(for host: String) -> (host: String, port: Int)? {
        guard let proxyHost, !bypassAll else { return nil }
        let host = host.lowercased()
        for entry in noProxy where host == entry || host.hasSuffix("." + entry) { return nil }
        return (proxyHost, proxyPort)
    }

    package static func == (left: HTTPProxySettings, right: HTTPProxySettings) -> Bool {
        left.proxyHost == right.proxyHost && left.proxyPort == right.proxyPort
            && left.noProxy == right.noProxy && left.bypassAll == right.bypassAll
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
