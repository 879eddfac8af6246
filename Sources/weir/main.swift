import WeirCore
#if canImport(Glibc)
import Glibc
#endif

// The front door: `weir STAGE ARGS…` runs `weir-STAGE ARGS…` as `git X` runs `git-X`; `weir`
// alone lists the stages; `weir help STAGE`, `weir completions SHELL`. It is not a stage:
// it reads no records, and it learns what the stages are by asking them (`--spec`).

/// The front door's ways in, each with what it does: the synopsis of `--help` and the man page.
let usages: [(synopsis: String, summary: String)] = [
    ("STAGE [ARG...]", "run weir-STAGE with the arguments"),
    ("help [STAGE]", "show a stage's help (its man page on a terminal)"),
    ("completions bash|zsh|fish", "print the shell completion script"),
    ("--help | --version", "show this help, or the version"),
]

let description = """
    Runs the Weir stage weir-STAGE with the arguments given, as git runs git-X: \
    weir filter '.stock > 0' data.ndjson is weir-filter '.stock > 0' data.ndjson. The stage \
    replaces the front door (execv), so its standard input and output, its exit status and \
    the signals it gets are its own.

    Stages are looked for in the directory of the weir executable first, then in each \
    directory of PATH; the first weir-STAGE found wins. With no arguments, weir lists every \
    stage it finds with its one-line summary (which each stage prints for --spec).

    weir help STAGE shows the stage's man page when standard output is a terminal and the \
    page is installed, and its --help otherwise. weir completions SHELL prints a completion \
    script for bash, zsh or fish, made from the specs of the stages found: option names, the \
    values of options that take a fixed set, file names where a stage reads files. \
    bin/install installs the scripts where each shell looks for them.
    """

let options: [OptionSpec] = [CommonOptions.help, CommonOptions.version]

let manSections: [(title: String, text: String)] = [
    ("Exit status", """
        When weir runs a stage, the stage's own status (0 success, 1 a data or I/O error, 2 a \
        usage error; or the signal that ended it). Otherwise 0 on success; 2 on a usage error: \
        an unknown stage (with the closest names), command, option or shell; 126 when a stage \
        that was found cannot be run.
        """),
    ("Environment", "PATH: where stages are looked for after the directory of weir itself."),
    ("Completions", """
        bin/install PREFIX installs the scripts of weir completions SHELL where each shell looks \
        for them: PREFIX/share/bash-completion/completions/weir, with a link to it for each \
        weir-STAGE so that bash-completion loads it on first use; \
        PREFIX/share/zsh/site-functions/_weir (that directory must be in fpath before \
        compinit runs); PREFIX/share/fish/vendor_completions.d/weir.fish, with a link for \
        each stage. Run it again after adding a stage. Without installing: \
        source <(weir completions bash) in bash.
        """),
    ("Examples", """
          weir                                  # the stages, with what each does
          weir from-csv stores.csv | weir filter '.stock > 0'
          weir help map
          source <(weir completions bash)       # completions in this bash session
        """),
]

/// The lines that name the front door's ways in, for `--help`.
func usageText() -> String {
    let width = usages.map(\.synopsis.count).max()! + 2
    return usages.enumerated().map { index, usage in
        (index == 0 ? "Usage: weir " : "       weir ") + usage.synopsis.padded(to: width) + usage.summary
    }.joined(separator: "\n") + "\n"
}

// MARK: Finding the stages

/// A `weir-NAME` executable found beside the front door or on `PATH`.
struct FoundStage: Sendable {
    /// The part after `weir-`.
    var name: String
    /// Where it is.
    var path: String
}

/// The directories searched, in order: the front door's own, then `PATH`'s.
func searchDirectories() -> [String] {
    var directories: [String] = []
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let executable = length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    if let slash = executable.lastIndex(of: "/") { directories.append(String(executable[..<slash])) }
    for entry in (SystemIO.environment("PATH") ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
        directories.append(entry.isEmpty ? "." : String(entry))
    }
    return directories
}

/// True for an executable regular file (or a link to one).
func isExecutableFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
}

/// The names in `directory` (nil when it cannot be read).
func entries(in directory: String) -> [String] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
        let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
        }
        names.append(name)
    }
    return names
}

/// Every stage found, by name, the first of each name winning; sorted by name. Names with a
/// dot are build products (`weir-map.swiftmodule`), not stages.
func findStages() -> [FoundStage] {
    var found: [String: String] = [:]
    for directory in searchDirectories() {
        for entry in entries(in: directory) where entry.hasPrefix("weir-") && entry.count > 5 && !entry.contains(".") && found[entry] == nil {
            let path = directory + "/" + entry
            if isExecutableFile(path) { found[entry] = path }
        }
    }
    return found.map { FoundStage(name: String($0.key.dropFirst(5)), path: $0.value) }.sorted { $0.name < $1.name }
}

/// The stage `name`, if one is found (without listing every directory).
func locateStage(_ name: String) -> FoundStage? {
    guard !name.contains("/") else { return nil }
    for directory in searchDirectories() where isExecutableFile(directory + "/weir-" + name) {
        return FoundStage(name: name, path: directory + "/weir-" + name)
    }
    return nil
}

/// Each stage's ``StageDescription``: from ``DescriptionCache`` when the stage's file has not
/// changed since it was asked, else asked of it (`weir-NAME --spec`, standard input empty, a
/// few seconds at most), all the stages at once; nil for a program that does not answer
/// with one (a `weir-something` that is not a Weir stage, or an older stage).
func describe(_ stages: [FoundStage]) async -> [StageDescription?] {
    var cache = DescriptionCache.load()
    var descriptions = [StageDescription?](repeating: nil, count: stages.count)
    var asked: [(index: Int, stage: FoundStage, key: String?)] = []
    for (index, stage) in stages.enumerated() {
        let key = DescriptionCache.fileKey(stage.path)
        if let key, let entry = cache[stage.path], entry.key == key, let description = StageDescription(json: entry.spec) {
            descriptions[index] = description
        } else {
            asked.append((index, stage, key))
        }
    }
    guard !asked.isEmpty else { return descriptions }
    let answers = await withTaskGroup(of: (Int, String?).self) { group in
        for (index, stage, _) in asked {
            group.addTask {
                let command = ChildCommand(arguments: [stage.path, "--spec"])
                guard let result = try? await ChildProcess.run(command, input: [], outputLimit: 1 << 20, timeout: 5),
                      result.exit.isSuccess
                else { return (index, nil) }
                return (index, String(decoding: result.output, as: UTF8.self))
            }
        }
        var answers: [Int: String] = [:]
        for await (index, text) in group { answers[index] = text }
        return answers
    }
    var learned = false
    for (index, stage, key) in asked {
        guard let text = answers[index] ?? nil, let description = StageDescription(json: text) else { continue }
        descriptions[index] = description
        if let key {
            cache[stage.path] = (key, text)
            learned = true
        }
    }
    if learned { DescriptionCache.save(cache, keeping: Set(stages.map(\.path))) }
    return descriptions
}

/// The stages' `--spec` answers, remembered by the identity of each stage's file (device,
/// inode, size, modification and change times), so that listing the stages, or generating
/// completions, runs no stage that has not changed: each run of a stage costs its start-up
/// (about 15 ms of CPU each, measured; some 0.2 s for the 22 stages on two cores).
///
/// One JSON line per stage in `$XDG_CACHE_HOME/weir/` (or `~/.cache/weir/`); a missing or
/// unreadable cache only means the stages are asked again, and a cache that cannot be
/// written is not an error.
enum DescriptionCache {
    /// The cache file, per version of the front door; nil without a home directory.
    static var path: String? {
        let base: String
        if let cache = SystemIO.environment("XDG_CACHE_HOME"), cache.hasPrefix("/") {
            base = cache
        } else if let home = SystemIO.environment("HOME"), home.hasPrefix("/") {
            base = home + "/.cache"
        } else {
            return nil
        }
        return base + "/weir/stages-\(weirVersion).ndjson"
    }

    /// What identifies the current content of the file at `path` (after links); nil if none.
    static func fileKey(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
    }

    /// The remembered answers, by the stage's path.
    static func load() -> [String: (key: String, spec: String)] {
        guard let path, let bytes = try? SystemIO.readWholeFile(path) else { return [:] }
        var entries: [String: (key: String, spec: String)] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard case .object(let object)? = try? JSONParser.parse(Array(line)),
                  case .string(let stage)? = object["path"], case .string(let key)? = object["key"], case .string(let spec)? = object["spec"]
            else { continue }
            entries[stage] = (key, spec)
        }
        return entries
    }

    /// Writes the answers for the stages at `paths` (a temporary file renamed, so a reader
    /// never sees half a cache).
    static func save(_ entries: [String: (key: String, spec: String)], keeping paths: Set<String>) {
        guard let path, let slash = path.lastIndex(of: "/") else { return }
        let directory = String(path[..<slash])
        if let parent = directory.lastIndex(of: "/") { mkdir(String(directory[..<parent]), 0o700) }
        mkdir(directory, 0o700)
        var text = ""
        for (stage, entry) in entries.sorted(by: { $0.key < $1.key }) where paths.contains(stage) {
            let line = JSONValue.object(JSONObject([("path", .string(stage)), ("key", .string(entry.key)), ("spec", .string(entry.spec))]))
            text += JSONWriter.string(line) + "\n"
        }
        let temporary = path + ".\(getpid()).tmp"
        guard let descriptor = try? SystemIO.createForWriting(temporary) else { return }
        let written = (try? SystemIO.writeAll(descriptor, Array(text.utf8), name: temporary)) != nil
        let closed = (try? SystemIO.close(descriptor, name: temporary)) != nil
        if written && closed, (try? SystemIO.rename(temporary, to: path)) != nil { return }
        SystemIO.unlinkQuietly(temporary)
    }
}

/// The names close to a misspelled `name`: within two edits, or starting with it (`from`
/// for `from-csv` and `from-json`).
func similarNames(to name: String, among names: [String]) -> [String] {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() { current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))) }
            previous = current
        }
        return previous[b.count]
    }
    return names.filter { candidate in
        (name.count >= 2 && candidate.hasPrefix(name)) || distance(Array(name), Array(candidate)) <= min(2, max(1, name.count / 3))
    }
}

// MARK: What the front door does

/// Reports a usage error (status 2) with the usual hint.
func usageError(_ message: String) -> Never {
    SystemIO.printError("weir: \(message)\nTry 'weir --help' for more information.")
    SystemIO.exitNow(2)
}

/// Replaces the process with `path`, its `argv[0]` being `name`; status 126 if it cannot run.
func execute(_ path: String, name: String, arguments: [String]) -> Never {
    var argv: [UnsafeMutablePointer<CChar>?] = ([name] + arguments).map { strdup($0) } + [nil]
    execv(path, &argv)
    let code = errno
    SystemIO.printError("weir: cannot run \(path): \(SystemIO.errorMessage(code))")
    SystemIO.exitNow(126)
}

/// The stage `name`, or a usage error naming the closest ones.
func requireStage(_ name: String) -> FoundStage {
    if let stage = locateStage(name) { return stage }
    let similar = similarNames(to: name, among: findStages().map(\.name))
    let hint = similar.isEmpty ? "" : " (did you mean \(similar.prefix(3).map { "'\($0)'" }.joined(separator: " or "))?)"
    SystemIO.printError("weir: '\(name)' is not a weir stage\(hint)\nRun 'weir' for the list of stages.")
    SystemIO.exitNow(2)
}

/// `weir` and `weir --help`: the ways in, then every stage with its summary.
func printHelp() async {
    let stages = findStages()
    let descriptions = await describe(stages)
    var text = usageText() + "\n" + HelpRenderer.wrappedParagraphs(description) + "\n"
    if stages.isEmpty {
        text += "No stages found: no weir-* beside weir or on PATH.\n"
    } else {
        text += "Stages:\n"
        let width = min(stages.map(\.name.count).max()! + 2, 16)
        for (stage, description) in zip(stages, descriptions) {
            let summary = description?.summary ?? "(\(stage.path) did not describe itself: not a Weir stage?)"
            let name = "  " + stage.name
            text += (name.count + 1 > width + 2 ? name + "\n" + String(repeating: " ", count: width + 2) : name.padded(to: width + 2)) + summary + "\n"
        }
    }
    text += "\nRun 'weir help STAGE' for a stage's options and examples; see weir(1) and weir(7).\n"
    SystemIO.printOutput(text)
}

var arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil, "-h", "--help":
    if arguments.count > 1 { usageError("unexpected argument '\(arguments[1])'") }
    await printHelp()
case "--version":
    if arguments.count > 1 { usageError("unexpected argument '\(arguments[1])'") }
    SystemIO.printOutput("weir \(weirVersion)\n")
case "--man":
    SystemIO.printOutput(HelpRenderer.commandManPage(
        name: "weir", summary: "run a Weir stage by name, list the stages, show their help",
        synopsis: usages.map(\.synopsis), description: description, options: options,
        sections: manSections, seeAlso: ["weir(7)", "git(1)"]))
case "help":
    guard arguments.count > 1 else {
        await printHelp()
        SystemIO.exitNow(0)
    }
    if arguments.count > 2 { usageError("unexpected argument '\(arguments[2])' (weir help STAGE)") }
    let stage = requireStage(arguments[1])
    // On a terminal, the man page when it is installed (as git help does); else --help.
    if SystemIO.isTerminal(SystemIO.standardOutput), let man = ChildCommand(arguments: ["man"]).locateProgram() {
        let page = "weir-\(stage.name)"
        if let found = try? await ChildProcess.run(ChildCommand(arguments: [man, "-w", page]), input: [], timeout: 10), found.exit.isSuccess {
            execute(man, name: "man", arguments: [page])
        }
    }
    execute(stage.path, name: "weir-\(stage.name)", arguments: ["--help"])
case "completions":
    guard arguments.count > 1 else { usageError("missing SHELL (\(CompletionScripts.shells.joined(separator: ", ")))") }
    if arguments.count > 2 { usageError("unexpected argument '\(arguments[2])'") }
    let stages = findStages()
    let descriptions = await describe(stages).compactMap { $0 }
    guard let script = CompletionScripts.script(for: arguments[1], stages: descriptions) else {
        usageError("no completions for '\(arguments[1])' (\(CompletionScripts.shells.joined(separator: ", ")))")
    }
    SystemIO.printOutput(script)
case let first? where first.hasPrefix("-"):
    usageError("unknown option '\(first)'")
case let name?:
    let stage = requireStage(name)
    execute(stage.path, name: "weir-\(stage.name)", arguments: Array(arguments.dropFirst()))
}
SystemIO.exitNow(0)

extension String {
    /// The string padded with spaces to at least `width` characters.
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
