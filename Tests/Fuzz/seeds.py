#!/usr/bin/env python3
"""Makes a fuzz target's seed corpus and dictionary from the project's own material.

Usage (from bin/fuzz): seeds.py TARGET ROOT TESTDATA CORPUS-DIR DICTIONARY-DIR

Seeds come from Tests/cases/*/*/input, Tests/jq/*.test, the inputs the fuzzers found
(Tests/Fuzz/regressions/TARGET/*) and, when TESTDATA holds them, the JSONTestSuite,
csv-spectrum and jq test files. Each seed starts with the option bytes the
target reads first (see Tests/Fuzz/*Targets.swift), so every seed is a meaningful input.
"""
import glob
import hashlib
import json
import os
import sys

TARGET, ROOT, TESTDATA, CORPUS, DICTIONARIES = sys.argv[1:6]
MAX_SEED = 4096

JSON_TOKENS = ['{', '}', '[', ']', ':', ',', '"', '\\"', '\\\\', '\\u', '\\ud800', '\\udc00', 'true', 'false',
               'null', '-0', '1e', 'E+', '.5', '1e400', '-', '0x', '\x00', '\ufeff', '\x7f',
               '\U0010ffff', '\u00e9', '\r\n', '\t']
JQ_TOKENS = ['.', '..', '|', ',', '//', '//=', '|=', '+=', '-=', '*=', '/=', '%=', '=', '==', '!=', '<=', '>=',
             '?', '?//', '[]', '.[]', '.[0]', '.[1:2]', '$__loc__', '$x', 'as $x', 'as [$a, $b]', 'as {a: $a}',
             '"\\(', ')"', '@base64', '@base64d', '@csv', '@tsv', '@html', '@uri', '@sh', '@json', '@text',
             'def f: ', 'def f(g): ', 'reduce', 'foreach', 'if', 'then', 'elif', 'else', 'end', 'try', 'catch',
             'label $out', 'break $out', 'and', 'or', 'not', 'empty', 'error', 'null', 'true', 'false',
             'range(', 'limit(', 'first(', 'last(', 'nth(', 'until(', 'while(', 'repeat(', 'recurse',
             'path(', 'paths', 'getpath(', 'setpath(', 'delpaths(', 'del(', 'to_entries', 'from_entries',
             'with_entries(', 'select(', 'map(', 'map_values(', 'add', 'any', 'all', 'flatten', 'group_by(',
             'unique_by(', 'sort_by(', 'min_by(', 'max_by(', 'keys', 'has(', 'in(', 'inside(', 'contains(',
             'test(', 'match(', 'capture(', 'scan(', 'split(', 'splits(', 'sub(', 'gsub(', 'ascii_downcase',
             'ltrimstr(', 'rtrimstr(', 'startswith(', 'endswith(', 'explode', 'implode', 'tostring', 'tonumber',
             'tojson', 'fromjson', 'todate', 'fromdate', 'strftime(', 'strptime(', 'mktime', 'gmtime', 'now',
             'tostream', 'fromstream(', 'truncate_stream(', 'getpath', 'combinations', 'walk(', 'env', '$ENV',
             'input_filename', 'splits', 'ltrimstr', 'indices(', 'index(', 'rindex(', 'join(', 'ascii',
             'infinite', 'nan', 'isnan', 'isinfinite', 'isnormal', 'floor', 'sqrt', 'pow(', 'log', 'exp10',
             'significand', 'frexp', 'ldexp(', 'tojson', 'getpath', 'pick(', 'abs', 'toarray', 'have_decnum',
             'limit(3;', '1e1000', '-1e1000', '1e-300', '5e8', '12345678901234567890', '{"a":1}', '[1,[2]]']


def seed_name(data):
    return hashlib.sha1(data).hexdigest()[:16]


seeds = []


def add(data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogatepass')
    if 0 < len(data) <= MAX_SEED:
        seeds.append(data)


def case_inputs(stages):
    files = []
    for stage in stages:
        files += sorted(glob.glob(os.path.join(ROOT, 'Tests/cases', stage, '*', 'input')))
        files += sorted(glob.glob(os.path.join(ROOT, 'Tests/cases', stage, '*', '*.ndjson')))
        files += sorted(glob.glob(os.path.join(ROOT, 'Tests/cases', stage, '*', '*.csv')))
        files += sorted(glob.glob(os.path.join(ROOT, 'Tests/cases', stage, '*', '*.json')))
    return [open(path, 'rb').read() for path in files]


def testdata(pattern):
    return [open(path, 'rb').read() for path in sorted(glob.glob(os.path.join(TESTDATA, pattern)))]


def jq_cases():
    """(program, input) pairs from the project's and jq's .test files."""
    paths = sorted(glob.glob(os.path.join(ROOT, 'Tests/jq/*.test'))) + sorted(glob.glob(os.path.join(TESTDATA, 'jq/*.test')))
    for path in paths:
        lines = open(path, encoding='utf-8', errors='replace').read().split('\n')
        index = 0
        while index < len(lines):
            line = lines[index]
            if not line.strip() or line.startswith('#'):
                index += 1
                continue
            if line.startswith('%%FAIL'):
                if index + 1 < len(lines):
                    yield lines[index + 1], None
                index += 2
            else:
                yield line, lines[index + 1] if index + 1 < len(lines) else 'null'
                index += 2
            while index < len(lines) and lines[index].strip():
                index += 1


def json_texts():
    texts = testdata('JSONTestSuite/test_parsing/*.json') + testdata('JSONTestSuite/test_transform/*.json')
    for data in case_inputs(['cat', 'from-json', 'filter', 'map', 'to-csv', 'to-json', 'sort', 'uniq', 'stats']):
        texts += [line for line in data.split(b'\n') if line.strip()]
    return texts


def csv_texts():
    texts = testdata('csv-spectrum/csvs/*.csv') + case_inputs(['from-csv', 'join'])
    texts += [b'a,b\n1,2\n', b'"a""b",c\r\n"x\ny",\r\n', b'x\r\r\n\n"', b'a;b\n"1;2";3\n']
    return texts


if TARGET == 'json':
    for text in json_texts():
        add(text)
elif TARGET == 'json-splitter':
    texts = testdata('JSONTestSuite/test_parsing/y_*.json') + case_inputs(['from-json', 'cat'])
    for index, text in enumerate(texts):
        add(bytes([(index % 8) << 1 | (index // 8) % 2, index % 32]) + text)
elif TARGET == 'csv-framer':
    for index, text in enumerate(csv_texts()):
        add(bytes([index % 5, index % 256]) + text)
elif TARGET == 'csv-transcode':
    for index, text in enumerate(csv_texts()):
        add(bytes([index % 5, (index * 37) % 256, index % 8]) + text)
elif TARGET == 'csv-encoding':
    # byte 0: encoding index (utf-8, latin1, windows-1252, utf-16, utf-16le, utf-16be) and piece size
    for index, text in enumerate(csv_texts()):
        string = text.decode('utf-8', 'replace')
        add(bytes([0]) + text)
        add(bytes([1 | (index % 32) << 3]) + string.encode('latin-1', 'replace'))
        add(bytes([2 | (index % 32) << 3]) + string.encode('cp1252', 'replace'))
        add(bytes([3]) + string.encode('utf-16'))
        add(bytes([4 | (index % 32) << 3]) + string.encode('utf-16-le'))
        add(bytes([5 | (index % 32) << 3]) + string.encode('utf-16-be'))
elif TARGET == 'csv-roundtrip':
    for index, path in enumerate(sorted(glob.glob(os.path.join(TESTDATA, 'csv-spectrum/json/*.json')))):
        try:
            rows = json.load(open(path, encoding='utf-8'))
        except ValueError:
            continue
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            continue
        table = [list(rows[0].keys())] + [[str(value) for value in row.values()] for row in rows] if rows else [[]]
        add(bytes([index % 64]) + b'\xfe'.join(b'\xff'.join(field.encode() for field in row) for row in table))
    add(bytes([0]) + b'a\xffb\xfe\xff\xfe"x"\xff\n\xfe ')
elif TARGET == 'flatten':
    for index, data in enumerate(case_inputs(['to-csv', 'cat', 'from-json', 'map'])):
        add(bytes([index % 128, 0x80 if index % 3 else index % 4]) + data)
    add(bytes([0, 0x80]) + b'{"a":{"b":1},"c":[1]}\n{"a":null,"c":"x,y"}\n{"a":{"b":"\\n"}}\n')
elif TARGET == 'expression-parse':
    for program, _ in jq_cases():
        add(program)
elif TARGET == 'evaluate':
    for program, input_text in jq_cases():
        if input_text is not None:
            data = (program + '\0' + input_text).encode('utf-8', 'surrogatepass')
            if len(data) <= 256:
                add(data)
else:
    sys.exit('seeds.py: unknown target ' + TARGET)

# Every input a fuzz run found (Tests/Fuzz/regressions/TARGET/*) is a seed too, so each run
# replays them first.
for path in sorted(glob.glob(os.path.join(ROOT, 'Tests/Fuzz/regressions', TARGET, '*'))):
    seeds.append(open(path, 'rb').read())

os.makedirs(CORPUS, exist_ok=True)
for data in seeds:
    with open(os.path.join(CORPUS, seed_name(data)), 'wb') as handle:
        handle.write(data)

os.makedirs(DICTIONARIES, exist_ok=True)
tokens = {'json': JSON_TOKENS, 'json-splitter': JSON_TOKENS, 'flatten': JSON_TOKENS + ['\n{', '"a.b"', '{"a":{'],
          'expression-parse': JQ_TOKENS, 'evaluate': JQ_TOKENS + ['\x00', '\x00{"a":', '\x00[1,2,3]', '\x00"abc"']}
if TARGET in tokens:
    with open(os.path.join(DICTIONARIES, TARGET + '.dict'), 'w', encoding='utf-8') as handle:
        for token in tokens[TARGET]:
            # libFuzzer's dictionary syntax: "..." with \\, \" and \xNN escapes.
            escaped = ''.join('\\\\' if byte == 0x5C else '\\"' if byte == 0x22 else chr(byte) if 0x20 <= byte < 0x7F
                              else '\\x%02x' % byte for byte in token.encode('utf-8'))
            handle.write('"%s"\n' % escaped)
print('seeds.py: %d seeds for %s in %s' % (len(set(seeds)), TARGET, CORPUS), file=sys.stderr)
