/// Lays records out as an aligned table for people: the work of `weir-to-table`.
///
/// Streamed: the first ``window`` records are held to choose the columns (``columns``, or
/// the union of their keys in first-seen order) and each column's width (its widest value,
/// capped by ``TableStyle/maxColumnWidth`` and fitted into ``TableStyle/totalWidth``); the
/// header and those rows are then written, and every later row at once with the same widths,
/// a longer value cut to fit with `…`. Widths are display widths (``DisplayWidth``): CJK and
/// emoji take two columns. Numbers are right-aligned, everything else left; null and missing
/// values are empty; arrays and objects are shown as compact JSON; control characters are
/// escaped (`\n`, `\u001b`) so that no value can move the cursor or change the terminal.
package struct TableLayout {
    /// The columns named by the user (`--columns a,b.c`), or nil to take the records' keys.
    private let chosenColumns: [TableColumn]?
    private let style: TableStyle
    /// How many records decide the columns and widths.
    package let window: Int
    private var held: [JSONObject] = []
    private var layout: Layout? = nil
    /// The first key seen after the window that is not a column (it is not shown).
    package private(set) var firstUnshownKey: String? = nil

    package init(columns: [String]?, style: TableStyle, window: Int) {
        chosenColumns = columns.map { $0.map(TableColumn.init(named:)) }
        self.style = style
        self.window = max(1, window)
    }

    /// Takes one record; appends to `output` the lines it can write now.
    package mutating func add(_ record: JSONObject, into output: inout [UInt8]) {
        if let layout {
            if chosenColumns == nil, firstUnshownKey == nil {
                firstUnshownKey = record.keys.first { !layout.columnNames.contains($0) }
            }
            writeRow(layout.cells(of: record), layout, into: &output)
            return
        }
        held.append(record)
        if held.count >= window { writeWindow(into: &output) }
    }

    /// End of input: writes what is still held (a table of fewer records than the window).
    package mutating func finish(into output: inout [UInt8]) {
        if layout == nil { writeWindow(into: &output) }
    }

    private mutating func writeWindow(into output: inout [UInt8]) {
        let columns = chosenColumns ?? Self.keyColumns(of: held)
        guard !columns.isEmpty else { return }
        let rows = held.map { record in columns.map { TableCell($0.value(in: record), markdown: style.markdown) } }
        let layout = Layout(columns: columns, rows: rows, style: style)
        self.layout = layout
        held = []
        writeHeader(layout, into: &output)
        for row in rows { writeRow(row, layout, into: &output) }
    }

    /// The union of the records' keys, in first-seen order.
    private static func keyColumns(of records: [JSONObject]) -> [TableColumn] {
        var seen: Set<String> = []
        var columns: [TableColumn] = []
        for record in records {
            for key in record.keys where seen.insert(key).inserted { columns.append(TableColumn(key: key)) }
        }
        return columns
    }

    // MARK: - Writing lines

    private func writeHeader(_ layout: Layout, into output: inout [UInt8]) {
        let cells = layout.columns.map { TableCell(header: $0.name, markdown: style.markdown) }
        if style.markdown {
            writeMarkdownRow(cells, layout, isHeader: true, into: &output)
            var line = "|"
            for (index, width) in layout.widths.enumerated() {
                line += layout.rightAligned[index] ? " " + String(repeating: "-", count: width - 1) + ": |" : " " + String(repeating: "-", count: width) + " |"
            }
            output.append(contentsOf: line.utf8)
            output.append(0x0A)
        } else {
            writePlainRow(cells, layout, isHeader: true, into: &output)
        }
    }

    private func writeRow(_ cells: [TableCell], _ layout: Layout, into output: inout [UInt8]) {
        if style.markdown {
            writeMarkdownRow(cells, layout, isHeader: false, into: &output)
        } else {
            writePlainRow(cells, layout, isHeader: false, into: &output)
        }
    }

    /// Columns two spaces apart, no trailing spaces.
    private func writePlainRow(_ cells: [TableCell], _ layout: Layout, isHeader: Bool, into output: inout [UInt8]) {
        guard let last = cells.lastIndex(where: { !$0.text.isEmpty }) else {
            output.append(0x0A)
            return
        }
        var line = ""
        for index in 0...last {
            let width = layout.widths[index]
            let (text, textWidth) = Self.fitted(cells[index], to: width)
            let pad = String(repeating: " ", count: max(0, width - textWidth))
            let rightAligned = isHeader ? layout.rightAligned[index] : cells[index].kind == .number
            if index > 0 { line += "  " }
            if rightAligned { line += pad }
            line += style.colors ? Self.colored(text, isHeader ? .header : cells[index].kind) : text
            if !rightAligned, index < last { line += pad }
        }
        output.append(contentsOf: line.utf8)
        output.append(0x0A)
    }

    /// `| a | b |`, padded to the widths (longer values are cut only under --max-width).
    private func writeMarkdownRow(_ cells: [TableCell], _ layout: Layout, isHeader: Bool, into output: inout [UInt8]) {
        var line = "|"
        for (index, cell) in cells.enumerated() {
            let width = layout.widths[index]
            let (text, textWidth) = style.maxColumnWidth == nil ? (cell.text, cell.width) : Self.fitted(cell, to: width)
            let pad = String(repeating: " ", count: max(0, width - textWidth))
            let rightAligned = isHeader ? layout.rightAligned[index] : cell.kind == .number
            line += rightAligned ? " " + pad + text + " |" : " " + text + pad + " |"
        }
        output.append(contentsOf: line.utf8)
        output.append(0x0A)
    }

    /// The cell's text cut to `width` columns (with `…`), and its width. A number or a
    /// boolean is never cut (`3…` for 333 would be a lie): it overflows its column instead.
    private static func fitted(_ cell: TableCell, to width: Int) -> (String, Int) {
        guard cell.width > width, cell.kind != .number, cell.kind != .boolean else { return (cell.text, cell.width) }
        let cut = DisplayWidth.truncate(cell.text, toWidth: width)
        return (cut, DisplayWidth.of(cut))
    }

    private static func colored(_ text: String, _ kind: TableCell.Kind) -> String {
        guard !text.isEmpty, let code = TableStyle.colorCodes[kind] else { return text }
        return "\u{1B}[\(code)m" + text + "\u{1B}[0m"
    }

    // MARK: - Layout

    /// The columns, widths and alignments chosen from the window.
    struct Layout {
        let columns: [TableColumn]
        let columnNames: Set<String>
        let markdown: Bool
        let widths: [Int]
        let rightAligned: [Bool]

        init(columns: [TableColumn], rows: [[TableCell]], style: TableStyle) {
            self.columns = columns
            columnNames = Set(columns.map(\.name))
            markdown = style.markdown
            let headers = columns.map { TableCell(header: $0.name, markdown: style.markdown) }
            var natural = headers.map(\.width)
            var numeric = Array(repeating: true, count: columns.count)
            var uncut = Array(repeating: true, count: columns.count)
            var filled = Array(repeating: false, count: columns.count)
            for row in rows {
                for (index, cell) in row.enumerated() {
                    natural[index] = max(natural[index], cell.width)
                    if !cell.text.isEmpty {
                        filled[index] = true
                        if cell.kind != .number { numeric[index] = false }
                        if cell.kind != .number, cell.kind != .boolean { uncut[index] = false }
                    }
                }
            }
            rightAligned = zip(numeric, filled).map { $0 && $1 }
            // Markdown's delimiter row needs three characters (`---`, `--:`).
            let least = style.markdown ? 3 : 1
            var widths = natural.map { max($0, least) }
            if let cap = style.maxColumnWidth { widths = widths.map { max(min($0, cap), least) } }
            if !style.markdown, let total = style.totalWidth { widths = Self.fit(widths, into: total, keeping: uncut) }
            self.widths = widths
        }

        func cells(of record: JSONObject) -> [TableCell] {
            columns.map { TableCell($0.value(in: record), markdown: markdown) }
        }

        /// Narrows the widest columns until the row fits in `total` columns (two between
        /// columns): the largest cap that fits, what is left over given to the capped columns
        /// from the left. No column goes below 5 (or its own width), or 3 when that is still
        /// too wide; when even that does not fit, the terminal wraps the lines. The columns
        /// `kept` (of numbers and booleans, which are never cut) keep their widths.
        static func fit(_ widths: [Int], into total: Int, keeping kept: [Bool]) -> [Int] {
            let separators = 2 * max(widths.count - 1, 0)
            guard widths.reduce(0, +) + separators > total else { return widths }
            func floorWidths(_ least: Int) -> [Int] { widths.indices.map { kept[$0] ? widths[$0] : min(widths[$0], least) } }
            var floors = floorWidths(5)
            if floors.reduce(separators, +) > total { floors = floorWidths(3) }
            func used(_ cap: Int) -> Int { zip(widths, floors).reduce(separators) { $0 + max($1.1, min($1.0, cap)) } }
            var low = 1
            var high = widths.max() ?? 1
            while low < high {
                let middle = (low + high + 1) / 2
                if used(middle) <= total { low = middle } else { high = middle - 1 }
            }
            var fitted = zip(widths, floors).map { max($0.1, min($0.0, low)) }
            var spare = total - used(low)
            for index in fitted.indices where spare > 0 && fitted[index] < widths[index] {
                fitted[index] += 1
                spare -= 1
            }
            return fitted
        }
    }
}

/// How a table is drawn.
package struct TableStyle {
    /// A GitHub Markdown table instead of aligned text.
    package var markdown = false
    /// ANSI colours: header bold, numbers cyan, booleans yellow, arrays and objects dim.
    package var colors = false
    /// The widest a column may be (`--max-width`), nil for no limit.
    package var maxColumnWidth: Int? = nil
    /// The terminal's width, which the widths are fitted into; nil for no limit.
    package var totalWidth: Int? = nil

    package init(markdown: Bool = false, colors: Bool = false, maxColumnWidth: Int? = nil, totalWidth: Int? = nil) {
        self.markdown = markdown
        self.colors = colors
        self.maxColumnWidth = maxColumnWidth
        self.totalWidth = totalWidth
    }

    /// The SGR code of each kind of cell that is coloured.
    static let colorCodes: [TableCell.Kind: String] = [.header: "1", .number: "36", .boolean: "33", .nested: "2"]
}

/// A column: its name in the header, and where its value is in a record.
struct TableColumn {
    let name: String
    /// The dotted path (`store.city`), for a name that is not a key of the record itself.
    let path: [String]

    init(key: String) {
        name = key
        path = [key]
    }

    init(named name: String) {
        self.name = name
        path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The value at this column: the key itself when the record has it (a key may hold a
    /// dot), else the value at the dotted path; nil when there is none.
    func value(in record: JSONObject) -> JSONValue? {
        if let value = record[name] { return value }
        guard path.count > 1 else { return nil }
        var current = JSONValue.object(record)
        for key in path {
            guard case .object(let object) = current, let next = object[key] else { return nil }
            current = next
        }
        return current
    }
}

/// One cell's text, escaped for the terminal, with its kind and display width.
package struct TableCell {
    /// What the cell holds, for alignment and colour.
    package enum Kind: Hashable {
        case string, number, boolean, empty, nested, header
    }

    package let text: String
    package let kind: Kind
    package let width: Int

    /// The cell of a value (nil: the record has no value there); in a Markdown table `|`
    /// is escaped as `\|`.
    package init(_ value: JSONValue?, markdown: Bool = false) {
        var text: String
        switch value {
        case nil, .null?: (text, kind) = ("", .empty)
        case .string(let string)?: (text, kind) = (Self.escaped(string), .string)
        case .number(let number)?: (text, kind) = (number.text, .number)
        case .bool(let flag)?: (text, kind) = (flag ? "true" : "false", .boolean)
        case let nested?: (text, kind) = (Self.escaped(JSONWriter.string(nested)), .nested)
        }
        if markdown, text.utf8.contains(UInt8(ascii: "|")) { text = text.replacingPipes() }
        self.text = text
        width = DisplayWidth.of(text)
    }

    /// A header cell.
    package init(header: String, markdown: Bool = false) {
        var text = Self.escaped(header)
        if markdown, text.utf8.contains(UInt8(ascii: "|")) { text = text.replacingPipes() }
        self.text = text
        kind = .header
        width = DisplayWidth.of(text)
    }

    /// `text` with what must not reach a terminal raw written as escapes: C0 and C1 control
    /// characters and DEL (`\n`, `\t`, `\u001b`, `\u009b`), line and paragraph separators,
    /// and bidirectional overrides and isolates (which could reorder what is shown).
    package static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: result += "\\n"
            case 0x09: result += "\\t"
            case 0x0D: result += "\\r"
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    /// The text with each `|` written `\|`, as a Markdown table cell needs.
    fileprivate func replacingPipes() -> String {
        var result = ""
        for character in self {
            if character == "|" { result += "\\|" } else { result.append(character) }
        }
        return result
    }
}
