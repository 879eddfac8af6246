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
/// reopened for appending when it is written again. Output to each file is buffered (up to
/// ``bufferBytes`` per open file), so many small records cost few system calls.
package final class OutputSet {
    private struct Entry {
        var finalPath: String
        var temporaryPath: String
        var descriptor: Int32 = -1
        var buffer: [UInt8] = []
        var lastUse = 0
    }

    /// The most files open at once.
    package let maxOpen: Int
    /// The bytes buffered per open file before they are written.
    package let bufferBytes: Int
    private var entries: [String: Int] = [:]
    private var files: [Entry] = []
    /// The files open right now (at most ``maxOpen``).
    package private(set) var openCount = 0
    private var clock = 0
    private var createdDirectories: [String] = []
    private var finished = false

    /// A set keeping at most `maxOpen` descriptors open (at least 1).
    package init(maxOpen: Int, bufferBytes: Int = 32 * 1024) {
        self.maxOpen = max(1, maxOpen)
        self.bufferBytes = bufferBytes
    }

    /// The number of files written so far.
    package var fileCount: Int { files.count }

    /// The final paths of the files, in the order they were first written.
    package var paths: [String] { files.map(\.finalPath) }

    /// Appends `bytes` to the file at `path`, creating it (and its directories) on first use.
    package func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws(IOError) {
        clock += 1
        let index: Int
        if let known = entries[path] {
            index = known
        } else {
            try createDirectories(for: path)
            let (temporary, descriptor) = try SystemIO.createTemporary(beside: path, name: path)
            SignalStop.register(temporary)
            index = files.count
            files.append(Entry(finalPath: path, temporaryPath: temporary, descriptor: descriptor))
            entries[path] = index
            openCount += 1
            try closeLeastRecentlyUsed(sparing: index)
        }
        files[index].lastUse = clock
        files[index].buffer.append(contentsOf: bytes)
        if files[index].buffer.count >= bufferBytes { try flush(index) }
    }

    /// Flushes, syncs and closes every file and renames each into place.
    package func commit() throws(IOError) {
        guard !finished else { return }
        do {
            for index in files.indices {
                try flush(index)
                if files[index].descriptor >= 0 {
                    let descriptor = files[index].descriptor
                    files[index].descriptor = -1
                    openCount -= 1
                    try SystemIO.close(descriptor, name: files[index].finalPath, sync: true)
                }
            }
            for file in files {
                try SystemIO.rename(file.temporaryPath, to: file.finalPath, name: file.finalPath)
                SignalStop.unregister(file.temporaryPath)
            }
        } catch {
            abandon()
            throw error
        }
        finished = true
    }

    /// Removes every temporary file, and the directories this set created that are empty.
    package func abandon() {
        guard !finished else { return }
        finished = true
        for file in files {
            if file.descriptor >= 0 { SystemIO.closeQuietly(file.descriptor) }
            openCount = 0
            SystemIO.unlinkQuietly(file.temporaryPath)
            SignalStop.unregister(file.temporaryPath)
        }
        for directory in createdDirectories.reversed() { _ = rmdir(directory) }
    }

    private func flush(_ index: Int) throws(IOError) {
        guard !files[index].buffer.isEmpty else { return }
        if files[index].descriptor < 0 {
            let descriptor = open(files[index].temporaryPath, O_WRONLY | O_APPEND | O_CLOEXEC)
            if descriptor < 0 { throw IOError(code: errno, context: "cannot write '\(files[index].finalPath)'") }
            files[index].descriptor = descriptor
            openCount += 1
            try closeLeastRecentlyUsed(sparing: index)
        }
        try SystemIO.writeAll(files[index].descriptor, files[index].buffer, name: files[index].finalPath)
        files[index].buffer.removeAll(keepingCapacity: true)
    }

    /// Closes the least recently used open files (other than `sparing`) while too many are open.
    private func closeLeastRecentlyUsed(sparing: Int) throws(IOError) {
        while openCount > maxOpen {
            var oldest: Int? = nil
            for index in files.indices where index != sparing && files[index].descriptor >= 0 {
                if oldest == nil || files[index].lastUse < files[oldest!].lastUse { oldest = index }
            }
            guard let victim = oldest else { return }
            let descriptor = files[victim].descriptor
            files[victim].descriptor = -1
            openCount -= 1
            do throws(IOError) {
                try SystemIO.writeAll(descriptor, files[victim].buffer, name: files[victim].finalPath)
                files[victim].buffer = []
                try SystemIO.close(descriptor, name: files[victim].finalPath)
            } catch {
                SystemIO.closeQuietly(descriptor)
                throw error
            }
        }
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
