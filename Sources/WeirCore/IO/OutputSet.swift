#if canImport(Glibc)
import Glibc
#endif

/// Many output files at once, keyed by their path: the fan-out seam (`weir-split`).
///
/// Each file is written under a temporary name beside its final path and renamed into
/// place only by ``commit()``, when the run succeeds; ``abandon()`` (a failed or stopped
/// run) removes every temporary file and the directories this set created, so a run
/// leaves either all its files or none, and never a temporary one. At most ``maxOpen``
/// descriptors are open at once: the least recently used file is flushed and closed, and
/// reopened for appending when it is written again.
///
/// Memory is bounded whatever the number of files: output to each file is buffered (up to
/// ``bufferBytes`` per file, so many small records cost few system calls), and all the
/// buffers together hold at most ``bufferBudget`` bytes: past it, every buffer is written
/// out (reopening closed files as needed) and released. A buffer is released after each
/// write, so a file that is not being written costs no buffer memory.
package final class OutputSet {
    private struct Entry {
        var finalPath: String
        var temporaryPath: String
        var descriptor: Int32 = -1
        var buffer: [UInt8] = []
        var lastUse = 0
        /// Set by ``OutputSet/finishFile(_:)``: no more writes.
        var isFinished = false
    }

    /// The most files open at once.
    package let maxOpen: Int
    /// The bytes buffered per file before they are written.
    package let bufferBytes: Int
    /// The bytes buffered over all files before every buffer is written out.
    package let bufferBudget: Int
    private var entries: [String: Int] = [:]
    private var files: [Entry] = []
    /// The indices of the files with an open descriptor (at most ``maxOpen``).
    private var openFiles: [Int] = []
    private var bufferedBytes = 0
    private var clock = 0
    private var createdDirectories: [String] = []
    private var finished = false

    /// A set keeping at most `maxOpen` descriptors open (at least 1), buffering up to
    /// `bufferBytes` per file and `bufferBudget` in all.
    package init(maxOpen: Int, bufferBytes: Int = 32 * 1024, bufferBudget: Int = 8 << 20) {
        self.maxOpen = max(1, maxOpen)
        self.bufferBytes = max(1, bufferBytes)
        self.bufferBudget = max(self.bufferBytes, bufferBudget)
    }

    /// The number of files written so far.
    package var fileCount: Int { files.count }

    /// The number of descriptors open now (for tests).
    package var openCount: Int { openFiles.count }

    /// The bytes buffered now, over all files (for tests).
    package var bufferedByteCount: Int { bufferedBytes }

    /// The final paths of the files, in the order they were first written.
    package var paths: [String] { files.map(\.finalPath) }

    /// True when `path` has been written in this set.
    package func contains(_ path: String) -> Bool { entries[path] != nil }

    /// Appends `bytes` to the file at `path`, creating it (and its directories) on first use.
    package func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws(IOError) {
        try write(bytes, toFile: try file(path))
    }

    /// The number of the file at `path`, creating it (and its directories) on first use: a
    /// caller that writes many records to the same files keeps it and calls
    /// ``write(_:toFile:)``, saving a lookup by path per record.
    package func file(_ path: String) throws(IOError) -> Int {
        if let known = entries[path] {
            if files[known].isFinished {
                throw IOError(code: EBADF, context: "cannot write '\(path)' again after it was finished")
            }
            return known
        }
        try createDirectories(for: path)
        try makeRoomForOneMore(sparing: nil)
        let (temporary, descriptor) = try SystemIO.createTemporary(beside: path, name: path)
        SignalStop.register(temporary)
        let index = files.count
        files.append(Entry(finalPath: path, temporaryPath: temporary, descriptor: descriptor))
        entries[path] = index
        openFiles.append(index)
        return index
    }

    /// Appends `bytes` to file number `index` (from ``file(_:)``, not finished since).
    package func write(_ bytes: UnsafeRawBufferPointer, toFile index: Int) throws(IOError) {
        clock += 1
        files[index].lastUse = clock
        if files[index].buffer.count + bytes.count > bufferBytes { try flush(index) }
        if bytes.count >= bufferBytes {
            try writeNow(index, bytes)
            return
        }
        if files[index].buffer.isEmpty { files[index].buffer.reserveCapacity(min(bufferBytes, max(4096, bytes.count))) }
        files[index].buffer.append(contentsOf: bytes)
        bufferedBytes += bytes.count
        if bufferedBytes > bufferBudget { try flushLarger() }
    }

    /// Appends an array of bytes to the file at `path`.
    package func write(_ bytes: [UInt8], to path: String) throws(IOError) {
        try bytes.withBytes { (buffer) throws(IOError) in try write(buffer, to: path) }
    }

    /// Says that `path` will not be written again (a rolled file that is full): its buffer
    /// is written and its descriptor closed now; it is renamed into place with the others.
    package func finishFile(_ path: String) throws(IOError) {
        guard let index = entries[path], !files[index].isFinished else { return }
        try flush(index)
        files[index].isFinished = true
        try closeDescriptor(index)
    }

    /// Flushes, syncs and closes every file and renames each into place (none when one of
    /// the final paths is a directory).
    package func commit() throws(IOError) {
        guard !finished else { return }
        do throws(IOError) {
            for index in files.indices {
                try flush(index)
                if files[index].descriptor >= 0 { try closeDescriptor(index, sync: false) }
            }
            // Every file on disk before any is renamed: one sync of each file system (a
            // thousand fsyncs would cost a journal commit each), or, where syncfs(2) is
            // missing, an fsync of every file.
            try SystemIO.syncFiles(files.map(\.temporaryPath), names: files.map(\.finalPath))
            // A rename that fails halfway would leave some files in place and not others:
            // refuse first what is sure to fail (a directory where a file goes, made by
            // another path of this set such as `out/a/b` beside `out/a`).
            for file in files {
                if let existing = SystemIO.fileStatus(file.finalPath), (existing.st_mode & S_IFMT) == S_IFDIR {
                    throw IOError(code: EISDIR, context: "cannot write '\(file.finalPath)'")
                }
            }
            for file in files {
                try SystemIO.rename(file.temporaryPath, to: file.finalPath, name: file.finalPath)
            }
        } catch {
            abandon()
            throw error
        }
        SignalStop.unregister(Set(files.map(\.temporaryPath)))
        finished = true
    }

    /// Removes every temporary file, and the directories this set created that are empty.
    package func abandon() {
        guard !finished else { return }
        finished = true
        for file in files {
            if file.descriptor >= 0 { SystemIO.closeQuietly(file.descriptor) }
            SystemIO.unlinkQuietly(file.temporaryPath)
        }
        SignalStop.unregister(Set(files.map(\.temporaryPath)))
        openFiles.removeAll()
        for directory in createdDirectories.reversed() { _ = rmdir(directory) }
    }

    /// Writes file `index`'s buffer (opening the file if it was closed) and releases it.
    private func flush(_ index: Int) throws(IOError) {
        guard !files[index].buffer.isEmpty else { return }
        let buffer = files[index].buffer
        files[index].buffer = []
        bufferedBytes -= buffer.count
        try buffer.withBytes { (bytes) throws(IOError) in try writeNow(index, bytes) }
    }

    /// Writes `bytes` to file `index` at once, opening it if it was closed.
    private func writeNow(_ index: Int, _ bytes: UnsafeRawBufferPointer) throws(IOError) {
        if files[index].descriptor < 0 {
            try makeRoomForOneMore(sparing: index)
            let descriptor = open(files[index].temporaryPath, O_WRONLY | O_APPEND | O_CLOEXEC)
            if descriptor < 0 { throw IOError(code: errno, context: "cannot write '\(files[index].finalPath)'") }
            files[index].descriptor = descriptor
            openFiles.append(index)
        }
        try SystemIO.writeAll(files[index].descriptor, bytes, name: files[index].finalPath)
    }

    /// Writes out every buffer (the budget is spent).
    /// Over budget: writes the buffers holding at least their share of it, so that writes
    /// stay large (with a thousand files and an 8 MiB budget, writing every buffer would
    /// make writes of 8 KiB); the small ones keep filling.
    private func flushLarger() throws(IOError) {
        var holding = 0
        for file in files where !file.buffer.isEmpty { holding += 1 }
        let share = bufferedBytes / max(1, holding)
        for index in files.indices where files[index].buffer.count >= share && !files[index].buffer.isEmpty {
            try flush(index)
        }
    }

    /// Closes the least recently used open file (other than `sparing`, and writing out its
    /// buffer first) when ``maxOpen`` files are open, so one more can be opened.
    private func makeRoomForOneMore(sparing: Int?) throws(IOError) {
        while openFiles.count >= maxOpen {
            var oldest: Int? = nil
            for index in openFiles where index != sparing {
                if oldest == nil || files[index].lastUse < files[oldest!].lastUse { oldest = index }
            }
            guard let victim = oldest else { return }
            if !files[victim].buffer.isEmpty {
                let buffer = files[victim].buffer
                files[victim].buffer = []
                bufferedBytes -= buffer.count
                try SystemIO.writeAll(files[victim].descriptor, buffer, name: files[victim].finalPath)
            }
            try closeDescriptor(victim)
        }
    }

    /// Closes file `index`'s descriptor if it is open.
    private func closeDescriptor(_ index: Int, sync: Bool = false) throws(IOError) {
        let descriptor = files[index].descriptor
        guard descriptor >= 0 else { return }
        files[index].descriptor = -1
        if let position = openFiles.firstIndex(of: index) { openFiles.remove(at: position) }
        try SystemIO.close(descriptor, name: files[index].finalPath, sync: sync)
    }

    /// Creates the missing directories above `path` (mode 0755 less the umask).
    private func createDirectories(for path: String) throws(IOError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        var missing: [String] = []
        while !components.isEmpty {
            let directory = components.joined(separator: "/")
            if directory.isEmpty || SystemIO.fileStatus(directory) != nil { break }
            missing.append(directory)
            components = components.dropLast()
        }
        for directory in missing.reversed() {
            if mkdir(directory, 0o755) != 0, errno != EEXIST {
                throw IOError(code: errno, context: "cannot create directory '\(directory)'")
            }
            createdDirectories.append(directory)
        }
    }
}
