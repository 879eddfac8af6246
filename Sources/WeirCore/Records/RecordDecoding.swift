/// The JSON codec's calls that stages make on each record, with JSON errors turned into
/// ``RecordError``s that carry the record's line and column.
package enum RecordDecoding {
    /// Validates a record and appends its compact form to `output`.
    @inline(__always)
    package static func compact(_ record: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(RecordError) {
        do throws(JSONError) {
            try JSONCompactor.compact(record, into: &output)
        } catch {
            throw RecordError(error, in: record)
        }
    }

    /// Parses a record, building only what `paths` keeps (all of it is still validated).
    @inline(__always)
    package static func parse(_ record: UnsafeRawBufferPointer, keeping paths: JSONPathTree = .whole) throws(RecordError) -> JSONValue {
        do throws(JSONError) {
            return try JSONParser.parse(record, keeping: paths)
        } catch {
            throw RecordError(error, in: record)
        }
    }

    /// ``parse(_:keeping:)`` that also says whether the record is already compact (no whitespace
    /// outside strings), so that writing it back is a copy.
    package static func parse(_ record: UnsafeRawBufferPointer, keeping paths: JSONPathTree, isCompact: inout Bool) throws(RecordError) -> JSONValue {
        do throws(JSONError) {
            return try JSONParser.parse(record, keeping: paths, isCompact: &isCompact)
        } catch {
            throw RecordError(error, in: record)
        }
    }

    /// ``compact(_:into:)`` for a record held in an array (the async stages' records).
    package static func compact(_ record: [UInt8], into output: inout [UInt8]) throws(RecordError) {
        let failure: RecordError? = record.withUnsafeBytes { bytes in
            do throws(RecordError) { try compact(bytes, into: &output); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// ``parse(_:keeping:)`` for a record held in an array.
    package static func parse(_ record: [UInt8], keeping paths: JSONPathTree = .whole) throws(RecordError) -> JSONValue {
        let result: Result<JSONValue, RecordError> = record.withUnsafeBytes { bytes in
            do throws(RecordError) { return .success(try parse(bytes, keeping: paths)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
