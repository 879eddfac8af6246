import Glibc

/// Responses kept on disk (`weir-fetch --cache DIR`), so that a rerun after a crash or a
/// fix does not fetch again what it already has.
///
/// One file per request, named by a 128-bit hash of method, URL and body, in a folder of
/// 256 (`DIR/3f/3fa4…`). The file starts with a JSON line that holds the whole key (so a hash
/// collision is a miss, never a wrong answer) and the response's status and headers; the
/// body follows as it came. A file is written to a temporary name in `DIR` and renamed into
/// place, so a reader never sees half of one and a killed run leaves none (the temporary is
/// registered with ``SignalStop``). Entries older than the time to live are misses; files
/// that cannot be read or parsed are misses too (and are replaced on the next store).
package struct ResponseCache: Sendable {
    /// The cache folder.
    package let directory: String
    /// Seconds an entry stays fresh, or nil for ever.
    package let timeToLive: Double?

    /// Opens (creating if need be) the cache folder.
    package init(directory: String, timeToLive: Double?) throws(IOError) {
        self.directory = directory
        self.timeToLive = timeToLive
        if mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw IOError(code: errno, context: "cannot create cache folder '\(directory)'")
        }
        var status = stat()
        guard stat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw IOError(code: ENOTDIR, context: "cache '\(directory)' is not a folder")
        }
    }

    /// The cached response to `request`, or nil.
    package func lookup(_ request: HTTPRequest) -> HTTPResponse? {
        let path = self.path(for: request)
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        if let timeToLive {
            let age = Double(time(nil)) - Double(status.st_mtim.tv_sec)
            if age > timeToLive { return nil }
        }
        guard let bytes = try? SystemIO.readWholeFile(path), let newline = bytes.firstIndex(of: 0x0A),
              case .object(let header)? = try? JSONParser.parse(Array(bytes[..<newline])),
              header["method"] == .string(request.method), header["url"] == .string(request.url),
              header["body"] == Self.bodyValue(request.body),
              case .number(let statusNumber)? = header["status"], let code = statusNumber.literal.flatMap({ Int($0) }),
              case .array(let pairs)? = header["headers"] else { return nil }
        var headers: [(name: String, value: String)] = []
        for pair in pairs {
            guard case .array(let items) = pair, items.count == 2, case .string(let name) = items[0], case .string(let value) = items[1] else { return nil }
            headers.append((name, value))
        }
        return HTTPResponse(status: code, headers: headers, body: Array(bytes[(newline + 1)...]))
    }

    /// Stores `response` for `request` (atomically replacing an older entry).
    package func store(_ response: HTTPResponse, for request: HTTPRequest) throws(IOError) {
        let path = self.path(for: request)
        let folder = String(path[..<path.lastIndex(of: "/")!])
        if mkdir(folder, 0o755) != 0, errno != EEXIST {
            throw IOError(code: errno, context: "cannot create cache folder '\(folder)'")
        }
        let header = JSONValue.object(JSONObject([
            ("method", .string(request.method)), ("url", .string(request.url)), ("body", Self.bodyValue(request.body)),
            ("status", .number(JSONNumber(literal: String(response.status)))),
            ("headers", .array(response.headers.map { .array([.string($0.name), .string($0.value)]) })),
        ]))
        var bytes: [UInt8] = []
        JSONWriter.write(header, into: &bytes)
        bytes.append(0x0A)
        bytes.append(contentsOf: response.body)
        let temporary = "\(folder)/.weir-cache-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        SignalStop.register(temporary)
        defer { SignalStop.unregister(temporary) }
        do throws(IOError) {
            let descriptor = try SystemIO.createForWriting(temporary, exclusive: true)
            do throws(IOError) {
                try SystemIO.writeAll(descriptor, bytes, name: temporary)
            } catch {
                SystemIO.closeQuietly(descriptor)
                throw error
            }
            try SystemIO.close(descriptor, name: temporary)
            try SystemIO.rename(temporary, to: path, name: path)
        } catch {
            SystemIO.unlinkQuietly(temporary)
            throw error
        }
    }

    /// The entry's path: `DIR/xx/xxxxxxxx…` by the hash of method, URL and body.
    package func path(for request: HTTPRequest) -> String {
        var key = Array(request.method.utf8)
        key.append(0x20)
        key.append(contentsOf: request.url.utf8)
        key.append(0x0A)
        if let body = request.body { key.append(contentsOf: body) }
        let name = Self.hex(Self.fnv1a(key, seed: 0xcbf2_9ce4_8422_2325)) + Self.hex(Self.fnv1a(key, seed: 0x6c62_272e_07bb_0142))
        return "\(directory)/\(name.prefix(2))/\(name)"
    }

    private static func bodyValue(_ body: [UInt8]?) -> JSONValue {
        guard let body else { return .null }
        return .string(String(decoding: body, as: UTF8.self))
    }

    private static func fnv1a(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
