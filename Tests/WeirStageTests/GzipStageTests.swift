import Foundation
import Testing

/// Compressed input and output through the built stages and real pipes, checked against
/// gzip(1): `.gz` files, gzip on standard input and FIFOs (by magic bytes, whatever the name),
/// concatenated and empty members, damaged and truncated streams, the stages that read
/// inputs their own way (from-csv, join, merge), and `-o FILE.gz`.
@Suite struct GzipStageTests {
    /// Runs `command` in a fresh folder (with `setup` run first), giving `input` on stdin.
    static func run(_ command: String, setup: String = "", input: String = "") throws -> StageHarness.Result {
        let directory = try StageHarness.temporaryDirectory()
        return try StageHarness.shell("cd '\(directory.path)' && \(setup.isEmpty ? "" : setup + " && ")\(command)", input: input)
    }

    /// Writes 3000 records as `records.ndjson` and, compressed by gzip(1), `records.ndjson.gz`
    /// (about 12 KB).
    static let makeFiles = """
        awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "{\\"n\\":%d,\\"s\\":\\"ünï %d\\",\\"tags\\":[\\"a\\",\\"b\\"]}\\n", i, i * 7919 % 10007 }' > records.ndjson \
          && gzip -c records.ndjson > records.ndjson.gz
        """

    /// ``run(_:setup:input:)`` with the files of ``makeFiles`` made first.
    static func runWithRecords(_ command: String, setup: String = "", input: String = "") throws -> StageHarness.Result {
        try run(command, setup: makeFiles + (setup.isEmpty ? "" : " && " + setup), input: input)
    }

    @Test("-o x.ndjson.gz writes gzip (atomically) that weir-cat and zcat read back")
    func roundTrip() throws {
        let result = try Self.runWithRecords("""
            weir-cat -o x.ndjson.gz < records.ndjson && ls -A && od -An -tx1 -N2 x.ndjson.gz && gzip -t x.ndjson.gz && echo tested \
            && zcat x.ndjson.gz | cmp - records.ndjson && weir-cat x.ndjson.gz | cmp - records.ndjson && echo same
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["records.ndjson", "records.ndjson.gz", "x.ndjson.gz", " 1f 8b", "tested", "same"])
    }

    @Test("gzip on standard input, through a FIFO and under any name is recognised by its magic bytes")
    func recognisedByMagic() throws {
        let stdin = try Self.runWithRecords("gzip -c records.ndjson | weir-cat | cmp - records.ndjson && weir-cat - < records.ndjson.gz | cmp - records.ndjson && echo ok")
        #expect(stdin.status == 0, "\(stdin.stderr)")
        #expect(stdin.lines == ["ok"])
        let fifo = try Self.runWithRecords("mkfifo in && { gzip -c records.ndjson > in & } && weir-cat in | cmp - records.ndjson && echo ok")
        #expect(fifo.status == 0, "\(fifo.stderr)")
        #expect(fifo.lines == ["ok"])
        let named = try Self.runWithRecords("cp records.ndjson.gz data.json && weir-filter '.n == 2' data.json")
        #expect(named.lines == [#"{"n":2,"s":"ünï 5831","tags":["a","b"]}"#])
        // A plain file named .gz is read as what it is.
        let plain = try Self.run(#"printf '{"a":1}\n' > plain.gz && weir-cat plain.gz"#)
        #expect(plain.status == 0 && plain.lines == [#"{"a":1}"#], "\(plain.stderr)")
    }

    @Test("concatenated members are read through like zcat, empty members and 0 records too")
    func members() throws {
        let result = try Self.runWithRecords("""
            { printf '{"m":1}\\n' | gzip -c; gzip -c < /dev/null; printf '{"m":2}\\n{"m":3}' | gzip -c; } > three.gz && weir-cat three.gz
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#"{"m":1}"#, #"{"m":2}"#, #"{"m":3}"#])
        let empty = try Self.run("gzip -c < /dev/null > empty.gz && weir-cat --stats empty.gz && weir-cat -o none.ndjson.gz < /dev/null && zcat none.ndjson.gz | wc -c")
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.lines == ["0"])
        #expect(StageHarness.stats(empty.stderr)["read"] == 0)
        let twice = try Self.runWithRecords("cat records.ndjson.gz records.ndjson.gz | weir-cat | wc -l")
        #expect(twice.lines == ["6000"])
    }

    @Test("a 50 MB input streams through with flat memory, the same bytes as zcat gives")
    func largeInputFlatMemory() throws {
        let script = """
            awk 'BEGIN { for (i = 1; i <= 700000; i++) printf "{\\"n\\":%d,\\"sku\\":\\"A-%d\\",\\"price\\":%d.25,\\"note\\":\\"%d-%d\\"}\\n", i, i * 7, i % 1000, i * 2654435761 % 4294967296, i * 40503 }' \
              | gzip -1 > big.ndjson.gz
            zcat big.ndjson.gz | wc -c
            zcat big.ndjson.gz | md5sum | cut -c1-32
            weir-cat big.ndjson.gz | md5sum | cut -c1-32
            /usr/bin/time -f '%M' -o rss weir-cat big.ndjson.gz > /dev/null && cat rss
            """
        let result = try Self.run(script)
        #expect(result.status == 0, "\(result.stderr)")
        guard result.lines.count == 4 else { Issue.record("unexpected output: \(result.lines)"); return }
        #expect((Int(result.lines[0]) ?? 0) > 50_000_000)
        #expect(result.lines[1] == result.lines[2])
        let kilobytes = Int(result.lines[3]) ?? Int.max
        #expect(kilobytes < 64 * 1024, "max RSS \(kilobytes) KiB")
    }

    @Test("a damaged header is an error naming the file and the offset; exit status 1, nothing written")
    func corruptHeader() throws {
        let result = try Self.runWithRecords("""
            { head -c 2 records.ndjson.gz; printf '\\007'; tail -c +4 records.ndjson.gz; } > bad.gz && weir-cat bad.gz
            """)
        #expect(result.status == 1)
        #expect(result.text.isEmpty)
        #expect(result.stderr == "weir-cat: bad.gz: corrupt gzip data at byte 4: unknown compression method\n")
    }

    @Test("damaged data after good records: the records before are written, then the error names file and offset")
    func corruptBody() throws {
        // A good member, then one whose first deflate block has the invalid type 3 (byte 10
        // of a member written by gzip -n holds the block header's first bits).
        let setup = """
            gzip -nc records.ndjson > good.gz && printf '{"late":1}\\n' | gzip -nc > second.gz \
            && { cat good.gz; head -c 10 second.gz; printf '\\377'; tail -c +12 second.gz; } > bad.gz && stat -c %s good.gz
            """
        let result = try Self.runWithRecords("{ weir-cat bad.gz > out; echo \"status $?\"; } && cmp out records.ndjson && echo same", setup: setup)
        let goodSize = Int(result.lines.first ?? "") ?? 0
        #expect(result.lines.dropFirst() == ["status 1", "same"])
        let offsets = [goodSize + 10, goodSize + 11].map { "weir-cat: bad.gz: corrupt gzip data at byte \($0): invalid block type\n" }
        #expect(offsets.contains(result.stderr), "\(result.stderr)")
    }

    @Test("a truncated stream: every whole record before the cut, then an error at the file's length; also on stdin")
    func truncated() throws {
        let result = try Self.runWithRecords("""
            head -c 9000 records.ndjson.gz > cut.gz && { weir-cat cut.gz > out; echo "status $?"; } && { zcat cut.gz 2>/dev/null | cmp - out 2>&1 | cut -c1-200; } ; wc -l < out
            """)
        #expect(result.stderr == "weir-cat: cut.gz: truncated gzip stream at byte 9000\n")
        #expect(result.lines.first == "status 1")
        // out holds what zcat gives up to its last whole line: cmp says zcat's output goes on (EOF on out).
        #expect(result.lines.dropFirst().first?.contains("EOF on out") == true, "\(result.lines)")
        #expect((Int(result.lines.last ?? "") ?? 0) > 100)
        let stdin = try Self.runWithRecords("head -c 9000 records.ndjson.gz | weir-cat | wc -l")
        #expect(stdin.status == 1)
        #expect(stdin.stderr == "weir-cat: <stdin>: truncated gzip stream at byte 9000\n")
        #expect(stdin.lines == result.lines.suffix(1))
    }

    @Test("under --errors skip and --reject a damaged stream still ends its file with status 1, and the next file is read")
    func damageUnderOtherPolicies() throws {
        for policy in ["--errors skip", "--reject rejects.ndjson"] {
            let result = try Self.runWithRecords("""
                head -c 9000 records.ndjson.gz > cut.gz && printf '{"next":1}\\n' > next.ndjson && weir-cat \(policy) cut.gz next.ndjson | tail -1
                """)
            #expect(result.status == 1, "\(policy)")
            #expect(result.lines == [#"{"next":1}"#], "\(policy)")
            #expect(result.stderr.hasPrefix("weir-cat: cut.gz: truncated gzip stream at byte 9000\n"), "\(policy): \(result.stderr)")
        }
    }

    @Test("weir-from-csv reads a .csv.gz, with other encodings too")
    func fromCSV() throws {
        let result = try Self.run(#"printf 'id,name\n1,Lyon\n2,K\366ln\n' | gzip -c > cities.csv.gz && weir-from-csv --encoding latin1 cities.csv.gz && printf 'a,b\n1,2\n' | gzip -c | weir-from-csv"#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#"{"id":1,"name":"Lyon"}"#, #"{"id":2,"name":"Köln"}"#, #"{"a":1,"b":2}"#])
    }

    @Test("weir-join loads a gzip lookup file: NDJSON, and CSV named .csv.gz")
    func joinLookup() throws {
        let result = try Self.run("""
            printf '{"id":1,"city":"Lyon"}\\n{"id":2,"city":"Bonn"}\\n' | gzip -c > stores.ndjson.gz \
            && printf 'id,zip\\n2,00742\\n' | gzip -c > zips.csv.gz \
            && printf '{"id":2}\\n{"id":1}\\n' | weir-join --with stores.ndjson.gz --on .id | weir-join --with zips.csv.gz --on .id --left
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#"{"id":2,"city":"Bonn","zip":"00742"}"#, #"{"id":1,"city":"Lyon"}"#])
        let damaged = try Self.run(#"printf '{"id":1}\n' | gzip -c | head -c 15 > cut.gz && weir-join --with cut.gz --on .id < /dev/null"#)
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("cut.gz: truncated gzip stream at byte 15"), "\(damaged.stderr)")
    }

    @Test("weir-merge reads two gzip inputs at once, interleaved and merged by key")
    func merge() throws {
        let result = try Self.run("""
            printf '{"n":1}\\n{"n":3}\\n' | gzip -c > odd.gz && printf '{"n":2}\\n{"n":4}\\n' | gzip -c > even.gz \
            && weir-merge --by .n odd.gz even.gz && weir-merge odd.gz even.gz | wc -l
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#, #"{"n":4}"#, "4"])
    }

    @Test("a stage that stops early (weir-head, a closed pipe) stops promptly on gzip input, status 0")
    func earlyStop() throws {
        let result = try Self.run("""
            awk 'BEGIN { for (i = 1; i <= 2000000; i++) printf "{\\"a\\":%d,\\"b\\":\\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\"}\\n", i }' | gzip -1 > big.gz \
            && timeout 20 weir-head -n 2 big.gz && timeout 20 weir-cat big.gz | head -n 1
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == 3)
        #expect(result.stderr.isEmpty)
    }

    @Test("a full disk under -o FILE.gz fails the run with status 1; --reject FILE.gz is gzip too")
    func writeErrors() throws {
        let full = try Self.runWithRecords("ln -s /dev/full full.gz && weir-cat -o full.gz records.ndjson")
        #expect(full.status == 1)
        #expect(full.stderr.contains("cannot write 'full.gz': No space left on device"), "\(full.stderr)")
        let rejects = try Self.run(#"printf '{"a":1}\nnot json\n' | weir-cat --reject bad.ndjson.gz && zcat bad.ndjson.gz"#)
        #expect(rejects.status == 0, "\(rejects.stderr)")
        #expect(rejects.lines.count == 2)
        #expect(rejects.lines.last?.hasPrefix(#"{"file":"<stdin>","line":2"#) == true)
    }

    @Test("--slurpfile reads a gzip file whole")
    func slurpfile() throws {
        let result = try Self.run(#"printf '1 2\n3' | gzip -c > values.gz && echo '{}' | weir-map --slurpfile v values.gz '$v'"#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["[1,2,3]"])
    }
}
