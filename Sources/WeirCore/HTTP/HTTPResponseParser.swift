/// An incremental HTTP/1.x response parser: feed it bytes as they arrive, and it says when
/// the response is complete.
///
/// Handles interim 1xx responses (skipped), bodies framed by `Content-Length`, by chunked
/// transfer coding (extensions ignored, trailer fields appended to the headers) or by the
/// connection's close, and no body for HEAD, 1xx, 204 and 304. A body over `bodyLimit`
/// fails at once with ``HTTPError/bodyTooLarge(limit:)``.
package struct HTTPResponseParser {
    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    /// The largest status line plus header block accepted.
    static let headLimit = 256 * 1024

    private let isHead: Bool
    private let bodyLimit: Int
    private var state = State.head
    private var buffer: [UInt8] = []
    private var status = 0
    private var headers: [(name: String, value: String)] = []
    private var body: [UInt8] = []
    private var closeAfter = false

    /// True once any byte of a response arrived (a stale connection sends none).
    package private(set) var receivedAnything = false

    /// True once the response is complete.
    package var isComplete: Bool { if case .done = state { return true } else { return false } }

    /// True when the connection can carry another request after this response: keep-alive,
    /// not close-delimited, and no extra bytes after the response.
    package var connectionReusable: Bool { isComplete && !closeAfter && buffer.isEmpty }

    package init(isHead: Bool, bodyLimit: Int) {
        self.isHead = isHead
        self.bodyLimit = bodyLimit
    }

    /// The complete response (valid once ``isComplete``).
    package var response: HTTPResponse { HTTPResponse(status: status, headers: headers, body: body) }

    /// Consumes `bytes`; returns true when the response is complete.
    @discardableResult
    package mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(HTTPError) -> Bool {
        guard !bytes.isEmpty else { return isComplete }
        receivedAnything = true
        if case .fixed(let remaining) = state, buffer.isEmpty {
            // The common case: body bytes go straight to the body.
            let take = min(remaining, bytes.count)
            body.append(contentsOf: bytes[0..<take])
            state = take == remaining ? .done : .fixed(remaining: remaining - take)
            if take < bytes.count { buffer.append(contentsOf: bytes[take...]) }
            return isComplete
        }
        if case .untilClose = state {
            body.append(contentsOf: bytes)
            if body.count > bodyLimit { throw .bodyTooLarge(limit: bodyLimit) }
            return false
        }
        buffer.append(contentsOf: bytes)
        try advance()
        return isComplete
    }

    /// The connection closed; returns true when that completed a close-delimited body.
    /// Throws ``HTTPError/connection(_:)`` when the response was cut short.
    package mutating func consumeEnd() throws(HTTPError) -> Bool {
        switch state {
        case .done: return true
        case .untilClose:
            state = .done
            return true
        case .head where !receivedAnything:
            throw .connection("closed by the server before any response")
        default:
            throw .connection("closed by the server before the response was complete")
        }
    }

    private mutating func advance() throws(HTTPError) {
        var position = 0
        defer { if position > 0 { buffer.removeFirst(position) } }
        while true {
            switch state {
            case .head:
                guard let end = headEnd(from: position) else {
                    if buffer.count - position > HTTPResponseParser.headLimit { throw .malformedResponse("header block over \(HTTPResponseParser.headLimit) bytes") }
                    return
                }
                try parseHead(buffer[position..<end.headEnd])
                position = end.bodyStart
            case .fixed(let remaining):
                let take = min(remaining, buffer.count - position)
                body.append(contentsOf: buffer[position..<(position + take)])
                position += take
                if take < remaining { state = .fixed(remaining: remaining - take); return }
                state = .done
            case .chunkSize, .trailers:
                guard let lineEnd = buffer[position...].firstIndex(of: 0x0A) else {
                    if buffer.count - position > 4096 { throw .malformedResponse("chunk size line too long") }
                    return
                }
                var line = buffer[position..<lineEnd]
                if line.last == 0x0D { line = line.dropLast() }
                position = lineEnd + 1
                if case .trailers = state {
                    if line.isEmpty { state = .done } else { try appendHeaderLine(line) }
                    continue
                }
                let sizeText = line.prefix { $0 != 0x3B && $0 != 0x20 && $0 != 0x09 }
                guard !sizeText.isEmpty, sizeText.count <= 15, sizeText.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
                      let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16) else {
                    throw .malformedResponse("bad chunk size '\(String(decoding: line.prefix(40), as: UTF8.self))'")
                }
                if size == 0 { state = .trailers; continue }
                if body.count + size > bodyLimit { throw .bodyTooLarge(limit: bodyLimit) }
                state = .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - position)
                body.append(contentsOf: buffer[position..<(position + take)])
                position += take
                if take < remaining { state = .chunkData(remaining: remaining - take); return }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.count - position >= 1 else { return }
                if buffer[position] == 0x0A { position += 1; state = .chunkSize; continue }
                guard buffer.count - position >= 2 else { return }
                guard buffer[position] == 0x0D, buffer[position + 1] == 0x0A else { throw .malformedResponse("chunk not followed by CRLF") }
                position += 2
                state = .chunkSize
            case .untilClose:
                body.append(contentsOf: buffer[position...])
                position = buffer.count
                if body.count > bodyLimit { throw .bodyTooLarge(limit: bodyLimit) }
                return
            case .done:
                return
            }
        }
    }

    /// Where the header block starting at `start` ends (CRLFCRLF, or LFLF from lenient servers).
    private func headEnd(from start: Int) -> (headEnd: Int, bodyStart: Int)? {
        var index = start
        while let newline = buffer[index...].firstIndex(of: 0x0A) {
            let next = newline + 1
            if next < buffer.count, buffer[next] == 0x0A { return (newline, next + 1) }
            if next + 1 < buffer.count, buffer[next] == 0x0D, buffer[next + 1] == 0x0A { return (newline, next + 2) }
            index = next
        }
        return nil
    }

    private mutating func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPError) {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { $0.last == 0x0D ? $0.dropLast() : $0 }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { throw .malformedResponse("empty status line") }
        let statusText = String(decoding: statusLine, as: UTF8.self)
        let parts = statusText.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let code = Int(parts[1]), code >= 100 else {
            throw .malformedResponse("bad status line '\(statusText.prefix(80))'")
        }
        let isHTTP10 = parts[0] == "HTTP/1.0"
        var fields: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else {
                throw .malformedResponse("bad header line '\(String(decoding: line.prefix(80), as: UTF8.self))'")
            }
            fields.append((String(decoding: line[..<colon], as: UTF8.self),
                           String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingWhitespace()))
        }
        if code < 200 && code != 101 { return }  // interim response: the real one follows
        status = code
        headers = fields

        var contentLength: Int?
        var chunked = false
        var connectionClose = isHTTP10
        for field in fields {
            switch field.name.lowercased() {
            case "content-length":
                guard let length = Int(field.value), length >= 0, contentLength == nil || contentLength == length else {
                    throw .malformedResponse("bad Content-Length '\(field.value)'")
                }
                contentLength = length
            case "transfer-encoding":
                chunked = field.value.lowercased().split(separator: ",").last.map { $0.trimmingWhitespace() == "chunked" } ?? false
            case "connection":
                let tokens = field.value.lowercased().split(separator: ",").map { $0.trimmingWhitespace() }
                if tokens.contains("close") { connectionClose = true }
                if tokens.contains("keep-alive") { connectionClose = false }
            default:
                break
            }
        }
        closeAfter = connectionClose
        if isHead || code == 204 || code == 304 || code < 200 {
            state = .done
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            if contentLength > bodyLimit { throw .bodyTooLarge(limit: bodyLimit) }
            body.reserveCapacity(contentLength)
            state = contentLength == 0 ? .done : .fixed(remaining: contentLength)
        } else {
            closeAfter = true
            state = .untilClose
        }
    }

    private mutating func appendHeaderLine(_ line: ArraySlice<UInt8>) throws(HTTPError) {
        guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else {
            throw .malformedResponse("bad trailer line '\(String(decoding: line.prefix(80), as: UTF8.self))'")
        }
        headers.append((String(decoding: line[..<colon], as: UTF8.self),
                        String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingWhitespace()))
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
