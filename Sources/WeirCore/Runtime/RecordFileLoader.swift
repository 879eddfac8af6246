/// Reads one whole file before a run, through the same reader, framer and chunk transform a
/// run would use: how `weir-join` loads its lookup file (NDJSON, or CSV exactly as
/// `weir-from-csv` reads it).
///
/// ```
///   InputReader (child task) ─chunks─▶ AsyncQueue ─▶ transform, in order ─▶ consume
///        ▲                                                                     │
///        └──────────────── permits (AsyncSemaphore: ≤ 4 chunks read ahead) ────┘
/// ```
///
/// Memory stays at a few chunks beyond what `consume` keeps. The first problem (a bad
/// record, an unreadable file) ends the load: the records before it are consumed, and the
/// problem is returned for the caller to report.
package enum RecordFileLoader {
    /// Reads `path`, hands each chunk's output to `consume` in file order, and returns the
    /// first problem, or nil when the whole file was read. `consume` returns false to stop.
    package static func load<Framer: RecordFramer, Transform: ChunkTransform>(
        path: String, framer: Framer, decoder: (any InputDecoder)? = nil, transform: Transform,
        maxRecordBytes: Int = 64 << 20, consume: (inout ChunkOutput) -> Bool
    ) async -> RecordProblem? where Transform.Context == Framer.Context {
        var transform = transform
        let reader = InputReader(paths: [path], maxRecordBytes: maxRecordBytes)
        let queue = AsyncQueue<InputChunk<Framer.Context>>()
        let permits = AsyncSemaphore(permits: 4)
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = await reader.run(framer: framer, decoder: decoder, permits: permits) { queue.send($0) }
                queue.finish()
            }
            defer { group.cancelAll() }
            while let chunk = await queue.receive() {
                permits.release()
                if let problem = chunk.readerProblem { return problem }
                var output = ChunkOutput(sequence: chunk.sequence, stopsAtFirstProblem: true,
                                         inputByteCount: chunk.inputByteCount, maxRecordBytes: maxRecordBytes)
                await transform.process(chunk, into: &output)
                let problem = output.problems.first
                if let problem { output.bytes.removeSubrange(problem.outputOffset...) }
                if !consume(&output) { return nil }
                if let problem { return problem }
            }
            return nil
        }
    }
}
