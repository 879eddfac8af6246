/// Output paths made from record values, checked so that they stay where the user said.
///
/// A path template such as `out/\(.retailer)/\(.date).ndjson` has a literal directory
/// prefix (`out/`) that the user wrote, and parts that come from the data. The data must
/// never take a write elsewhere: ``violation(_:inside:)`` checks the part after the
/// directory lexically (no `..` or `.` components, no empty ones, nothing absolute, no NUL,
/// nothing longer than the system allows), so a record whose value is `../../etc` or
/// `/tmp/x` is a bad record, never a write outside the directory. The check is on the text
/// of the path; symbolic links that already exist inside the directory are followed by the
/// system as the user set them up.
package enum SafePath {
    /// The longest path component accepted, in bytes: `NAME_MAX` (255) less room for the
    /// temporary name a file is written under first (`.NAME.weir-PID.tmp`).
    package static let maxComponentBytes = 223
    /// The longest path the system accepts (`PATH_MAX` less the terminating NUL), in bytes.
    static let maxPathBytes = 4095

    /// The directory that a template's literal prefix names: the prefix through its last
    /// `/` (`out/x-` gives `out/`), or `""` (the current directory) when it has none.
    package static func baseDirectory(ofPrefix prefix: String) -> String {
        guard let slash = prefix.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(prefix[...slash])
    }

    /// Why `path` would leave `base` (a directory from ``baseDirectory(ofPrefix:)``, with its
    /// trailing `/`, or `""` for the current directory), or nil when it stays inside it.
    package static func violation(_ path: String, inside base: String) -> String? {
        let bytes = Array(path.utf8)
        let baseBytes = Array(base.utf8)
        if bytes.contains(0) { return "the path contains a NUL byte" }
        if bytes.count > maxPathBytes { return "the path is longer than \(maxPathBytes) bytes" }
        guard bytes.starts(with: baseBytes) else { return "the path does not start with its directory '\(base)'" }
        let relative = bytes[baseBytes.count...]
        if relative.isEmpty { return "the path names the directory itself" }
        if relative.first == UInt8(ascii: "/") {
            return base.isEmpty ? "the path is absolute" : "the path has an empty component ('//')"
        }
        for component in relative.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty {
                return relative.last == UInt8(ascii: "/") && component.endIndex == relative.endIndex
                    ? "the path ends in '/'" : "the path has an empty component ('//')"
            }
            if component.elementsEqual([UInt8(ascii: ".")]) { return "the path has a '.' component" }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return "the path has a '..' component" }
            if component.count > maxComponentBytes { return "a path component is longer than \(maxComponentBytes) bytes" }
        }
        return nil
    }

    /// The name of part `part` (1, 2, …) of a file rolled by record count: a dash and the
    /// part number, at least four digits, before the extension of the last component
    /// (`out/a.ndjson` → `out/a-0001.ndjson`, `out/a` → `out/a-0001`, `out/.hidden` →
    /// `out/.hidden-0001`, `out/a.tar.gz` → `out/a.tar-0001.gz`).
    package static func rolledPath(_ path: String, part: Int) -> String {
        var number = String(part)
        if number.count < 4 { number = String(repeating: "0", count: 4 - number.count) + number }
        let utf8 = Array(path.utf8)
        let nameStart = (utf8.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
        var dot = utf8.lastIndex(of: UInt8(ascii: ".")) ?? -1
        if dot <= nameStart { dot = utf8.count }
        return String(decoding: utf8[..<dot], as: UTF8.self) + "-" + number + String(decoding: utf8[dot...], as: UTF8.self)
    }
}
