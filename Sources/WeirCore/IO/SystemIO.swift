#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call, with the `errno` it set and a message a user understands.
///
/// This file is the one seam between Weir and POSIX I/O: every `open`, `read`, `write`,
/// `rename` and `unlink` goes through ``SystemIO``, so errors are typed and worded once.
package struct IOError: Error, Sendable, CustomStringConvertible {
    /// The `errno` value.
    package var code: Int32
    /// What was being done to what, e.g. `cannot open 'x.json'`.
    package var context: String
    /// What went wrong when it is not the `errno` text (damaged gzip data).
    package var reason: String?

    package init(code: Int32, context: String, reason: String? = nil) {
        self.code = code
        self.context = context
        self.reason = reason
    }

    /// True when the reader of our output went away (`EPIPE`).
    package var isBrokenPipe: Bool { code == EPIPE }

    /// `context: strerror(code)`, e.g. `cannot open 'x.json': No such file or directory`.
    package var description: String { "\(context): \(reason ?? SystemIO.errorMessage(code))" }
}

/// Thin wrappers over the POSIX calls Weir uses, turning `errno` into ``IOError``.
package enum SystemIO {
    /// The standard input, output and error descriptors.
    package static let standardInput: Int32 = 0
    package static let standardOutput: Int32 = 1
    package static let standardError: Int32 = 2

    /// `strerror` text for an `errno` value.
    package static func errorMessage(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// Opens `path` for reading.
    static func openForReading(_ path: String) throws(IOError) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw IOError(code: errno, context: "cannot open '\(path)'") }
        return descriptor
    }

    /// Creates (or truncates) `path` for writing with mode 0644 (less the umask).
    package static func createForWriting(_ path: String, exclusive: Bool = false) throws(IOError) -> Int32 {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let descriptor = open(path, flags, 0o644)
        if descriptor < 0 { throw IOError(code: errno, context: "cannot create '\(path)'") }
        return descriptor
    }

    /// Reads up to `count` bytes into `buffer`; returns 0 at end of input. Retries on `EINTR`.
    package static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawPointer, count: Int, name: String) throws(IOError) -> Int {
        while true {
            let result = Glibc.read(descriptor, buffer, count)
            if result >= 0 { return result }
            if errno == EINTR { continue }
            if errno == EAGAIN { waitUntilReadable(descriptor); continue }
            throw IOError(code: errno, context: "cannot read '\(name)'")
        }
    }

    /// Writes all of `bytes`, retrying on short writes and `EINTR`.
    package static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws(IOError) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let result = Glibc.write(descriptor, pointer, remaining)
            if result < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { waitUntilWritable(descriptor); continue }
                throw IOError(code: errno, context: "cannot write '\(name)'")
            }
            pointer += result
            remaining -= result
        }
    }

    /// Writes all of `bytes` (an array) to `descriptor`.
    package static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], name: String) throws(IOError) {
        try bytes.withBytes { (buffer) throws(IOError) in try writeAll(descriptor, buffer, name: name) }
    }

    /// Reads a whole (small) file: a program text, a `--slurpfile` or `--rawfile`. With
    /// `decompressing`, a file that starts with the gzip magic is inflated.
    package static func readWholeFile(_ path: String, decompressing: Bool = false) throws(IOError) -> [UInt8] {
        let descriptor = path == "-" ? standardInput : try openForReading(path)
        defer { if path != "-" { closeQuietly(descriptor) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let got = try chunk.withMutableBytes { (buffer) throws(IOError) in
                try read(descriptor, into: buffer.baseAddress!, count: buffer.count, name: path)
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        guard decompressing, bytes.starts(with: GzipFormat.magic) else { return bytes }
        do throws(GzipError) {
            return try GzipInflater.inflateAll(bytes)
        } catch {
            let name = InputName.display(path)
            throw IOError(code: EIO, context: "cannot read '\(path)'", reason: String(error.message(name: name).dropFirst(name.count + 2)))
        }
    }

    /// True when `descriptor` has data (or end of input) ready to read right now.
    static func isReadableNow(_ descriptor: Int32) -> Bool {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&request, 1, 0) > 0
    }

    private static func waitUntilReadable(_ descriptor: Int32) {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&request, 1, -1)
    }

    private static func waitUntilWritable(_ descriptor: Int32) {
        var request = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        _ = poll(&request, 1, -1)
    }

    /// `fsync`s and closes a descriptor opened for writing, reporting failures (a full disk
    /// can surface only here).
    package static func close(_ descriptor: Int32, name: String, sync: Bool = false) throws(IOError) {
        if sync, fsync(descriptor) != 0, errno != EINVAL, errno != EROFS {
            let code = errno
            _ = Glibc.close(descriptor)
            throw IOError(code: code, context: "cannot write '\(name)'")
        }
        if Glibc.close(descriptor) != 0, errno != EINTR {
            throw IOError(code: errno, context: "cannot write '\(name)'")
        }
    }

    /// Closes a descriptor opened for reading, ignoring errors.
    package static func closeQuietly(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    /// Renames `from` to `to` atomically; an error names `name` (the path the user gave).
    package static func rename(_ from: String, to: String, name: String? = nil) throws(IOError) {
        if Glibc.rename(from, to) != 0 { throw IOError(code: errno, context: "cannot write '\(name ?? to)'") }
    }

    /// False when the process started with standard input closed (`<&-`).
    package nonisolated(unsafe) static var standardInputIsOpen = true
    /// False when the process started with standard output closed (`>&-`).
    package nonisolated(unsafe) static var standardOutputIsOpen = true

    /// True when `descriptor` is open (standard input or output may be closed: `<&-`, `>&-`).
    static func isOpen(_ descriptor: Int32) -> Bool {
        fcntl(descriptor, F_GETFD) != -1
    }

    /// Makes sure descriptors 0, 1 and 2 exist, so no file opened later takes their place:
    /// a closed one is opened on `/dev/null`. Returns which of standard input and output were closed.
    static func guardStandardDescriptors() -> (inputClosed: Bool, outputClosed: Bool) {
        let closed = (!isOpen(standardInput), !isOpen(standardOutput))
        for descriptor in [standardInput, standardOutput, standardError] where !isOpen(descriptor) {
            let opened = open("/dev/null", descriptor == standardInput ? O_RDONLY : O_WRONLY)
            if opened >= 0, opened != descriptor {
                _ = dup2(opened, descriptor)
                _ = Glibc.close(opened)
            }
        }
        return closed
    }

    /// Removes a file, ignoring errors.
    package static func unlinkQuietly(_ path: String) {
        _ = unlink(path)
    }

    /// Ignores SIGPIPE, so that writing to a closed pipe is an `EPIPE` error to handle.
    package static func ignoreBrokenPipeSignal() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes one byte to the write end of a wake-up pipe; a full or closed pipe is
    /// ignored (the reader is then awake already, or gone).
    package static func writeWakeByte(_ descriptor: Int32, _ value: UInt8 = 1) {
        var byte = value
        _ = write(descriptor, &byte, 1)
    }

    /// Writes `text` to standard error in one call, ignoring failure (for messages a
    /// program asked for, such as jq's `debug`, where a closed stderr must not stop it).
    package static func writeStandardErrorQuietly(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(standardError, bytes.baseAddress, bytes.count) }
    }

    /// The size of a regular file, or nil for pipes, terminals and errors.
    static func regularFileSize(_ descriptor: Int32) -> Int? {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Enlarges the kernel buffer of a pipe (to 1 MiB where allowed): fewer, larger transfers
    /// and context switches between the stages of a pipeline. Does nothing for non-pipes.
    static func enlargePipeBuffer(_ descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFIFO else { return }
        let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ (Linux)
        _ = fcntl(descriptor, setPipeSize, Int32(1 << 20))
    }

    /// Raises the soft limit on open descriptors (`RLIMIT_NOFILE`) to the hard limit, for a
    /// stage that keeps many files open (`weir-split`); returns the soft limit in force after.
    /// A limit the system will not raise is left as it was.
    @discardableResult
    package static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max ? Int(Int32.max) : Int(clamping: limit.rlim_cur)
    }

    /// True when a read or write of `descriptor` may wait indefinitely: a pipe, FIFO, socket
    /// or terminal. Regular files and devices such as `/dev/null` answer at once.
    package static func mayBlock(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind == S_IFIFO || kind == S_IFSOCK || (kind == S_IFCHR && isatty(descriptor) != 0)
    }

    /// ``mayBlock(_:)`` for a path not opened yet (`-` is standard input): FIFOs, sockets,
    /// and character devices other than the null, zero and random ones.
    package static func mayBlock(path: String) -> Bool {
        if path == "-" { return mayBlock(standardInput) }
        guard let info = fileStatus(path) else { return false }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFIFO || kind == S_IFSOCK { return true }
        guard kind == S_IFCHR else { return false }
        return !["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"].contains(resolveSymbolicLinks(path))
    }

    /// Flushes the files at `paths` to disk: one `syncfs(2)` per file system they are on, or
    /// an `fsync(2)` of each where `syncfs` is not available. Errors name `names`.
    static func syncFiles(_ paths: [String], names: [String]) throws(IOError) {
        var synced: Set<UInt64> = []
        for (path, name) in zip(paths, names) {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 { throw IOError(code: errno, context: "cannot write '\(name)'") }
            defer { closeQuietly(descriptor) }
            var info = stat()
            let device = fstat(descriptor, &info) == 0 ? UInt64(info.st_dev) : 0
            if let syncFileSystem = syncFileSystemCall {
                guard !synced.contains(device) else { continue }
                if syncFileSystem(descriptor) != 0 { throw IOError(code: errno, context: "cannot write '\(name)'") }
                synced.insert(device)
            } else if fsync(descriptor) != 0, errno != EINVAL, errno != EROFS {
                throw IOError(code: errno, context: "cannot write '\(name)'")
            }
        }
    }

    /// `syncfs(2)` (Linux), looked up at run time: the C library does not declare it for Swift.
    private static let syncFileSystemCall: (@convention(c) (Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

    /// True when `descriptor` is a pipe or FIFO.
    static func isPipe(_ descriptor: Int32) -> Bool {
        var info = stat()
        return fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
    }

    /// True when `descriptor` is a terminal.
    package static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) != 0 }

    /// The width in columns of the terminal `descriptor` is (`TIOCGWINSZ`); nil when it is
    /// not a terminal or does not say.
    package static func terminalColumns(_ descriptor: Int32) -> Int? {
        guard isTerminal(descriptor) else { return nil }
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Writes a message to standard error, ignoring failures (there is nowhere else to report them).
    package static func printError(_ message: String, terminator: String = "\n") {
        var line = message
        if !line.hasSuffix(terminator) { line += terminator }
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            _ = try? writeAll(standardError, UnsafeRawBufferPointer(buffer), name: "<stderr>")
        }
    }

    /// The number of CPUs this process may run on.
    package static var processorCount: Int {
        let count = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return count > 0 ? count : 1
    }

    /// Monotonic time in seconds.
    package static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Wall-clock time in seconds since the epoch (for dates such as `Retry-After`).
    package static func wallClockSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Ends the process now with `status`, without running atexit handlers or waiting for tasks.
    package static func exitNow(_ status: Int32) -> Never {
        _exit(status)
    }

    /// The value of an environment variable.
    package static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
