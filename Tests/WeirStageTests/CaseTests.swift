import Foundation
import Testing

/// Regression cases: `Tests/cases/<stage>/<NNNN-slug>/` holds `cmd` (a shell command line run
/// in that folder with the stages on PATH), optional `input` (standard input), `expout` (exact
/// standard output), and optional `experr` (exact standard error) and `status` (exit status,
/// default 0). Set `WEIR_REGENERATE_CASES=1` to write the expected files from the current
/// behaviour, then review them with `git diff` before committing.
@Suite struct CaseTests {
    static let casesRoot = StageHarness.repositoryRoot.appendingPathComponent("Tests/cases")

    static let caseFolders: [String] = {
        let manager = FileManager.default
        var folders: [String] = []
        for stage in (try? manager.contentsOfDirectory(atPath: casesRoot.path)) ?? [] {
            let stageFolder = casesRoot.appendingPathComponent(stage)
            for name in (try? manager.contentsOfDirectory(atPath: stageFolder.path)) ?? []
            where manager.fileExists(atPath: stageFolder.appendingPathComponent(name).appendingPathComponent("cmd").path) {
                folders.append("\(stage)/\(name)")
            }
        }
        return folders.sorted()
    }()

    @Test("case folders exist") func casesFound() {
        #expect(Self.caseFolders.count > 10)
    }

    @Test("regression case", arguments: caseFolders)
    func runCase(_ name: String) throws {
        let folder = Self.casesRoot.appendingPathComponent(name)
        func file(_ leaf: String) -> URL { folder.appendingPathComponent(leaf) }
        let command = try String(contentsOf: file("cmd"), encoding: .utf8)
        let input = (try? Data(contentsOf: file("input"))) ?? Data()
        let result = try StageHarness.shell(command, input: input, directory: folder)
        if ProcessInfo.processInfo.environment["WEIR_REGENERATE_CASES"] == "1" {
            try result.stdout.write(to: file("expout"))
            if result.stderr.isEmpty { try? FileManager.default.removeItem(at: file("experr")) } else { try Data(result.stderr.utf8).write(to: file("experr")) }
            if result.status == 0 { try? FileManager.default.removeItem(at: file("status")) } else { try Data("\(result.status)\n".utf8).write(to: file("status")) }
            return
        }
        let expectedOutput = (try? Data(contentsOf: file("expout"))) ?? Data()
        let expectedError = (try? String(contentsOf: file("experr"), encoding: .utf8)) ?? ""
        let expectedStatus = Int32(((try? String(contentsOf: file("status"), encoding: .utf8)) ?? "0").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(result.text == String(decoding: expectedOutput, as: UTF8.self), "\(name): standard output differs")
        #expect(result.stderr == expectedError, "\(name): standard error differs")
        #expect(result.status == expectedStatus, "\(name): exit status \(result.status), expected \(expectedStatus)")
    }
}
