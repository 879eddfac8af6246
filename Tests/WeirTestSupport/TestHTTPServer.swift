import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `Tests/Support/weir-test-server.py` run as a child process for one test (or suite).
///
/// ```swift
/// @Test(.enabled(if: TestHTTPServer.isAvailable, "python3 not found"))
/// func fetches() async throws {
///     let server = try TestHTTPServer()
///     defer { server.stop() }
///     ... "\(server.baseURL)/users/1?delay=0.05" ...
///     #expect(try server.stats().requests == 1)
/// }
/// ```
/// The server's switches (delay, status, fail, chunked, hang, ...) are listed in the script's
/// docstring. Stopped by ``stop()`` or when the value is released.
package final class TestHTTPServer: @unchecked Sendable {
    /// The server's counters, from `GET /_stats`.
    package struct Stats: Equatable, Sendable {
        /// Connections open now.
        package var open: Int
        /// Connections accepted in all.
        package var opened: Int
        /// Requests answered or being answered (not counting /_stats).
        package var requests: Int
    }

    /// A certificate and key for `--tls`.
    package struct TLSFiles: Sendable {
        package var certificate: String
        package var key: String
    }

    /// The script's path, from this file's.
    package static let scriptPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Support/weir-test-server.py").path

    /// `python3` on PATH, or nil.
    package static let python: String? = findExecutable("python3")

    /// True when the server can run; when false, says why on stderr (once).
    package static let isAvailable: Bool = {
        if python == nil {
            FileHandle.standardError.write(Data("TestHTTPServer: python3 is not on PATH; the HTTP server tests are SKIPPED\n".utf8))
            return false
        }
        return true
    }()

    /// True when `openssl` can make a throwaway certificate for the TLS server.
    package static let isTLSAvailable: Bool = {
        if !isAvailable { return false }
        if findExecutable("openssl") == nil {
            FileHandle.standardError.write(Data("TestHTTPServer: openssl is not on PATH; the HTTPS tests are SKIPPED\n".utf8))
            return false
        }
        return true
    }()

    /// The port it listens on (127.0.0.1).
    package let port: Int
    /// `http://127.0.0.1:PORT` (`https://` for a TLS server).
    package let baseURL: String
    /// The request log file (one JSON object per line).
    package let logPath: String
    private let process: Process
    private let directory: String

    /// Starts a server (HTTPS with `tls`) and waits for its `PORT` line.
    package init(tls: TLSFiles? = nil) throws {
        guard let python = TestHTTPServer.python else { throw ServerError("python3 not found") }
        directory = try TestHTTPServer.makeTemporaryDirectory()
        logPath = directory + "/requests.log"
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        var arguments = [TestHTTPServer.scriptPath, "--log", logPath]
        if let tls { arguments += ["--tls", tls.certificate, tls.key] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let handle = output.fileHandleForReading
        var line = Data()
        while !line.contains(0x0A) {
            let piece = handle.availableData
            if piece.isEmpty { break }
            line.append(piece)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            kill(process.processIdentifier, SIGKILL)
            throw ServerError("weir-test-server.py did not print its port (got '\(text)')")
        }
        self.port = port
        baseURL = "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)"
    }

    deinit { stop() }

    /// Stops the server (idempotent) and removes its temporary files.
    package func stop() {
        if process.isRunning {
            // SIGKILL: a child started from a Dispatch thread inherits its blocked SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The requests logged so far, oldest first.
    package func requestLog() -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        return data.split(separator: 0x0A).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }

    /// `GET /_stats` over a connection of its own (not counted by the server). Plain HTTP only.
    package func stats() throws -> Stats {
        let body = try TestHTTPServer.rawGET(port: port, path: "/_stats")
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let open = object["open"] as? Int, let opened = object["opened"] as? Int, let requests = object["requests"] as? Int
        else { throw ServerError("bad /_stats answer") }
        return Stats(open: open, opened: opened, requests: requests)
    }

    /// Waits (up to `seconds`) until `condition` holds for the server's stats; returns the last stats.
    package func waitForStats(seconds: Double = 5, until condition: (Stats) -> Bool) throws -> Stats {
        let end = Date().addingTimeInterval(seconds)
        var stats = try self.stats()
        while !condition(stats) && Date() < end {
            usleep(20_000)
            stats = try self.stats()
        }
        return stats
    }

    /// Makes a throwaway self-signed certificate for 127.0.0.1 with `openssl`.
    package static func makeSelfSignedCertificate() throws -> TLSFiles {
        guard let openssl = findExecutable("openssl") else { throw ServerError("openssl not found") }
        let directory = try makeTemporaryDirectory()
        let files = TLSFiles(certificate: directory + "/cert.pem", key: directory + "/key.pem")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", files.key, "-out", files.certificate]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ServerError("openssl req failed (\(process.terminationStatus))") }
        return files
    }

    /// An error starting or asking the server.
    package struct ServerError: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Helpers

    private static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/weir-http-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ServerError("mkdtemp failed") }
        return String(cString: made)
    }

    /// A blocking `GET path` with `Connection: close`; returns the body.
    private static func rawGET(port: Int, path: String) throws -> [UInt8] {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ServerError("socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ServerError("cannot connect to the test server") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        guard let end = response.firstRange(of: [13, 10, 13, 10]) else { throw ServerError("bad answer from the test server") }
        return Array(response[end.upperBound...])
    }
}
