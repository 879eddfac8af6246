import Testing
@testable import WeirCore

@Suite struct DisplayWidthTests {
    @Test("scalars: ASCII one, CJK and emoji two, marks and format characters none")
    func scalarWidths() {
        let cases: [(UInt32, Int)] = [
            (0x41, 1), (0x7E, 1), (0xE9, 1), (0x00AD, 1),          // A ~ é, soft hyphen
            (0x0301, 0), (0x200B, 0), (0x200D, 0), (0xFE0F, 0),    // combining acute, ZWSP, ZWJ, VS16
            (0x3099, 0), (0x1160, 0),                              // kana voiced mark, Hangul medial vowel
            (0x4E2D, 2), (0x3042, 2), (0xAC00, 2), (0xFF21, 2),    // 中 あ 가 Ａ
            (0x1F600, 2), (0x1F44D, 2), (0x231A, 2), (0x20000, 2), // 😀 👍 ⌚ CJK extension B
            (0x2764, 1), (0x1F1EB, 1),                             // ❤ (text by default), a regional indicator
            (0x0378, 1), (0x3FFFD, 2),                             // unassigned: narrow, and in a CJK plane
            (0x1B, 0), (0x85, 0),                                  // controls (escaped before measuring)
        ]
        for (value, width) in cases {
            #expect(DisplayWidth.of(Unicode.Scalar(value)!) == width, "U+\(String(value, radix: 16, uppercase: true))")
        }
    }

    @Test("strings and clusters as tmux shows them")
    func stringWidths() {
        #expect(DisplayWidth.of("") == 0)
        #expect(DisplayWidth.of("Lyon") == 4)
        #expect(DisplayWidth.of("東京都") == 6)
        #expect(DisplayWidth.of("e\u{301}te\u{301}") == 3)
        #expect(DisplayWidth.of("😀👍") == 4)
        #expect(DisplayWidth.of("👨\u{200D}👩\u{200D}👧") == 2)   // one ZWJ sequence, one emoji
        #expect(DisplayWidth.of("🇫🇷") == 2)
        #expect(DisplayWidth.of("❤\u{FE0F}") == 1)
        #expect(DisplayWidth.of("서울 Seoul") == 10)
    }

    @Test("the tables are sorted, disjoint ranges")
    func tablesAreSorted() {
        for table in [DisplayWidth.wideRanges, DisplayWidth.zeroRanges] {
            for (low, high) in table { #expect(low <= high) }
            for (left, right) in zip(table, table.dropFirst()) { #expect(left.1 < right.0) }
        }
    }

    @Test("truncation keeps whole clusters and ends in an ellipsis")
    func truncation() {
        #expect(DisplayWidth.truncate("Villeurbanne", toWidth: 8) == "Villeur…")
        #expect(DisplayWidth.truncate("Lyon", toWidth: 4) == "Lyon")
        #expect(DisplayWidth.truncate("東京都庁", toWidth: 6) == "東京…")       // 5 columns: a wide char never halved
        #expect(DisplayWidth.truncate("東京都庁", toWidth: 5) == "東京…")
        #expect(DisplayWidth.truncate("e\u{301}e\u{301}e\u{301}", toWidth: 2) == "e\u{301}…")  // the accent stays with its letter
        #expect(DisplayWidth.truncate("a👨\u{200D}👩\u{200D}👧b", toWidth: 3) == "a…")
        #expect(DisplayWidth.truncate("abc", toWidth: 1) == "…")
        #expect(DisplayWidth.truncate("abc", toWidth: 0) == "")
        for text in ["Zürich 東京 😀 e\u{301}", "👨\u{200D}👩\u{200D}👧👨\u{200D}👩\u{200D}👧", "abcdef"] {
            for width in 0...12 {
                let cut = DisplayWidth.truncate(text, toWidth: width)
                #expect(DisplayWidth.of(cut) <= width, "\(text) at \(width): \(cut)")
                if cut != text, width > 0 { #expect(cut.hasSuffix("…")) }
            }
        }
    }
}
