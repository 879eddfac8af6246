#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Coverage-guided fuzz targets for libFuzzer (`swiftc -sanitize=fuzzer,address`), all in one
// binary; `WEIR_FUZZ_TARGET` picks the target. `bin/fuzz TARGET` builds and runs one.
//
// Each target asserts properties that must hold for every input, not only "no crash": a broken
// property is reported by `FuzzCheck.fail`, which prints what differed and traps, so libFuzzer
// saves the input as a crash.

/// The fuzz targets by name (the names `bin/fuzz` takes).
let fuzzTargets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
    "json": JSONFuzzTargets.json,
    "json-splitter": JSONFuzzTargets.splitter,
    "csv-framer": CSVFuzzTargets.framer,
    "csv-transcode": CSVFuzzTargets.transcode,
    "csv-encoding": CSVFuzzTargets.encoding,
    "csv-roundtrip": CSVFuzzTargets.roundTrip,
    "flatten": CSVFuzzTargets.flatten,
    "expression-parse": ExpressionFuzzTargets.parse,
    "evaluate": ExpressionFuzzTargets.evaluate,
]

/// The target chosen by `WEIR_FUZZ_TARGET`, looked up once.
let selectedTarget: @Sendable (UnsafeRawBufferPointer) -> Void = {
    guard let name = getenv("WEIR_FUZZ_TARGET").map({ String(cString: $0) }), let target = fuzzTargets[name] else {
        let names = fuzzTargets.keys.sorted().joined(separator: ", ")
        FuzzCheck.printError("weir-fuzz: set WEIR_FUZZ_TARGET to one of: \(names)")
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// Property checks that report what differed before trapping.
enum FuzzCheck {
    /// Reports a broken property and traps (libFuzzer then writes the input as a crash).
    static func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        printError("weir-fuzz: property broken at \(file):\(line): \(message)")
        abort()
    }

    /// Writes one line to stderr, unbuffered.
    static func printError(_ message: String) {
        let bytes = Array((message + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Fails with `message` unless `condition` holds.
    static func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
        if !condition { fail(message(), file: file, line: line) }
    }

    /// Shows bytes as a Swift-style escaped string for messages.
    static func show(_ bytes: some Sequence<UInt8>) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case 0x20..<0x7F where byte != 0x22 && byte != 0x5C: text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x0A: text += "\\n"
            case 0x0D: text += "\\r"
            case 0x09: text += "\\t"
            default:
                let hex = String(byte, radix: 16)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return text + "\""
    }
}

/// Reads option bytes off the front of a fuzz input, so that one input picks both a
/// configuration and the data (a short input just gets the defaults).
struct FuzzInput {
    private(set) var bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The next byte, or 0 when the input is used up.
    mutating func takeByte() -> UInt8 {
        guard let first = bytes.first else { return 0 }
        bytes = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        return first
    }

    /// The rest, as an array.
    var rest: [UInt8] { Array(bytes) }
}

/// Cuts `count` bytes into pieces whose sizes cycle through `sizes` (each at least 1).
func pieceEnds(count: Int, sizes: [Int]) -> [Int] {
    var ends: [Int] = []
    var end = 0
    var index = 0
    while end < count {
        end = min(count, end + max(1, sizes[index % sizes.count]))
        ends.append(end)
        index += 1
    }
    return ends
}
