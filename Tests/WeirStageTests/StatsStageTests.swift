import Foundation
import Testing

/// `weir-stats` end to end: against Python's exact arithmetic (`fractions`, `decimal`,
/// `statistics`) always, against jq's `group_by` when jq is installed, partial states merged
/// after k-way splits, `-j 1` against `-j 4`, and type mixes under each `--errors` mode.
@Suite struct StatsStageTests {
    /// Every aggregate, over a field of decimals, big integers, nulls and missing values.
    static let allAggregates = "count sum:.price mean:.price min:.price max:.price var:.price stddev:.price first:.price last:.price "
        + "distinct:.user approx-distinct:.user p50:.price p90:.price p99:.price 'quantile(0.95):.price' mode:.user collect:.id sum:.big "
        + "min:.mixed max:.mixed 'sum:.big as big_total' mean:.big"

    /// Deterministic records: keys of several types (1 and 1.0 are one group), prices as
    /// decimal literals, integers beyond 2^64, users with repeats, a field of mixed types.
    static func generate(_ count: Int, seed: Int = 7, path: String) throws {
        let script = #"""
        import json, random, sys
        count, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
        rnd = random.Random(seed)
        keys = ['"a"', '"b"', '"caf\\u00e9"', '1', '1.0', 'null', 'true', '[1,"x"]', '{"z":1,"a":2}', '{"a":2,"z":1}', '12345678901234567890123']
        mixed = ['null', 'false', 'true', '0', '-3.5', '"x"', '"A"', '[]', '[1]', '{}', '{"a":1}', '1e2', '100']
        with open(path, "w") as out:
            for i in range(count):
                k = keys[rnd.randrange(len(keys))] if rnd.random() < 0.9 else keys[0]
                fields = ['"id":%d' % i, '"k":%s' % k]
                r = rnd.random()
                if r < 0.05:
                    fields.append('"price":null')
                elif r < 0.08:
                    pass
                else:
                    cents = rnd.randrange(-5000, 200000)
                    text = "%s%d.%02d" % ("-" if cents < 0 else "", abs(cents) // 100, abs(cents) % 100)
                    if rnd.random() < 0.1: text = str(rnd.randrange(0, 1000))
                    if rnd.random() < 0.05: text = "%de-2" % rnd.randrange(0, 100000)
                    fields.append('"price":' + text)
                fields.append('"big":%d' % (rnd.randrange(10**20, 10**24) * (1 if rnd.random() < 0.8 else -1)))
                fields.append('"user":"u%d"' % int(rnd.paretovariate(1.2) * 10))
                fields.append('"mixed":' + mixed[rnd.randrange(len(mixed))])
                out.write("{" + ",".join(fields) + "}\n")
        """#
        let result = try StageHarness.shell("python3 - \(count) \(seed) '\(path)' <<'PY'\n\(script)\nPY")
        try #require(result.status == 0, "\(result.stderr)")
    }

    /// Python's answer for ``allAggregates``, compared value by value with weir-stats' output.
    static let pythonCheck = #"""
        import json, math, statistics, sys
        from decimal import Decimal, getcontext
        from fractions import Fraction
        from collections import Counter
        getcontext().prec = 200
        data_path, out_path, max_collect = sys.argv[1], sys.argv[2], int(sys.argv[3])
        def canon(v):
            # GroupingKey: numbers by value (big integers exact), object keys sorted.
            if isinstance(v, bool) or v is None: return json.dumps(v)
            if isinstance(v, (int, Decimal)):
                d = Decimal(v)
                if d == d.to_integral_value() and abs(d) < 2**53: return str(int(d))
                if isinstance(v, int): return str(v)
                return repr(float(d))
            if isinstance(v, str): return json.dumps(v, ensure_ascii=False)
            if isinstance(v, list): return "[" + ",".join(canon(x) for x in v) + "]"
            return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canon(v[k]) for k in sorted(v)) + "}"
        rows = [json.loads(l, parse_float=Decimal) for l in open(data_path, encoding="utf-8")]
        groups, order = {}, []
        for r in rows:
            key = canon(r["k"])
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(r)
        outs = [json.loads(l, parse_float=Decimal) for l in open(out_path, encoding="utf-8")]
        problems = []
        def check(name, got, want, key):
            if got != want: problems.append("%s %s: got %r want %r" % (key, name, got, want))
        def close(name, got, want, key, rel):
            if want is None or got is None:
                check(name, got, want, key)
            elif not math.isclose(float(got), want, rel_tol=rel, abs_tol=1e-300):
                problems.append("%s %s: got %r want %r" % (key, name, got, want))
        def rank(v):  # jq's order of types
            if v is None: return (0,)
            if v is False: return (1,)
            if v is True: return (2,)
            if isinstance(v, (int, Decimal)): return (3, Decimal(v))
            if isinstance(v, str): return (4, v.encode("utf-8"))
            if isinstance(v, list): return (5, [rank(x) for x in v])
            return (6, sorted(v), [rank(v[k]) for k in sorted(v)])
        if len(outs) != len(order): problems.append("groups: got %d want %d" % (len(outs), len(order)))
        for out, key in zip(outs, order):
            rs = groups[key]
            check("k", canon(out["k"]), key, key)
            prices = [r["price"] for r in rs if r.get("price") is not None]
            exact = [Fraction(p) for p in prices]
            check("count", out["count"], len(rs), key)
            check("sum_price", Decimal(out["sum_price"]), sum((Decimal(p) for p in prices), Decimal(0)), key)
            n = len(exact)
            check("mean_price", None if out["mean_price"] is None else float(out["mean_price"]), float(sum(exact) / n) if n else None, key)
            if n > 1:
                mean = sum(exact) / n
                var = sum((x - mean) ** 2 for x in exact) / (n - 1)
                close("var_price", out["var_price"], float(var), key, 1e-15)
                close("stddev_price", out["stddev_price"], math.sqrt(float(var)), key, 1e-15)
            check("min_price", out["min_price"], min(prices) if prices else None, key)
            check("max_price", out["max_price"], max(prices) if prices else None, key)
            check("first_price", out["first_price"], rs[0].get("price"), key)
            check("last_price", out["last_price"], rs[-1].get("price"), key)
            users = [r["user"] for r in rs]
            check("distinct_user", out["distinct_user"], len(set(users)), key)
            exact_distinct = len(set(users))
            if abs(out["approx_distinct_user"] - exact_distinct) > max(2, 0.04 * exact_distinct):
                problems.append("%s approx_distinct_user: %r vs exact %r" % (key, out["approx_distinct_user"], exact_distinct))
            floats = sorted(float(p) for p in prices)
            if len(floats) >= 2:
                cuts = statistics.quantiles(floats, n=100, method="inclusive")
                for p in (50, 90, 99):
                    close("p%d_price" % p, out["p%d_price" % p], cuts[p - 1], key, 1e-12)
                h = Fraction(95, 100) * (len(floats) - 1)
                j = math.floor(h)
                want = floats[j] + (floats[min(j + 1, len(floats) - 1)] - floats[j]) * float(h - j)
                close("p95_price", out["p95_price"], want, key, 1e-12)
            counts = Counter(users)
            top = max(counts.values())
            check("mode_user", out["mode_user"], min(u for u in counts if counts[u] == top), key)
            check("collect_id", out["collect_id"], [r["id"] for r in rs][:max_collect], key)
            bigs = [r["big"] for r in rs]
            check("sum_big", int(out["sum_big"]), sum(bigs), key)
            check("big_total", int(out["big_total"]), sum(bigs), key)
            check("mean_big", float(out["mean_big"]), float(Fraction(sum(bigs), len(bigs))), key)
            mixed = [r["mixed"] for r in rs if r["mixed"] is not None]
            lo = min(mixed, key=rank) if mixed else None; hi = max(mixed, key=rank) if mixed else None
            check("min_mixed", rank(out["min_mixed"]), rank(lo), key)
            check("max_mixed", rank(out["max_mixed"]), rank(hi), key)
        print("\n".join(problems[:20]) if problems else "ok")
        """#

    @Test("every aggregate against Python's exact arithmetic, on 20k records of mixed types")
    func againstPython() throws {
        let directory = try StageHarness.temporaryDirectory()
        let data = directory.appendingPathComponent("data.ndjson").path
        let output = directory.appendingPathComponent("out.ndjson").path
        try Self.generate(20_000, path: data)
        let run = try StageHarness.shell("weir-stats --by .k --max-collect 50 \(Self.allAggregates) '\(data)' > '\(output)'")
        try #require(run.status == 0, "\(run.stderr)")
        let check = try StageHarness.shell("python3 - '\(data)' '\(output)' 50 <<'PY'\n\(Self.pythonCheck)\nPY")
        #expect(check.lines == ["ok"], "\(check.text)\(check.stderr)")
    }

    @Test("counts, sums, min and max against jq's group_by (skipped when jq is not installed)")
    func againstJQ() throws {
        let hasJQ = try StageHarness.shell("command -v jq").status == 0
        guard hasJQ else {
            print("StatsStageTests.againstJQ: SKIPPED (jq is not installed)")
            return
        }
        let directory = try StageHarness.temporaryDirectory()
        let data = directory.appendingPathComponent("data.ndjson").path
        try Self.generate(5_000, seed: 11, path: data)
        let jq = "jq -s -c 'map(select(.k | type == \"string\")) | group_by(.k) | map({k: .[0].k, count: length, sum_id: (map(.id) | add), "
            + "min_mixed: (map(.mixed | select(. != null)) | min), max_mixed: (map(.mixed | select(. != null)) | max), distinct_user: (map(.user) | unique | length), "
            + "first_id: .[0].id, last_id: .[-1].id, collect_user: map(.user)})[]' '\(data)'"
        let weir = "weir-filter '.k | type == \"string\"' '\(data)' | weir-stats --sort --max-collect 100000 --by .k count sum:.id min:.mixed max:.mixed distinct:.user first:.id last:.id collect:.user"
        let compare = "python3 -c 'import json, sys; a = [json.loads(l) for l in open(sys.argv[1])]; b = [json.loads(l) for l in open(sys.argv[2])]; print(\"same\" if a == b else \"differ\\n%s\\n%s\" % (a[:1], b[:1]))'"
        let result = try StageHarness.shell("\(compare) <(\(jq)) <(\(weir))")
        #expect(result.lines == ["same"], "\(result.text)\(result.stderr)")
    }

    /// Splits `data` into `parts` files by lines (contiguous) or by key (records of a key together, in order).
    static func split(_ data: String, parts: Int, byKey: Bool, into directory: URL) throws -> [String] {
        let paths = (0..<parts).map { directory.appendingPathComponent("part\(byKey ? "k" : "l")\($0).ndjson").path }
        let script = #"""
            import json, sys, zlib
            data, parts, by_key = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
            lines = open(data, encoding="utf-8").read().splitlines(True)
            outs = [open(p, "w", encoding="utf-8") for p in sys.argv[4:]]
            for i, line in enumerate(lines):
                if by_key:
                    # Keys equal as jq's == (1 and 1.0) must go to the same part.
                    def canonical(v):
                        if isinstance(v, bool) or v is None or isinstance(v, str): return v
                        if isinstance(v, (int, float)): return float(v)
                        if isinstance(v, list): return [canonical(x) for x in v]
                        return {k: canonical(x) for k, x in v.items()}
                    key = json.dumps(canonical(json.loads(line)["k"]), sort_keys=True)
                    outs[zlib.crc32(key.encode()) % parts].write(line)
                else:
                    outs[i * parts // len(lines)].write(line)
            """#
        let quoted = paths.map { "'\($0)'" }.joined(separator: " ")
        let result = try StageHarness.shell("python3 - '\(data)' \(parts) \(byKey ? 1 : 0) \(quoted) <<'PY'\n\(script)\nPY")
        try #require(result.status == 0, "\(result.stderr)")
        return paths
    }

    @Test("k-way splits by lines and by key: --partial then --merge equals one run, for every aggregate",
          arguments: [(3, false, false), (5, false, true), (4, true, false), (2, true, true)])
    func partialMergeEquivalence(parts: Int, byKey: Bool, approx: Bool) throws {
        let directory = try StageHarness.temporaryDirectory()
        let data = directory.appendingPathComponent("data.ndjson").path
        try Self.generate(12_000, seed: 3, path: data)
        let options = "--by .k \(approx ? "--approx " : "")\(Self.allAggregates)"
        let single = try StageHarness.shell("weir-stats \(options) '\(data)'")
        try #require(single.status == 0, "\(single.stderr)")
        let files = try Self.split(data, parts: parts, byKey: byKey, into: directory)
        var partials: [String] = []
        for (index, file) in files.enumerated() {
            let partial = directory.appendingPathComponent("partial\(index).ndjson").path
            let result = try StageHarness.shell("weir-stats --partial \(options) '\(file)' > '\(partial)'")
            try #require(result.status == 0, "\(result.stderr)")
            partials.append(partial)
        }
        let quoted = partials.map { "'\($0)'" }.joined(separator: " ")
        // By key, each group lives in one part: group order then follows the part files, so sort.
        let sort = byKey ? " --sort" : ""
        let reference = byKey ? try StageHarness.shell("weir-stats --sort \(options) '\(data)'") : single
        let merged = try StageHarness.shell("weir-stats --merge\(sort) \(options) \(quoted)")
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.text == reference.text, "merged partials differ from one run")
        // A combiner: the first two merged into a partial, then merged with the rest.
        let combined = directory.appendingPathComponent("combined.ndjson").path
        let first = try StageHarness.shell("weir-stats --merge --partial \(options) '\(partials[0])' '\(partials[1])' > '\(combined)'")
        try #require(first.status == 0, "\(first.stderr)")
        let rest = partials.dropFirst(2).map { "'\($0)'" }.joined(separator: " ")
        let staged = try StageHarness.shell("weir-stats --merge\(sort) \(options) '\(combined)' \(rest)")
        #expect(staged.text == reference.text, "a combiner's output merged differs from one run")
    }

    @Test("order-free aggregates merge the same in any order of the partial files")
    func mergeOrderDoesNotMatter() throws {
        let directory = try StageHarness.temporaryDirectory()
        let data = directory.appendingPathComponent("data.ndjson").path
        try Self.generate(6_000, seed: 5, path: data)
        let options = "--sort --by .k count sum:.price mean:.price min:.price max:.price var:.price stddev:.price distinct:.user approx-distinct:.user p50:.price p90:.price mode:.user sum:.big min:.mixed max:.mixed"
        let files = try Self.split(data, parts: 3, byKey: false, into: directory)
        for (index, file) in files.enumerated() {
            let result = try StageHarness.shell("weir-stats --partial \(options) '\(file)' > '\(directory.path)/partial\(index).ndjson'")
            try #require(result.status == 0, "\(result.stderr)")
        }
        let single = try StageHarness.shell("weir-stats \(options) '\(data)'")
        let forward = try StageHarness.shell("cd '\(directory.path)' && weir-stats --merge \(options) partial0.ndjson partial1.ndjson partial2.ndjson")
        let backward = try StageHarness.shell("cd '\(directory.path)' && cat partial2.ndjson partial0.ndjson partial1.ndjson | weir-stats --merge \(options)")
        #expect(forward.text == single.text)
        #expect(backward.text == single.text)
    }

    @Test("-j 1 and -j 4 give the same bytes (groups in first-seen order across workers)")
    func jobsDoNotChangeOutput() throws {
        let directory = try StageHarness.temporaryDirectory()
        let data = directory.appendingPathComponent("data.ndjson").path
        try Self.generate(30_000, seed: 9, path: data)
        for options in ["--by .k \(Self.allAggregates)", "--by .user --by .k count first:.id last:.id collect:.id", "--approx \(Self.allAggregates)"] {
            let one = try StageHarness.shell("weir-stats -j 1 \(options) '\(data)'")
            let four = try StageHarness.shell("weir-stats -j 4 \(options) '\(data)'")
            #expect(one.status == 0 && four.status == 0, "\(one.stderr)\(four.stderr)")
            #expect(one.text == four.text, "\(options)")
            #expect(!one.text.isEmpty)
        }
    }

    @Test("a non-number under each --errors mode, and --skip-non-numbers")
    func typeMixes() throws {
        let input = "{\"k\":\"a\",\"n\":1}\n{\"k\":\"a\",\"n\":\"2\"}\n{\"k\":\"b\",\"n\":null}\n{\"k\":\"a\",\"n\":3.5}\n{\"k\":\"b\",\"n\":[4]}\n{\"k\":\"b\",\"n\":4}\n"
        let fail = try StageHarness.shell("weir-stats --by .k count sum:.n", input: input)
        #expect(fail.status == 1)
        #expect(fail.stderr.hasPrefix("weir-stats: <stdin>:2: sum:.n: string (\"2\") is not a number"), "\(fail.stderr)")
        let skip = try StageHarness.shell("weir-stats --errors skip -q --by .k count sum:.n mean:.n", input: input)
        #expect(skip.status == 0)
        #expect(skip.lines == [#"{"k":"a","count":2,"sum_n":4.5,"mean_n":2.25}"#, #"{"k":"b","count":2,"sum_n":4,"mean_n":4}"#], "\(skip.text)")
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        let reject = try StageHarness.shell("weir-stats --reject '\(rejects)' --by .k count sum:.n --stats", input: input)
        #expect(reject.status == 0)
        #expect(reject.lines == skip.lines.map { $0.replacingOccurrences(of: #","mean_n":2.25"#, with: "").replacingOccurrences(of: #","mean_n":4"#, with: "") })
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(rejected.count == 2)
        let stats = StageHarness.stats(reject.stderr)
        #expect(stats["read"] == 6 && stats["rejected"] == 2 && stats["groups"] == 2, "\(reject.stderr)")
        let lenient = try StageHarness.shell("weir-stats --skip-non-numbers --by .k count sum:.n", input: input)
        #expect(lenient.lines == [#"{"k":"a","count":3,"sum_n":4.5}"#, #"{"k":"b","count":3,"sum_n":4}"#], "\(lenient.text)")
    }

    @Test("a partial made with other options is a usage error naming the file and line")
    func foreignPartial() throws {
        let directory = try StageHarness.temporaryDirectory()
        let partial = directory.appendingPathComponent("p.ndjson").path
        let made = try StageHarness.shell("weir-stats --partial --by .k sum:.n > '\(partial)'", input: "{\"k\":1,\"n\":2}\n")
        try #require(made.status == 0)
        let result = try StageHarness.shell("weir-stats --merge --by .k mean:.n '\(partial)'")
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("weir-stats: \(partial):1: partial state made with other options"), "\(result.stderr)")
    }

    @Test("exact decimals and big integers; memory reported by --stats")
    func exactness() throws {
        let input = "{\"x\":0.1}\n{\"x\":0.2}\n{\"x\":123456789012345678901234567890}\n{\"x\":-123456789012345678901234567890}\n{\"x\":1e-3}\n"
        let result = try StageHarness.shell("weir-stats sum:.x min:.x max:.x --stats", input: input)
        #expect(result.lines == [#"{"sum_x":0.301,"min_x":-123456789012345678901234567890,"max_x":123456789012345678901234567890}"#], "\(result.text)")
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["groups"] == 1 && (stats["state_bytes"] ?? 0) > 0, "\(result.stderr)")
    }
}
