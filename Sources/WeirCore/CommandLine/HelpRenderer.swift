/// Renders a ``StageSpec`` as `--help` text and as a man page (roff), from the same source.
package enum HelpRenderer {
    /// The `--help` text.
    package static func helpText(_ spec: StageSpec) -> String {
        var text = "Usage: \(spec.executableName) [OPTIONS] \(spec.operands)\n"
        text += capitalized(spec.summary) + ".\n\n"
        for paragraph in paragraphs(spec.description) + [spec.input.summary] {
            text += wrap(paragraph, width: 78, indent: "") + "\n\n"
        }
        if !spec.options.isEmpty {
            text += "Options:\n" + optionList(spec.options)
            text += "\n"
        }
        text += "Common options:\n" + optionList(spec.commonOptions)
        if !spec.examples.isEmpty {
            text += "\nExamples:\n"
            for example in spec.examples {
                text += "  \(example.title):\n"
                text += "    $ \(example.command)\n"
                for line in lines(example.input) { text += "    < \(line)\n" }
                for line in lines(example.output) { text += "    > \(line)\n" }
            }
        }
        text += "\nSee weir-\(spec.name)(1) and weir(7) for more.\n"
        return text
    }

    /// The man page in roff (`man/man1/weir-NAME.1`).
    package static func manPage(_ spec: StageSpec) -> String {
        var page = ".\\\" Generated from the stage's spec by `\(spec.executableName) --man`; do not edit.\n"
        page += ".TH \(spec.executableName.uppercased()) 1 \"\" \"Weir \(weirVersion)\" \"Weir Manual\"\n"
        page += ".SH NAME\n\(roff(spec.executableName)) \\- \(roff(spec.summary))\n"
        page += ".SH SYNOPSIS\n.B \(roff(spec.executableName))\n[\\fIOPTIONS\\fR] \(roff(spec.operands))\n"
        page += ".SH DESCRIPTION\n"
        for (index, paragraph) in (paragraphs(spec.description) + [spec.input.summary]).enumerated() {
            if index > 0 { page += ".PP\n" }
            page += roffParagraph(paragraph)
        }
        if !spec.options.isEmpty {
            page += ".SH OPTIONS\n" + manOptionList(spec.options)
        }
        page += ".SH COMMON OPTIONS\n" + manOptionList(spec.commonOptions)
        for note in spec.notes {
            page += ".SH \(roff(note.title.uppercased()))\n"
            for (index, paragraph) in paragraphs(note.text).enumerated() {
                if index > 0 { page += ".PP\n" }
                page += roffParagraph(paragraph)
            }
        }
        if !spec.examples.isEmpty {
            page += ".SH EXAMPLES\n"
            for example in spec.examples {
                page += ".PP\n\(roff(example.title)):\n.PP\n.RS 4\n.nf\n"
                page += "$ \(roff(example.command))\n"
                for line in lines(example.input) { page += "< \(roff(String(line)))\n" }
                for line in lines(example.output) { page += "> \(roff(String(line)))\n" }
                page += ".fi\n.RE\n"
            }
        }
        page += ".SH EXIT STATUS\n0 on success (also when the reader of the output went away); "
        page += "1 on a data, input or output error; 2 on a usage error.\n"
        page += ".SH SEE ALSO\n.BR weir (7)\n"
        return page
    }

    private static func optionList(_ options: [OptionSpec]) -> String {
        var text = ""
        for option in options {
            var usage = "  " + option.usageText
            if option.arity == 2, let valueName = option.valueName { usage = "  " + (option.short.map { "-\($0), " } ?? "    ") + "--\(option.long) \(valueName)" }
            var help = option.help
            if let defaultValue = option.defaultValue { help += " [default: \(defaultValue)]" }
            if usage.count < 26 {
                text += usage.padding(to: 26) + wrap(help, width: 78, indent: String(repeating: " ", count: 26)).dropFirst(26) + "\n"
            } else {
                text += usage + "\n" + wrap(help, width: 78, indent: String(repeating: " ", count: 26)) + "\n"
            }
        }
        return text
    }

    private static func manOptionList(_ options: [OptionSpec]) -> String {
        var page = ""
        for option in options {
            page += ".TP\n"
            var head = ""
            if let short = option.short { head += "\\fB\\-\(short)\\fR, " }
            head += "\\fB\\-\\-\(roff(option.long))\\fR"
            if let valueName = option.valueName { head += " \\fI\(roff(valueName))\\fR" }
            page += head + "\n"
            var help = option.help
            if let defaultValue = option.defaultValue { help += " Default: \(defaultValue)." }
            page += roff(help) + "\n"
        }
        return page
    }

    private static func paragraphs(_ text: String) -> [String] {
        var result: [String] = []
        var current: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingSpaces.isEmpty {
                if !current.isEmpty { result.append(current.joined(separator: "\n")); current = [] }
            } else {
                current.append(String(line))
            }
        }
        if !current.isEmpty { result.append(current.joined(separator: "\n")) }
        return result
    }

    /// Lines starting with two spaces are kept verbatim (code); others are joined and wrapped.
    private static func wrap(_ paragraph: String, width: Int, indent: String) -> String {
        if paragraph.hasPrefix("  ") { return paragraph.split(separator: "\n").map { indent + $0 }.joined(separator: "\n") }
        var lines: [String] = []
        var line = indent
        for word in paragraph.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if line.count > indent.count, line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
            }
            if line.count > indent.count { line += " " }
            line += word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    private static func roffParagraph(_ paragraph: String) -> String {
        if paragraph.hasPrefix("  ") {
            return ".RS 4\n.nf\n" + paragraph.split(separator: "\n").map { roff(String($0.dropFirst(2))) }.joined(separator: "\n") + "\n.fi\n.RE\n"
        }
        return roff(paragraph.split(separator: "\n").joined(separator: " ")) + "\n"
    }

    /// Escapes text for roff: backslashes, dashes, and a leading dot or quote.
    private static func roff(_ text: String) -> String {
        var escaped = text.replacingAll("\\", with: "\\e").replacingAll("-", with: "\\-")
        if escaped.hasPrefix(".") || escaped.hasPrefix("'") { escaped = "\\&" + escaped }
        return escaped
    }

    private static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0).filter { _ in !text.isEmpty }
    }

    private static func capitalized(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst()
    }
}

extension String {
    /// The string padded with spaces to at least `width` characters.
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// Every occurrence of `target` replaced by `replacement` (no Foundation).
    package func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}


