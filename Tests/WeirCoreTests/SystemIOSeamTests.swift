import Foundation
import Testing
@testable import WeirCore

/// The small system calls that go through SystemIO rather than being made where needed.
@Suite struct SystemIOSeamTests {
    @Test func aWakeByteArrivesAndAFullPipeIsIgnored() throws {
        var ends: [Int32] = [-1, -1]
        #expect(SystemIO.makePipe(&ends, nonBlocking: true))
        defer { ends.forEach { _ = close($0) } }
        SystemIO.writeWakeByte(ends[1], 7)
        var byte: UInt8 = 0
        #expect(read(ends[0], &byte, 1) == 1)
        #expect(byte == 7)
        // Filling the pipe: further wake bytes are dropped quietly, never block.
        for _ in 0..<(1 << 20) { SystemIO.writeWakeByte(ends[1]) }
        #expect(read(ends[0], &byte, 1) == 1)
    }

    @Test func aBrokenPipeIsAnErrorNotASignal() throws {
        SystemIO.ignoreBrokenPipeSignal()
        var ends: [Int32] = [-1, -1]
        #expect(SystemIO.makePipe(&ends, nonBlocking: false))
        close(ends[0])
        defer { close(ends[1]) }
        #expect(throws: IOError.self) { try SystemIO.writeAll(ends[1], [1, 2, 3], name: "pipe") }
    }
}
